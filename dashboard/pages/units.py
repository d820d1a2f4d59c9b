"""The unit scorecard page (站所考核): the town's units ranked, with their figures and their
party members against the plan's targets, and the figures per platform. For the office (and
admins); a station head is answered as for any page that is not theirs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from dashboard.web import (
    POLICY,
    SETTINGS,
    Viewer,
    db_of,
    period_context,
    period_of,
    render,
    viewer_of,
)
from services import reports
from services.i18n import local_name
from services.reports.units import Figures
from services.unit_scorecard import UNIT_COMPONENTS, UnitScore, UnitScorecard, unit_reports_for


def _figures(f: Figures, v: Viewer) -> dict[str, Any]:
    return {
        "name": f.name(v.locale),
        "received": f.received,
        "on_time": reports.format_rate(f.on_time_rate),
        "dispatch": reports.format_duration(f.dispatch_median, v.locale),
        "accept": reports.format_duration(f.accept_median, v.locale),
        "completion": reports.format_rate(f.completion_rate),
        "rating": "—" if f.rating_avg is None else f"{f.rating_avg:.2f}",
        "ratings": f.rating_count,
    }


def _unit_row(s: UnitScore, card: UnitScorecard, v: Viewer) -> dict[str, Any]:
    p = s.party
    return {
        **_figures(s.figures, v),
        "rank": s.rank,
        "total": "—" if s.rank is None or s.total is None else f"{s.total:.1f}",
        "scores": {k: ("—" if x is None else f"{x:.0f}") for k, x in s.scores.items()},
        "party": p.members,
        "serving": p.serving,
        "party_rate": reports.format_rate(p.rate),
        "party_hours": reports.format_number(p.mean_hours),
        "reached": p.reached,
    }


async def unit_scorecard(request: web.Request) -> web.Response:
    v = viewer_of(request)
    period = period_of(request)
    found = await unit_reports_for(
        db_of(request), v.roles, period, request.app[POLICY], tz=request.app[SETTINGS].tz
    )
    if found is None or any(town.own for town in found):
        raise web.HTTPNotFound()
    towns = [
        {
            "town": local_name(t.town, v.locale),
            "units": [_unit_row(s, t.card, v) for s in t.card.units],
            "platforms": [_figures(f, v) for f in t.platforms or []],
            "target_rate": f"{t.card.target_rate * 100:g}%",
            "target_hours": reports.format_number(t.card.target_hours),
            "deadline": reports.format_duration(t.card.deadline, v.locale),
        }
        for t in found
    ]
    return render(
        request,
        "units.html",
        towns=towns,
        components=[(key, v.t(label)) for key, label in UNIT_COMPONENTS],
        **period_context(request, period),
    )
