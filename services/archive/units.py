"""The archive's figures per platform (平台) and per unit (站所): the orders each received
and how they were passed on, and the unit scorecard with its party members (双报道), one row
per platform or unit of each town in the scope. A village's archive (a station head's) has
the sheets with their headers only: the units answer to the town, not to one village."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.org import Policy
from services.reports import Period, Scope, towns_of
from services.reports.units import Figures
from services.unit_scorecard import build_unit_scorecard

PLATFORM_SHEET = "平台"
UNIT_SHEET = "站所"
NO_PLATFORM = "未归平台"


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _score(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _figures(f: Figures) -> list[Any]:
    return [
        f.received,
        f.on_time,
        _percent(f.on_time_rate),
        _minutes(f.dispatch_median),
        _minutes(f.accept_median),
        f.finished,
        _percent(f.completion_rate),
        f.rating_count,
        None if f.rating_avg is None else round(f.rating_avg, 2),
    ]


async def unit_sheet_rows(
    session: AsyncSession,
    scope: Scope,
    period: Period | None,
    policy: Policy,
    *,
    now: datetime | None = None,
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The rows of both sheets (a few per town: small enough to hold)."""
    platform_rows: list[list[Any]] = []
    unit_rows: list[list[Any]] = []
    if not scope.whole_town:
        return platform_rows, unit_rows
    for town in await towns_of(session, scope):
        card = await build_unit_scorecard(
            session, town.id, period, policy, now=now, no_platform=(NO_PLATFORM, NO_PLATFORM)
        )
        for f in card.platforms:
            platform_rows.append([town.name_zh, f.name_zh, *_figures(f)])
        for s in card.units:
            p = s.party
            unit_rows.append(
                [
                    town.name_zh,
                    s.name_zh,
                    s.rank,
                    _score(s.total),
                    *_figures(s.figures),
                    p.members,
                    p.serving,
                    _percent(p.rate),
                    None if p.mean_hours is None else float(p.mean_hours),
                    p.reached,
                ]
            )
    return platform_rows, unit_rows
