"""Reading the records an archive holds: the small name tables, the scope and period
filters, and big queries in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    Order,
    Platform,
    Region,
    ServiceArea,
    ServiceCategory,
    Team,
)
from services.reports import Period, Scope

BATCH = 5000


class Lookups:
    """Small tables read once: regions, teams, categories, areas, platforms."""

    def __init__(self) -> None:
        self.regions: dict[int, str] = {}
        self.teams: dict[int, str] = {}
        self.categories: dict[int, tuple[str, int, int | None]] = {}
        self.areas: dict[int, str] = {}
        self.platforms: dict[int, str] = {}

    async def load(self, session: AsyncSession) -> Lookups:
        self.regions = dict((await session.execute(select(Region.id, Region.name_zh))).all())
        self.teams = dict((await session.execute(select(Team.id, Team.name_zh))).all())
        self.areas = dict(
            (await session.execute(select(ServiceArea.id, ServiceArea.name_zh))).all()
        )
        self.platforms = dict((await session.execute(select(Platform.id, Platform.name_zh))).all())
        rows = await session.execute(
            select(
                ServiceCategory.id,
                ServiceCategory.name_zh,
                ServiceCategory.area_id,
                ServiceCategory.platform_id,
            )
        )
        self.categories = {cid: (name, area, platform) for cid, name, area, platform in rows}
        return self


def order_filter(scope: Scope, period: Period | None) -> list[Any]:
    conds = scope.where(Order.town_id, Order.station_id)
    if period is not None:
        conds += [Order.created_at >= period.start, Order.created_at < period.end]
    return conds


def activity_filter(scope: Scope, period: Period | None) -> list[Any]:
    # A town-wide activity (no station) belongs to the office's archive, not a village's.
    conds = scope.where(Activity.town_id, Activity.station_id)
    if period is not None:
        conds += [Activity.starts_at >= period.start, Activity.starts_at < period.end]
    return conds


async def batches(
    session: AsyncSession, stmt: Select[*tuple[Any, ...]]
) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream(stmt.execution_options(yield_per=BATCH))
    async for part in result.partitions(BATCH):
        yield part
