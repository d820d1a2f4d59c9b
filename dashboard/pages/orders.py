"""The orders pages: the filtered, paged list, one order with its timeline, and the photos
of an order or activity; every one within the viewer's scope."""

from __future__ import annotations

import contextlib
import mimetypes
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from dashboard.web import (
    SETTINGS,
    Names,
    date_param,
    db_of,
    int_param,
    local,
    paging,
    render,
    viewer_of,
)
from models import (
    Activity,
    Assignment,
    Attachment,
    AttachmentKind,
    Order,
    OrderStatus,
    Rating,
    ServiceCategory,
    Team,
    User,
)
from services import orders, reports
from services.i18n import local_name
from services.maps import map_url
from services.orders.desk import ANSWERED
from services.orders.event_text import describe
from services.reports import STATUS_ORDER, status_name
from services.wording import hours_text

PAGE_SIZE = 25
MAX_QUERY = 64
STATUS_VALUES = frozenset(s.value for s in OrderStatus)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def order_list(request: web.Request) -> web.Response:
    v = viewer_of(request)
    _ = v.t
    db = db_of(request)
    settings = request.app[SETTINGS]
    names = await Names(v.locale).load(db)
    stations = await reports.stations_in(db, v.scope)
    status = request.query.get("status", "")
    station, team, category = (
        int_param(request, "station"),
        int_param(request, "team"),
        int_param(request, "category"),
    )
    first, last = date_param(request, "from"), date_param(request, "to")
    text = request.query.get("q", "").strip()[:MAX_QUERY]

    resident = aliased(User)
    conds = v.scope.where(Order.town_id, Order.station_id)
    if status in {s.value for s in OrderStatus}:
        conds.append(Order.status == OrderStatus(status))
    if station:
        conds.append(Order.station_id == station)
    if team:
        conds.append(Order.team_id == team)
    if category:
        conds.append(Order.category_id == category)
    with contextlib.suppress(ValueError):  # an impossible date is no filter
        if first:
            conds.append(Order.created_at >= reports.custom_period(first, first, settings.tz).start)
        if last:
            conds.append(Order.created_at < reports.custom_period(last, last, settings.tz).end)
    if text:
        pattern = _like(text)
        conds.append(
            or_(
                Order.number.ilike(pattern, escape="\\"),
                Order.description.ilike(pattern, escape="\\"),
                Order.address.ilike(pattern, escape="\\"),
                Order.contact_name.ilike(pattern, escape="\\"),
                resident.name.ilike(pattern, escape="\\"),
            )
        )
    base = select(Order.id).join(resident, resident.id == Order.resident_id).where(*conds)
    total = int(await db.scalar(select(func.count()).select_from(base.subquery())) or 0)
    page, pages = paging(request, total, PAGE_SIZE)
    rows = await db.execute(
        select(Order, resident.name, Rating.score, orders.answered_flag())
        .join(resident, resident.id == Order.resident_id)
        .outerjoin(Rating, Rating.order_id == Order.id)
        .where(*conds)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    items = [
        {
            "id": o.id,
            "number": o.number,
            "created": local(o.created_at, request),
            "station": names.stations.get(o.station_id, ""),
            "category": names.categories.get(o.category_id, ""),
            "team": names.teams.get(o.team_id, "") if o.team_id else _("The institute office"),
            "status": status_name(o.status, v.locale, answered=answered),
            "status_key": o.status.value,
            "resident": o.contact_name or resident_name or "",
            "description": o.description,
            "score": score,
            "escalated": o.escalated,
        }
        for o, resident_name, score, answered in rows
    ]
    teams = await db.scalars(
        select(Team)
        .where(
            Team.active.is_(True),
            *([] if v.scope.town_ids is None else [Team.town_id.in_(v.scope.town_ids)]),
        )
        .order_by(Team.kind, Team.sort, Team.id)
    )
    categories = await db.scalars(
        select(ServiceCategory)
        .where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort)
    )
    filters = {
        k: request.query.get(k, "")
        for k in ("status", "station", "team", "category", "from", "to", "q")
    }
    keep = {k: val for k, val in filters.items() if val}
    return render(
        request,
        "orders.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        prev_url=f"/orders?{urlencode({**keep, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/orders?{urlencode({**keep, 'page': page + 1})}" if page < pages else None,
        statuses=[(s.value, status_name(s, v.locale)) for s in STATUS_ORDER],
        stations=[(s.id, local_name(s, v.locale)) for s in stations],
        teams=[(t.id, local_name(t, v.locale)) for t in teams],
        categories=[(c.id, local_name(c, v.locale)) for c in categories],
    )


async def _order_in_scope(request: web.Request, order_id: int) -> Order:
    order = await db_of(request).get(Order, order_id)
    v = viewer_of(request)
    # The same answer for "no such order" and "not yours": nothing leaks by guessing ids.
    if order is None or not v.scope.allows(order.town_id, order.station_id):
        raise web.HTTPNotFound()
    return order


async def order_page(request: web.Request) -> web.Response:
    v = viewer_of(request)
    _ = v.t
    db = db_of(request)
    order = await _order_in_scope(request, int(request.match_info["order_id"]))
    names = await Names(v.locale).load(db)
    resident = await db.get(User, order.resident_id)
    history = await orders.history(db, order.id, v.user, v.roles)
    team_names = {t.name_zh: local_name(t, v.locale) for t in await db.scalars(select(Team))}
    tz = request.app[SETTINGS].tz
    timeline = []
    for line in history:
        said = describe(
            line.kind,
            line.note,
            v.locale,
            tz,
            team_name=lambda zh: team_names.get(zh, zh),
        )
        status = ""
        if line.to_status in STATUS_VALUES and line.to_status != line.from_status:
            status = status_name(line.to_status, v.locale, answered=line.kind == ANSWERED)
        timeline.append(
            {
                "at": local(line.at, request),
                "kind": line.kind,
                "what": said.what,
                "status": "" if status == said.what else status,  # said once is enough
                "who": line.actor_name or _("System"),
                "team": (line.team_name_en if v.locale == "en" else line.team_name_zh) or "",
                "note": said.detail,
            }
        )
    photos = list(
        await db.scalars(
            select(Attachment)
            .where(Attachment.order_id == order.id, Attachment.kind == AttachmentKind.PHOTO)
            .order_by(Attachment.id)
        )
    )
    volunteer = aliased(User)
    assignments = [
        {
            "name": orders.display_name(u),
            "status": a.status.value,
            "hours": "" if a.hours is None else hours_text(a.hours, v.locale),
            "confirmed": a.confirmed,
        }
        for a, u in await db.execute(
            select(Assignment, volunteer)
            .join(volunteer, volunteer.id == Assignment.volunteer_id)
            .where(Assignment.order_id == order.id)
            .order_by(Assignment.id)
        )
    ]
    rating = await db.scalar(select(Rating).where(Rating.order_id == order.id))
    answered = await orders.answered(db, order)
    facts = [
        (_("Status"), status_name(order.status, v.locale, answered=answered)),
        (_("Village"), names.stations.get(order.station_id, "")),
        (_("Service"), names.categories.get(order.category_id, "")),
        (
            _("Team"),
            names.teams.get(order.team_id, "") if order.team_id else _("The institute office"),
        ),
        (_("Resident"), order.contact_name or orders.display_name(resident)),
        (_("Placed"), local(order.created_at, request)),
        (_("Accepted"), local(order.accepted_at, request)),
        (_("Done"), local(order.done_at, request)),
        (_("Address"), order.address or ""),
        (
            _("Time slot"),
            f"{local(order.slot_start, request)} – {local(order.slot_end, request)[-5:]}"
            if order.slot_start and order.slot_end
            else "",
        ),
    ]
    return render(
        request,
        "order.html",
        order=order,
        facts=[(k, val) for k, val in facts if val],
        escalated=order.escalated,
        description=order.description,
        completion_note=order.completion_note or "",
        timeline=timeline,
        photos=[p.id for p in photos],
        map_url=map_url(order.latitude, order.longitude),
        assignments=assignments,
        rating=rating,
    )


async def media(request: web.Request) -> web.StreamResponse:
    """A photo of an order or activity the viewer may see; 404 for anything else."""
    v = viewer_of(request)
    db = db_of(request)
    att = await db.get(Attachment, int(request.match_info["attachment_id"]))
    if att is None or att.kind != AttachmentKind.PHOTO:
        raise web.HTTPNotFound()
    if att.order_id is not None:
        await _order_in_scope(request, att.order_id)
    elif att.activity_id is not None:
        activity = await db.get(Activity, att.activity_id)
        if activity is None or not v.scope.allows(activity.town_id, activity.station_id):
            raise web.HTTPNotFound()
    else:
        raise web.HTTPNotFound()
    root = request.app[SETTINGS].media_dir.resolve()
    path = (root / (att.local_path or "")).resolve() if att.local_path else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise web.HTTPNotFound()
    kind = mimetypes.guess_type(path.name)[0] or "image/jpeg"
    return web.FileResponse(
        path, headers={"Content-Type": kind, "Cache-Control": "private, max-age=3600"}
    )
