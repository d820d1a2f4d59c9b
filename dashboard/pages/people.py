"""Residents (村民): a station head or the office finds a person of their villages and marks
their priority group or large print; the office books an hours correction or a commendation
bonus with a reason. The same rules as the chat's «👥 村民» (services/residents.py): every
POST is checked there, whatever the form said."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from dashboard.web import POLICY, SETTINGS, db_of, render, viewer_of
from models import utcnow
from services import points, residents
from services.errors import DomainError, NotAllowed, NotFound
from services.i18n import N_, local_name
from services.points import PointsRules
from services.wording import hours_text, number_text

NO_GROUP = "none"


def _person_id(request: web.Request) -> int:
    return int(request.match_info["user_id"])


async def people(request: web.Request) -> web.Response:
    v = viewer_of(request)
    query = request.query.get("q", "").strip()[: residents.QUERY_MAX]
    found = await residents.find(db_of(request), v.roles, query) if query else []
    return render(request, "people.html", query=query, found=[(u.id, u.name or "") for u in found])


async def person(request: web.Request) -> web.Response:
    return await _render_person(request)


async def _render_person(
    request: web.Request, *, said: str = "", status: int = 200
) -> web.Response:
    """The person's page; `said`: a refusal to show on it (else «Saved.» after a change)."""
    v = viewer_of(request)
    db = db_of(request)
    try:
        who = await residents.person(db, v.roles, _person_id(request))
    except (NotAllowed, NotFound) as exc:  # not theirs and not there read alike
        raise web.HTTPNotFound() from exc
    figures: dict[str, Any] = {}
    if v.roles.is_office:
        tz = request.app[SETTINGS].tz
        hours, score = await points.totals(db, who.user.id, utcnow().astimezone(tz).year, tz)
        figures = {"hours": hours_text(hours, v.locale), "points": number_text(score)}
    groups = await residents.groups(db, v.roles, who.user.id)
    return render(
        request,
        "person.html",
        status=status,
        person=who.user,
        village=local_name(who.station, v.locale) if who.station else "",
        group_id=who.user.priority_group_id,
        groups=[(g.id, local_name(g, v.locale)) for g in groups],
        no_group=NO_GROUP,
        office=v.roles.is_office,
        figures=figures,
        said=said or (v.t(N_("Saved.")) if request.query.get("saved") else ""),
    )


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(val) for k, val in (await request.post()).items()}


async def _apply(request: web.Request, change: Callable[[], Awaitable[object]]) -> web.Response:
    """Makes a change the rules check (services/residents.py): back to the person's page with
    «Saved.», or the page again with the reason it was refused."""
    try:
        await change()
    except DomainError as exc:
        if isinstance(exc, NotFound | NotAllowed) and not viewer_of(request).roles.is_office:
            raise web.HTTPNotFound() from exc
        said = viewer_of(request).t(exc.message, **exc.params)
        return await _render_person(request, said=said, status=400)
    raise web.HTTPSeeOther(f"/people/{_person_id(request)}?saved=1")


async def set_group(request: web.Request) -> web.Response:
    v = viewer_of(request)
    value = (await _form(request)).get("group", NO_GROUP)
    group_id = None if value == NO_GROUP or not value.isdigit() else int(value)
    return await _apply(
        request, lambda: residents.set_group(db_of(request), v.roles, _person_id(request), group_id)
    )


async def set_large_print(request: web.Request) -> web.Response:
    v = viewer_of(request)
    on = (await _form(request)).get("on") == "1"
    return await _apply(
        request, lambda: residents.set_large_print(db_of(request), v.roles, _person_id(request), on)
    )


async def book(request: web.Request) -> web.Response:
    v = viewer_of(request)
    form = await _form(request)
    bonus = form.get("kind") == "bonus"

    async def correction() -> None:
        await residents.book(
            db_of(request),
            v.roles,
            v.user,
            _person_id(request),
            amount=residents.parse_correction(form.get("amount", ""), bonus=bonus),
            reason=form.get("reason", ""),
            bonus=bonus,
            rules=PointsRules.from_policy(request.app[POLICY].points),
        )

    return await _apply(request, correction)
