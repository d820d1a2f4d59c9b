"""The report pages: the overview with its figures and charts, the volunteers' hours and
the station scorecard, for the viewer's scope and the chosen period."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from dashboard.web import (
    POLICY,
    SETTINGS,
    Names,
    Viewer,
    db_of,
    paging,
    period_context,
    period_of,
    period_query,
    render,
    viewer_of,
)
from services import charts, reports
from services.i18n import local_name
from services.reports import Period, Scope
from services.scorecard import COMPONENTS, StationScore, build_scorecard
from services.wording import hours_text

# Charts shown side by side get the same height (in bars).
CHART_ROWS = {"stations": 10, "categories": 10, "status": 6, "ratings": 6}


async def overview(request: web.Request) -> web.Response:
    v = viewer_of(request)
    _ = v.t
    db = db_of(request)
    period = period_of(request)
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
        **period_context(request, period),
    )


def _chart_names(scope: Scope) -> list[str]:
    names = ["stations", "categories", "status", "ratings"]
    return names[1:] if scope.station_ids is not None else names


async def _scorecards(request: web.Request, period: Period) -> list[dict[str, Any]]:
    """The scorecard of each town in scope; a station head gets only their rows."""
    v = viewer_of(request)
    out = []
    for town in await reports.towns_of(db_of(request), v.scope):
        table = await build_scorecard(db_of(request), town.id, period, request.app[POLICY])
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
        "hours": hours_text(s.hours, v.locale),
        "records": f"{s.records_with_photo}/{s.records_done}",
    }


async def chart(request: web.Request) -> web.Response:
    v = viewer_of(request)
    _ = v.t
    name = request.match_info["name"]
    period = period_of(request)
    db = db_of(request)
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


async def volunteers(request: web.Request) -> web.Response:
    v = viewer_of(request)
    db = db_of(request)
    period = period_of(request)
    names = await Names(v.locale).load(db)
    rows = await reports.volunteer_rows(db, v.scope, period)
    year = reports.current_period("y", request.app[SETTINGS].tz)
    yearly = {r.user_id: r for r in await reports.volunteer_rows(db, v.scope, year)}
    target = request.app[POLICY].kpi.hours_per_year
    size = 100
    page, pages = paging(request, len(rows), size)
    items = [
        {
            "name": r.name,
            "station": names.stations.get(r.station_id, "") if r.station_id else "",
            "teams": "、".join(names.teams.get(t, "") for t in r.team_ids),
            "party": r.party_member,
            "hours": hours_text(r.hours, v.locale),
            "points": reports.format_number(r.points),
            "orders": r.orders,
            "year_hours": hours_text(
                yearly[r.user_id].hours if r.user_id in yearly else 0, v.locale
            ),
            "year_ok": r.user_id in yearly and float(yearly[r.user_id].hours) >= target,
        }
        for r in rows[(page - 1) * size : page * size]
    ]
    query = period_query(period)
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
        **period_context(request, period),
    )


async def scorecard(request: web.Request) -> web.Response:
    v = viewer_of(request)
    period = period_of(request)
    weights = request.app[POLICY].scorecard.model_dump()
    return render(
        request,
        "scorecard.html",
        scorecards=await _scorecards(request, period),
        components=[(key, v.t(label), f"{weights[key] * 100:g}%") for key, label in COMPONENTS],
        whole_town=v.scope.station_ids is None,
        **period_context(request, period),
    )
