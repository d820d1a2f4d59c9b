"""The office dashboard: an aiohttp app with server-rendered Jinja2 pages, no build step.

Sign-in is by a one-time link from the bot (`/login/{token}`, see services/weblogin.py), then
a signed cookie (dashboard/auth.py). Every request re-reads the user's roles, so the scope —
the whole town for office staff, the village for a station head — is enforced on the server
for every page, chart, order, photo and export.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import jinja2
from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.settings import Settings
from dashboard import auth
from models import (
    Activity,
    Assignment,
    Attachment,
    AttachmentKind,
    Order,
    OrderStatus,
    Rating,
    Region,
    ServiceCategory,
    Team,
    User,
)
from services import archive, charts, orders, reports, weblogin
from services.i18n import LOCALES, N_, gettext, local_name
from services.maps import map_url
from services.orders.event_text import describe, local_time
from services.org import Policy
from services.people import Roles
from services.reports import STATUS_ORDER, Period, Scope, status_name
from services.scorecard import COMPONENTS, StationScore, build_scorecard

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 25
# Charts shown side by side get the same height (in bars).
CHART_ROWS = {"stations": 10, "categories": 10, "status": 6, "ratings": 6}
MAX_QUERY = 64
STATUS_VALUES = frozenset(s.value for s in OrderStatus)
PUBLIC = ("/login/", "/static/", "/signed-out", "/healthz")

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
POLICY = web.AppKey("policy", Policy)
SECRET = web.AppKey("secret", bytes)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
DB = web.RequestKey("db", AsyncSession)
VIEWER: web.RequestKey[Viewer] = web.RequestKey("viewer")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Viewer:
    user: User
    roles: Roles
    scope: Scope
    locale: str
    place: str  # what the scope covers: the town(s) or the village(s)
    role_label: str

    def t(self, msgid: str, **params: object) -> str:
        return gettext(msgid, self.locale, **params)


# --- plumbing ---------------------------------------------------------------------------


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    viewer: Viewer | None = request.get(VIEWER)
    settings = request.app[SETTINGS]
    loc = viewer.locale if viewer else _guess_locale(request, settings)

    def _(msgid: str, **params: object) -> str:
        return gettext(msgid, loc, **params)

    css = str(request.app.router["static"].url_for(filename="dashboard.css"))
    page = request.app[TEMPLATES].get_template(template)
    html = page.render(_=_, viewer=viewer, locale=loc, path=request.path, css=css, **context)
    return web.Response(text=html, content_type="text/html", status=status)


def _guess_locale(request: web.Request, settings: Settings) -> str:
    accept = request.headers.get("Accept-Language", "").lower()
    if accept.startswith("en"):
        return "en"
    if accept.startswith("zh"):
        return "zh_CN"
    return settings.default_locale


def _error(request: web.Request, status: int, msgid: str) -> web.Response:
    return render(request, "message.html", status=status, message=msgid)


# What a refusal says, in the dashboard's layout and the reader's language. A missing page
# and another village's order get the same words: nothing leaks by guessing ids.
REFUSALS = {
    403: N_("You may not open this page."),
    404: N_("There is nothing here: the page does not exist, or it is not yours to see."),
    405: N_("There is nothing here: the page does not exist, or it is not yours to see."),
}


async def _refusal_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status not in REFUSALS:
            raise
        return _error(request, exc.status, REFUSALS[exc.status])


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(exc.headers)
        raise
    if not response.prepared:
        if request.path.startswith("/static/"):  # versioned URLs: safe to keep
            response.headers["Cache-Control"] = "public, max-age=86400"
        _secure(response.headers)
    return response


def _secure(h: Any) -> None:
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")  # the sign-in link never leaves
    h.setdefault("Cache-Control", "no-store")


@web.middleware
async def session_and_viewer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One database session per request; outside the public paths, the signed-in viewer."""
    async with request.app[SESSIONMAKER]() as db:
        request[DB] = db
        if request.method == "POST" and not _same_origin(request):
            return _error(request, 403, N_("This request came from another site."))
        if request.path.startswith(PUBLIC):
            return await _refusal_page(request, handler)
        viewer = await _viewer(request, db)
        if viewer is None:
            return render(request, "signed_out.html", status=401, expired=True)
        request[VIEWER] = viewer
        return await _refusal_page(request, handler)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _viewer(request: web.Request, db: AsyncSession) -> Viewer | None:
    settings = request.app[SETTINGS]
    cookie = auth.verify(request.app[SECRET], request.cookies.get(auth.COOKIE))
    if cookie is None:
        return None
    found = await weblogin.viewer(db, cookie.user_id, frozenset(settings.admin_ids), cookie.epoch)
    if found is None:
        return None
    user, roles, scope = found
    loc = user.locale if user.locale in LOCALES else settings.default_locale
    if scope.station_ids is not None:
        regions = await reports.stations_in(db, scope)
        role = N_("Station head")
    else:
        regions = await reports.towns_of(db, scope)
        role = N_("Administrator") if roles.admin else N_("Office staff")
    place = "、".join(local_name(r, loc) for r in regions) or "—"
    return Viewer(user, roles, scope, loc, place, gettext(role, loc))


def _viewer_of(request: web.Request) -> Viewer:
    return request[VIEWER]


def _db(request: web.Request) -> AsyncSession:
    return request[DB]


def _local(value: datetime | None, request: web.Request) -> str:
    return "" if value is None else local_time(value, request.app[SETTINGS].tz)


def _date_param(request: web.Request, name: str) -> date | None:
    text = request.query.get(name, "").strip()
    if not text:
        return None
    try:
        return reports.parse_date(text)
    except ValueError:
        return None


def _period(request: web.Request) -> Period:
    """The period of a page: `from`/`to` dates, else `p` = w, m or y; this month by default."""
    tz = request.app[SETTINGS].tz
    first, last = _date_param(request, "from"), _date_param(request, "to")
    if first and last:
        try:
            return reports.custom_period(min(first, last), max(first, last), tz)
        except ValueError:
            pass
    kind = request.query.get("p", "m")
    return reports.current_period(kind if kind in ("w", "m", "y") else "m", tz)


def _period_query(period: Period) -> str:
    if period.kind == "c":
        return urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})
    return urlencode({"p": period.kind})


def _period_context(request: web.Request, period: Period) -> dict[str, Any]:
    v = _viewer_of(request)
    return {
        "period": period,
        "period_label": period.label(v.locale),
        "period_query": _period_query(period),
        "period_first": period.first.isoformat(),
        "period_last": period.last.isoformat(),
    }


class _Names:
    """Names of stations, teams and categories in the viewer's language, by id; a missing
    id (an order without a category yet) finds no name."""

    def __init__(self, loc: str) -> None:
        self.loc = loc
        self.stations: dict[int | None, str] = {}
        self.teams: dict[int | None, str] = {}
        self.categories: dict[int | None, str] = {}

    async def load(self, db: AsyncSession) -> _Names:
        self.stations = await _names(db, Region, self.loc)
        self.teams = await _names(db, Team, self.loc)
        self.categories = await _names(db, ServiceCategory, self.loc)
        return self


_Org = TypeVar("_Org", Region, Team, ServiceCategory)


async def _names(db: AsyncSession, model: type[_Org], loc: str) -> dict[int | None, str]:
    return {row.id: local_name(row, loc) for row in await db.scalars(select(model))}


# --- sign-in ----------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """Show a button rather than sign in on GET: link previews and mail scanners open links
    on their own, and must not spend the one use."""
    row = await weblogin.peek_link_token(_db(request), request.match_info["token"])
    if row is None:
        return render(request, "signed_out.html", status=403, expired=False)
    user = await _db(request).get(User, row.user_id)
    return render(request, "login.html", name=orders.display_name(user))


async def login(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    found = await weblogin.redeem_link_token(
        _db(request), request.match_info["token"], frozenset(settings.admin_ids)
    )
    if found is None:
        return render(request, "signed_out.html", status=403, expired=False)
    user, _roles = found
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        auth.COOKIE,
        auth.sign(request.app[SECRET], user.id, epoch=user.web_epoch),
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=request.app[SETTINGS].dashboard_public_url.startswith("https://"),
        path="/",
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    """Sign out on the server too: the cookie, and any copy of it, stops working."""
    await weblogin.sign_out(_db(request), _viewer_of(request).user.id)
    response = web.HTTPSeeOther("/signed-out")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


async def signed_out(request: web.Request) -> web.Response:
    return render(request, "signed_out.html", expired=False, bye=True)


async def set_language(request: web.Request) -> web.Response:
    form = await request.post()
    code = str(form.get("locale", ""))
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if code in LOCALES:
        user = await _db(request).get(User, _viewer_of(request).user.id)
        if user is not None:
            user.locale = code
            await _db(request).commit()
    raise web.HTTPSeeOther(target)


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


# --- pages ------------------------------------------------------------------------------


async def overview(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    _ = v.t
    db = _db(request)
    period = _period(request)
    report = await reports.build_report(db, v.scope, period)
    tables = await _scorecards(request, period)
    kpis = [
        (str(report.total), _("Orders"), ""),
        (reports.format_rate(report.completion_rate), _("Completion rate"), "red"),
        (
            reports.format_duration(report.accept_median, v.locale),
            _("Median time to accept"),
            "",
        ),
        (
            reports.format_duration(report.complete_median, v.locale),
            _("Median time to complete"),
            "",
        ),
        (
            "—" if report.rating_avg is None else f"{report.rating_avg:.2f}",
            _("Satisfaction (1–5)"),
            "gold",
        ),
        (reports.format_number(report.hours), _("Volunteer hours"), "blue"),
        (str(report.overdue), _("Overdue"), "warn" if report.overdue else ""),
        (str(report.escalated), _("Escalated"), "warn" if report.escalated else ""),
    ]
    details = [
        (_("90% accepted within"), reports.format_duration(report.accept_p90, v.locale)),
        (_("90% completed within"), reports.format_duration(report.complete_p90, v.locale)),
        (_("Number of ratings"), str(report.rating_count)),
        (_("Volunteers with hours"), str(report.volunteers)),
    ]
    breakdowns = [
        (_("By team"), [(c.name(v.locale), c.count) for c in report.by_team]),
        (_("By platform"), [(c.name(v.locale), c.count) for c in report.by_platform]),
    ]
    return render(
        request,
        "overview.html",
        kpis=kpis,
        details=details,
        breakdowns=breakdowns,
        charts=_chart_names(v.scope),
        scorecards=tables,
        components=[(key, v.t(label)) for key, label in COMPONENTS],
        **_period_context(request, period),
    )


def _chart_names(scope: Scope) -> list[str]:
    names = ["stations", "categories", "status", "ratings"]
    return names[1:] if scope.station_ids is not None else names


async def _scorecards(request: web.Request, period: Period) -> list[dict[str, Any]]:
    """The scorecard of each town in scope; a station head gets only their rows."""
    v = _viewer_of(request)
    out = []
    for town in await reports.towns_of(_db(request), v.scope):
        table = await build_scorecard(_db(request), town.id, period, request.app[POLICY])
        rows = [
            _score_row(s, v)
            for s in table
            if v.scope.station_ids is None or s.station_id in v.scope.station_ids
        ]
        out.append({"town": local_name(town, v.locale), "rows": rows, "of": len(table)})
    return out


def _score_row(s: StationScore, v: Viewer) -> dict[str, Any]:
    ranked = s.has_data and s.total is not None  # nothing happened there: no rank, no medal
    return {
        "rank": s.rank if ranked else None,
        "name": s.name(v.locale),
        "total": f"{s.total:.1f}" if ranked else "—",
        "total_value": (s.total or 0.0) if ranked else None,
        "scores": {k: ("—" if x is None else f"{x:.0f}") for k, x in s.scores.items()},
        "orders": s.orders,
        "completion": reports.format_rate(s.completion_rate),
        "accept": reports.format_duration(s.accept_median, v.locale),
        "rating": "—" if s.rating_avg is None else f"{s.rating_avg:.2f}",
        "activities": s.activities,
        "party": f"{s.party_active}/{s.party_members}",
        "hours": reports.format_number(s.hours),
        "records": f"{s.records_with_photo}/{s.records_done}",
    }


async def chart(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    _ = v.t
    name = request.match_info["name"]
    period = _period(request)
    db = _db(request)
    loc = v.locale
    if name == "scorecard":
        towns = await reports.towns_of(db, v.scope)
        if not towns or v.scope.station_ids is not None:
            raise web.HTTPNotFound()
        table = await build_scorecard(db, towns[0].id, period, request.app[POLICY])
        png = await asyncio.to_thread(charts.scorecard_chart, table, loc, _("Station scorecard"))
    else:
        report = await reports.build_report(db, v.scope, period)
        series = {
            "stations": (_("Orders by village"), report.by_station, charts.RED),
            "categories": (_("Orders by service"), report.by_category[:10], charts.BLUE),
            "status": (_("Orders by status"), report.by_status, charts.GREY),
        }
        if name == "ratings":
            labels = [f"{s}★" for s in range(5, 0, -1)]
            values = [report.ratings.get(s, 0) for s in range(5, 0, -1)]
            png = await asyncio.to_thread(
                charts.bar_chart,
                _("Ratings"),
                labels,
                values,
                color=charts.STAR,
                locale=loc,
                min_rows=CHART_ROWS[name],
            )
        elif name in series:
            title, counts, color = series[name]
            png = await asyncio.to_thread(
                charts.bar_chart,
                title,
                [c.name(loc) for c in counts],
                [c.count for c in counts],
                color=color,
                locale=loc,
                min_rows=CHART_ROWS[name],
            )
        else:
            raise web.HTTPNotFound()
    return web.Response(
        body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"}
    )


def _int(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def order_list(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    _ = v.t
    db = _db(request)
    settings = request.app[SETTINGS]
    names = await _Names(v.locale).load(db)
    stations = await reports.stations_in(db, v.scope)
    status = request.query.get("status", "")
    station, team, category = (
        _int(request, "station"),
        _int(request, "team"),
        _int(request, "category"),
    )
    first, last = _date_param(request, "from"), _date_param(request, "to")
    text = request.query.get("q", "").strip()[:MAX_QUERY]
    page = max(1, _int(request, "page") or 1)

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
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    page = min(page, pages)
    rows = await db.execute(
        select(Order, resident.name, Rating.score)
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
            "created": _local(o.created_at, request),
            "station": names.stations.get(o.station_id, ""),
            "category": names.categories.get(o.category_id, ""),
            "team": names.teams.get(o.team_id, "") if o.team_id else _("The institute office"),
            "status": status_name(o.status, v.locale),
            "status_key": o.status.value,
            "resident": o.contact_name or resident_name or "",
            "description": o.description,
            "score": score,
            "escalated": o.escalated,
        }
        for o, resident_name, score in rows
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
    order = await _db(request).get(Order, order_id)
    v = _viewer_of(request)
    # The same answer for "no such order" and "not yours": nothing leaks by guessing ids.
    if order is None or not v.scope.allows(order.town_id, order.station_id):
        raise web.HTTPNotFound()
    return order


async def order_page(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    _ = v.t
    db = _db(request)
    order = await _order_in_scope(request, int(request.match_info["order_id"]))
    names = await _Names(v.locale).load(db)
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
        timeline.append(
            {
                "at": _local(line.at, request),
                "kind": line.kind,
                "what": said.what,
                "status": status_name(line.to_status, v.locale)
                if line.to_status in STATUS_VALUES and line.to_status != line.from_status
                else "",
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
            "hours": "" if a.hours is None else reports.format_number(a.hours),
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
    facts = [
        (_("Status"), status_name(order.status, v.locale)),
        (_("Village"), names.stations.get(order.station_id, "")),
        (_("Service"), names.categories.get(order.category_id, "")),
        (
            _("Team"),
            names.teams.get(order.team_id, "") if order.team_id else _("The institute office"),
        ),
        (_("Resident"), order.contact_name or orders.display_name(resident)),
        (_("Placed"), _local(order.created_at, request)),
        (_("Accepted"), _local(order.accepted_at, request)),
        (_("Done"), _local(order.done_at, request)),
        (_("Address"), order.address or ""),
        (
            _("Time slot"),
            f"{_local(order.slot_start, request)} – {_local(order.slot_end, request)[-5:]}"
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
    v = _viewer_of(request)
    db = _db(request)
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


async def volunteers(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    db = _db(request)
    period = _period(request)
    names = await _Names(v.locale).load(db)
    rows = await reports.volunteer_rows(db, v.scope, period)
    year = reports.current_period("y", request.app[SETTINGS].tz)
    yearly = {r.user_id: r for r in await reports.volunteer_rows(db, v.scope, year)}
    target = request.app[POLICY].kpi.hours_per_year
    page = max(1, _int(request, "page") or 1)
    size = 100
    pages = max(1, (len(rows) + size - 1) // size)
    page = min(page, pages)
    items = [
        {
            "name": r.name,
            "station": names.stations.get(r.station_id, "") if r.station_id else "",
            "teams": "、".join(names.teams.get(t, "") for t in r.team_ids),
            "party": r.party_member,
            "hours": reports.format_number(r.hours),
            "points": reports.format_number(r.points),
            "orders": r.orders,
            "year_hours": reports.format_number(yearly[r.user_id].hours)
            if r.user_id in yearly
            else "0",
            "year_ok": r.user_id in yearly and float(yearly[r.user_id].hours) >= target,
        }
        for r in rows[(page - 1) * size : page * size]
    ]
    query = _period_query(period)
    return render(
        request,
        "volunteers.html",
        items=items,
        total=len(rows),
        target=f"{target:g}",
        page=page,
        pages=pages,
        prev_url=f"/volunteers?{query}&page={page - 1}" if page > 1 else None,
        next_url=f"/volunteers?{query}&page={page + 1}" if page < pages else None,
        **_period_context(request, period),
    )


async def scorecard(request: web.Request) -> web.Response:
    v = _viewer_of(request)
    period = _period(request)
    weights = request.app[POLICY].scorecard.model_dump()
    return render(
        request,
        "scorecard.html",
        scorecards=await _scorecards(request, period),
        components=[(key, v.t(label), f"{weights[key] * 100:g}%") for key, label in COMPONENTS],
        whole_town=v.scope.station_ids is None,
        **_period_context(request, period),
    )


async def exports(request: web.Request) -> web.Response:
    period = _period(request)
    return render(request, "exports.html", **_period_context(request, period))


async def export_file(request: web.Request) -> web.StreamResponse:
    v = _viewer_of(request)
    settings = request.app[SETTINGS]
    period = _period(request)
    photos = request.match_info["kind"] == "photos.zip"
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dashboard-"))
    path = folder / ("photos.zip" if photos else "archive.xlsx")
    try:
        if photos:
            await archive.write_photo_zip(
                _db(request), path, v.scope, period, settings.media_dir, tz=settings.tz
            )
        else:
            await archive.write_xlsx(_db(request), path, v.scope, period, tz=settings.tz)
        return await _send_file(request, path, download_name(photos, period, v.locale))
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


DOWNLOAD_TYPES = {
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download_name(photos: bool, period: Period, locale: str) -> str:
    """The file name a download is saved under, in the viewer's language."""
    slug = f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"
    what = N_("photos") if photos else N_("records")
    return f"{gettext(what, locale)}-{slug}.{'zip' if photos else 'xlsx'}"


async def _send_file(request: web.Request, path: Path, name: str) -> web.StreamResponse:
    """Stream a temporary file and finish the response here, so the file can go as soon as
    this returns (a FileResponse would open it again after the handler has returned)."""
    kind = DOWNLOAD_TYPES[path.suffix]
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    response = web.StreamResponse(
        headers={
            "Content-Type": kind,
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name)}",
        }
    )
    response.content_length = (await asyncio.to_thread(path.stat)).st_size
    _secure(response.headers)
    await response.prepare(request)
    with await asyncio.to_thread(path.open, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, 256 * 1024):
            await response.write(chunk)
    await response.write_eof()
    return response


# --- the app ----------------------------------------------------------------------------


def build_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: Policy,
    *,
    secret: bytes | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_headers, session_and_viewer])
    app[SETTINGS] = settings
    app[SESSIONMAKER] = sessionmaker
    app[POLICY] = policy
    app[SECRET] = secret or auth.load_secret(settings)
    app[TEMPLATES] = _templates()
    r = app.router
    r.add_get("/login/{token}", login_page)
    r.add_post("/login/{token}", login)
    r.add_get("/signed-out", signed_out)
    r.add_get("/healthz", healthz)
    r.add_post("/logout", logout)
    r.add_post("/language", set_language)
    r.add_get("/", overview)
    r.add_get("/chart/{name}.png", chart)
    r.add_get("/orders", order_list)
    r.add_get(r"/orders/{order_id:\d{1,12}}", order_page)
    r.add_get(r"/media/{attachment_id:\d{1,12}}", media)
    r.add_get("/volunteers", volunteers)
    r.add_get("/scorecard", scorecard)
    r.add_get("/exports", exports)
    r.add_get("/export/{kind:archive.xlsx|photos.zip}", export_file)
    r.add_static("/static", HERE / "static", append_version=True, name="static")
    return app
