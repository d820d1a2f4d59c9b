"""The report: the figures of the orders placed in a period and the hours booked in it,
and the volunteers' rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    Assignment,
    MembershipStatus,
    Order,
    OrderStatus,
    Platform,
    PointsEntry,
    Rating,
    Region,
    ServiceCategory,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services.i18n import N_, LocalName, gettext
from services.reports.scope import (
    Period,
    Scope,
    stations_in,
)
from services.reports.stats import (
    CENT,
    FINISHED,
    OVERDUE_STATUSES,
    STATUS_NAMES,
    STATUS_ORDER,
    as_timedelta,
    dec,
    percentile,
    seconds_between,
)


@dataclass(frozen=True)
class Count(LocalName):
    """One bar of a breakdown: a station, team, category, platform or status."""

    key: str
    name_zh: str
    name_en: str
    count: int


@dataclass(frozen=True)
class Report:
    period: Period
    scope: Scope
    total: int
    by_status: list[Count]
    by_station: list[Count]
    by_platform: list[Count]
    by_category: list[Count]
    by_team: list[Count]
    accept_median: timedelta | None
    accept_p90: timedelta | None
    complete_median: timedelta | None
    complete_p90: timedelta | None
    finished: int  # done + rated
    considered: int  # all except cancelled
    overdue: int
    escalated: int
    ratings: dict[int, int] = field(default_factory=dict)  # score → how many
    hours: Decimal = Decimal(0)
    volunteers: int = 0  # people with hours booked in the period

    @property
    def completion_rate(self) -> float | None:
        return self.finished / self.considered if self.considered else None

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_avg(self) -> float | None:
        n = self.rating_count
        return sum(s * c for s, c in self.ratings.items()) / n if n else None

    def count_of(self, status: OrderStatus) -> int:
        return next((c.count for c in self.by_status if c.key == status.value), 0)


@dataclass(frozen=True)
class OrderRow:
    id: int
    status: OrderStatus
    town_id: int
    station_id: int
    category_id: int
    team_id: int | None
    escalated: bool
    created_at: datetime
    accepted_at: datetime | None
    done_at: datetime | None
    slot_end: datetime | None


def _orders_stmt(scope: Scope, period: Period) -> Select[*tuple[Any, ...]]:
    return select(
        Order.id,
        Order.status,
        Order.town_id,
        Order.station_id,
        Order.category_id,
        Order.team_id,
        Order.escalated,
        Order.created_at,
        Order.accepted_at,
        Order.done_at,
        Order.slot_end,
    ).where(
        Order.created_at >= period.start,
        Order.created_at < period.end,
        *scope.where(Order.town_id, Order.station_id),
    )


async def order_rows(session: AsyncSession, scope: Scope, period: Period) -> list[OrderRow]:
    rows = await session.execute(_orders_stmt(scope, period).order_by(Order.id))
    return [OrderRow(*row) for row in rows]


def _breakdown(
    counter: Counter[Any], names: dict[Any, tuple[str, str]], order: Iterable[Any] | None = None
) -> list[Count]:
    keys = list(order) if order is not None else sorted(counter, key=lambda k: -counter[k])
    out = []
    for key in keys:
        if counter.get(key, 0) == 0 and order is None:
            continue
        zh, en = names.get(key, ("—", "—"))
        out.append(Count(str(key) if key is not None else "", zh, en, counter.get(key, 0)))
    return out


async def _names(session: AsyncSession, model: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in rows}


async def hours_by_user(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> dict[int, Decimal]:
    """Ledger hours booked in `[start, end)`, per volunteer, attributed as the module says."""
    station = func.coalesce(Order.station_id, Activity.station_id, User.station_id)
    town = func.coalesce(Order.town_id, Activity.town_id, User.town_id)
    stmt = (
        select(PointsEntry.user_id, func.sum(PointsEntry.hours))
        .join(User, User.id == PointsEntry.user_id)
        .outerjoin(Order, Order.id == PointsEntry.order_id)
        .outerjoin(Activity, Activity.id == PointsEntry.activity_id)
        .where(PointsEntry.at >= start, PointsEntry.at < end, *scope.where(town, station))
        .group_by(PointsEntry.user_id)
    )
    return {uid: dec(total) for uid, total in await session.execute(stmt)}


async def hours_by_station(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> dict[int | None, Decimal]:
    """Ledger hours booked in `[start, end)` per station (same attribution)."""
    station = func.coalesce(Order.station_id, Activity.station_id, User.station_id)
    town = func.coalesce(Order.town_id, Activity.town_id, User.town_id)
    stmt = (
        select(station, func.sum(PointsEntry.hours))
        .select_from(PointsEntry)
        .join(User, User.id == PointsEntry.user_id)
        .outerjoin(Order, Order.id == PointsEntry.order_id)
        .outerjoin(Activity, Activity.id == PointsEntry.activity_id)
        .where(PointsEntry.at >= start, PointsEntry.at < end, *scope.where(town, station))
        .group_by(station)
    )
    return {sid: dec(total) for sid, total in await session.execute(stmt)}


async def rating_scores(
    session: AsyncSession, scope: Scope, period: Period
) -> list[tuple[int, int]]:
    """(station id, score) of the ratings of the period's orders."""
    stmt = (
        select(Order.station_id, Rating.score)
        .join(Order, Order.id == Rating.order_id)
        .where(
            Order.created_at >= period.start,
            Order.created_at < period.end,
            *scope.where(Order.town_id, Order.station_id),
        )
    )
    return [(sid, int(score)) for sid, score in await session.execute(stmt)]


async def build_report(
    session: AsyncSession, scope: Scope, period: Period, *, now: datetime | None = None
) -> Report:
    """Every figure of the report for `scope` and `period` (see the module docstring)."""
    now = now or utcnow()
    rows = await order_rows(session, scope, period)
    stations = await stations_in(session, scope)
    categories = await _names(session, ServiceCategory, (r.category_id for r in rows))
    teams = await _names(session, Team, (r.team_id for r in rows))
    platforms = await _names(
        session, Platform, (c.platform_id for c in categories.values() if c.platform_id)
    )

    by_status = Counter(r.status for r in rows)
    by_station = Counter(r.station_id for r in rows)
    by_category = Counter(r.category_id for r in rows)
    by_team = Counter(r.team_id for r in rows)
    by_platform = Counter(
        categories[r.category_id].platform_id if r.category_id in categories else None for r in rows
    )
    station_names = {s.id: (s.name_zh, s.name_en) for s in stations}
    # An order from a station since deactivated still shows.
    extra_stations = set(by_station) - set(station_names)
    for region in (await _names(session, Region, extra_stations)).values():
        station_names[region.id] = (region.name_zh, region.name_en)
    team_names: dict[Any, tuple[str, str]] = {t.id: (t.name_zh, t.name_en) for t in teams.values()}
    team_names[None] = (gettext(N_("The institute office"), "zh_CN"), "The institute office")
    platform_names: dict[Any, tuple[str, str]] = {
        p.id: (p.name_zh, p.name_en) for p in platforms.values()
    }
    platform_names[None] = (gettext(N_("No platform"), "zh_CN"), "No platform")

    accept = [s for r in rows if (s := seconds_between(r.accepted_at, r.created_at)) is not None]
    complete = [s for r in rows if (s := seconds_between(r.done_at, r.created_at)) is not None]
    ratings = Counter(score for _sid, score in await rating_scores(session, scope, period))
    hours = await hours_by_user(session, scope, period.start, period.end)

    return Report(
        period=period,
        scope=scope,
        total=len(rows),
        by_status=[
            Count(s.value, gettext(STATUS_NAMES[s], "zh_CN"), STATUS_NAMES[s], by_status[s])
            for s in STATUS_ORDER
            if by_status[s]
        ],
        by_station=_breakdown(
            by_station, station_names, [s.id for s in stations] + sorted(extra_stations)
        ),
        by_platform=_breakdown(by_platform, platform_names),
        by_category=_breakdown(
            by_category, {c.id: (c.name_zh, c.name_en) for c in categories.values()}
        ),
        by_team=_breakdown(by_team, team_names),
        accept_median=as_timedelta(percentile(accept, 0.5)),
        accept_p90=as_timedelta(percentile(accept, 0.9)),
        complete_median=as_timedelta(percentile(complete, 0.5)),
        complete_p90=as_timedelta(percentile(complete, 0.9)),
        finished=sum(by_status[s] for s in FINISHED),
        considered=len(rows) - by_status[OrderStatus.CANCELLED],
        overdue=sum(
            1
            for r in rows
            if r.status in OVERDUE_STATUSES and r.slot_end is not None and r.slot_end < now
        ),
        escalated=sum(1 for r in rows if r.escalated),
        ratings={score: ratings.get(score, 0) for score in range(1, 6)},
        hours=sum(hours.values(), Decimal(0)).quantize(CENT),
        volunteers=sum(1 for h in hours.values() if h > 0),
    )


@dataclass
class VolunteerRow:
    user_id: int
    name: str
    station_id: int | None
    team_ids: list[int]
    party_member: bool
    hours: Decimal = Decimal(0)  # booked in the period
    points: Decimal = Decimal(0)
    orders: int = 0  # orders placed in the period that they served with hours


async def volunteer_rows(
    session: AsyncSession, scope: Scope, period: Period | None
) -> list[VolunteerRow]:
    """Active team members of the scope (for a village: its residents who volunteer), with
    the hours and points booked in the period and the orders they served; most hours first.
    `period=None` counts everything."""
    members = await session.execute(
        select(User.id, User.name, User.station_id, User.is_party_member, TeamMember.team_id)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.status == MembershipStatus.ACTIVE,
            User.anonymised_at.is_(None),
            *scope.where(Team.town_id, User.station_id),
        )
        .order_by(User.id, Team.sort, Team.id)
    )
    people: dict[int, VolunteerRow] = {}
    for uid, name, station, party, team_id in members:
        row = people.setdefault(uid, VolunteerRow(uid, name or f"#{uid}", station, [], bool(party)))
        if team_id not in row.team_ids:
            row.team_ids.append(team_id)
    if not people:
        return []
    ledger = (
        select(PointsEntry.user_id, func.sum(PointsEntry.hours), func.sum(PointsEntry.points))
        .where(PointsEntry.user_id.in_(list(people)))
        .group_by(PointsEntry.user_id)
    )
    served = (
        select(Assignment.volunteer_id, func.count(func.distinct(Assignment.order_id)))
        .join(Order, Order.id == Assignment.order_id)
        .where(Assignment.hours > 0, Assignment.volunteer_id.in_(list(people)))
        .group_by(Assignment.volunteer_id)
    )
    if period is not None:
        ledger = ledger.where(PointsEntry.at >= period.start, PointsEntry.at < period.end)
        served = served.where(Order.created_at >= period.start, Order.created_at < period.end)
    for uid, hours, points in await session.execute(ledger):
        people[uid].hours, people[uid].points = dec(hours), dec(points)
    for uid, count in await session.execute(served):
        people[uid].orders = int(count)
    return sorted(people.values(), key=lambda r: (-r.hours, -r.points, r.name))
