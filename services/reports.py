"""Report figures for office staff (whole town) and station heads (their village).

A report describes the orders *placed* in a period (a cohort: every figure about orders —
counts, times, completion rate, satisfaction — is about the same set), plus the volunteer
hours *booked* in the period (the confirmed ledger). Periods are calendar weeks, months,
years or custom date ranges in local time (settings.tz), turned into UTC bounds
`[start, end)` for the queries.

Statistics:
- time to accept = `accepted_at − created_at`, time to complete = `done_at − created_at`,
  over the orders that have the timestamp;
- median and 90th percentile by linear interpolation between the closest ranks (numpy's
  default, Excel's PERCENTILE.INC): the p-th value of n sorted values sits at rank
  `(n − 1) · p`, and a fractional rank interpolates between its neighbours;
- completion rate (办结率) = (done + rated) ÷ (all orders except cancelled); None with no
  such orders;
- overdue = accepted or in progress, with a slot whose end has passed;
- escalated = carries the escalated flag (not accepted in time at least once);
- satisfaction = mean and 1–5 distribution of the ratings of the period's orders;
- volunteer hours = the sum of ledger hours booked in the period (they are booked when a
  leader confirms them), corrections included. A ledger line belongs to the order's
  station, else the activity's station, else the volunteer's own station.

No aiogram here: the chat, the dashboard and the command line share these functions.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
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
    RegionLevel,
    ServiceCategory,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services.i18n import N_, gettext
from services.people import Roles
from services.points import LOCAL_TZ

CENT = Decimal("0.01")
MAX_CUSTOM_DAYS = 3 * 366  # a custom period spans at most about three years
FINISHED = (OrderStatus.DONE, OrderStatus.RATED)
OVERDUE_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)

# Staff-facing status names (the resident-facing ones in views/format.py speak to "you").
STATUS_NAMES: dict[OrderStatus, str] = {
    OrderStatus.NEW: N_("New, with the office"),
    OrderStatus.ROUTED: N_("Waiting to be accepted"),
    OrderStatus.ACCEPTED: N_("Accepted"),
    OrderStatus.IN_PROGRESS: N_("In progress"),
    OrderStatus.DONE: N_("Done, not rated"),
    OrderStatus.RATED: N_("Done and rated"),
    OrderStatus.DECLINED: N_("Being passed on"),
    OrderStatus.CANCELLED: N_("Cancelled"),
}
STATUS_ORDER = list(STATUS_NAMES)
PERIOD_KINDS = {"w": "week", "m": "month", "y": "year", "c": "custom"}


def status_name(status: OrderStatus | str, locale: str | None) -> str:
    return gettext(STATUS_NAMES[OrderStatus(status)], locale)


# ---------------------------------------------------------------------------------------
# Who sees what
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a viewer may see. `None` means no restriction at that level: an admin sees
    every town; office staff see their town(s); a station head sees their village(s)."""

    town_ids: frozenset[int] | None = None
    station_ids: frozenset[int] | None = None

    @property
    def whole_town(self) -> bool:
        return self.station_ids is None

    def allows(self, town_id: int | None, station_id: int | None) -> bool:
        if self.town_ids is not None and town_id not in self.town_ids:
            return False
        return self.station_ids is None or station_id in self.station_ids

    def where(self, town_col: Any, station_col: Any) -> list[ColumnElement[bool]]:
        """SQL conditions restricting rows with these town and station columns."""
        conds: list[ColumnElement[bool]] = []
        if self.town_ids is not None:
            conds.append(town_col.in_(sorted(self.town_ids)))
        if self.station_ids is not None:
            conds.append(station_col.in_(sorted(self.station_ids)))
        return conds


def scope_for(roles: Roles) -> Scope | None:
    """The scope of reports for these roles, or None for someone who may not see them.
    Office (or admin) rights win over being a station head as well."""
    if roles.admin:
        return Scope()
    if roles.office_towns:
        return Scope(town_ids=frozenset(roles.office_towns))
    if roles.head_of_stations:
        return Scope(station_ids=frozenset(roles.head_of_stations))
    return None


async def stations_in(session: AsyncSession, scope: Scope) -> list[Region]:
    """The active stations the scope covers, in the config's order."""
    stmt = select(Region).where(Region.level == RegionLevel.STATION, Region.active.is_(True))
    stmt = stmt.where(*scope.where(Region.parent_id, Region.id))
    return list(await session.scalars(stmt.order_by(Region.parent_id, Region.sort, Region.id)))


async def towns_of(session: AsyncSession, scope: Scope) -> list[Region]:
    """The towns whose stations the scope touches (a station head: the town of the village)."""
    station_towns = select(Region.parent_id).where(
        Region.level == RegionLevel.STATION, *scope.where(Region.parent_id, Region.id)
    )
    stmt = select(Region).where(Region.level == RegionLevel.TOWN, Region.id.in_(station_towns))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


# ---------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Local calendar days `first`..`last` (inclusive) and their UTC bounds `[start, end)`."""

    kind: str  # "w", "m", "y" or "c"
    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def code(self) -> str:
        """A compact, stable form for buttons and links: "m20261101-20261130"."""
        return f"{self.kind}{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self, locale: str | None) -> str:
        """ "2026年11月" / "November 2026", "2026年" / "2026", else the dates."""
        en = locale == "en"
        if self.kind == "m":
            return f"{self.first:%B %Y}" if en else f"{self.first.year}年{self.first.month}月"
        if self.kind == "y":
            return str(self.first.year) if en else f"{self.first.year}年"
        return f"{self.first:%Y-%m-%d} – {self.last:%Y-%m-%d}"


def _bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz).astimezone(UTC)
    return start, end


def make_period(kind: str, first: date, last: date, tz: tzinfo = LOCAL_TZ) -> Period:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    if last < first:
        raise ValueError("the period ends before it starts")
    if (last - first).days >= MAX_CUSTOM_DAYS:
        raise ValueError("the period is too long")
    try:
        return Period(kind, first, last, *_bounds(first, last, tz))
    except OverflowError:  # the last day of year 9999
        raise ValueError("the period is out of range") from None


def local_today(tz: tzinfo = LOCAL_TZ, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()


def this_week(today: date, tz: tzinfo = LOCAL_TZ) -> Period:
    monday = today - timedelta(days=today.weekday())
    return make_period("w", monday, monday + timedelta(days=6), tz)


def this_month(today: date, tz: tzinfo = LOCAL_TZ) -> Period:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return make_period("m", first, following - timedelta(days=1), tz)


def this_year(today: date, tz: tzinfo = LOCAL_TZ) -> Period:
    return make_period("y", date(today.year, 1, 1), date(today.year, 12, 31), tz)


def custom_period(first: date, last: date, tz: tzinfo = LOCAL_TZ) -> Period:
    return make_period("c", first, last, tz)


def current_period(kind: str, tz: tzinfo = LOCAL_TZ, now: datetime | None = None) -> Period:
    """This week ("w"), month ("m") or year ("y") around `now`, in local time."""
    today = local_today(tz, now)
    makers = {"w": this_week, "m": this_month, "y": this_year}
    if kind not in makers:
        raise ValueError(f"unknown period kind {kind!r}")
    return makers[kind](today, tz)


def parse_period_code(code: str, tz: tzinfo = LOCAL_TZ) -> Period:
    """The inverse of `Period.code`; raises ValueError on anything else."""
    kind, rest = code[:1], code[1:]
    first_text, sep, last_text = rest.partition("-")
    if not sep:
        raise ValueError(f"bad period {code!r}")
    first = datetime.strptime(first_text, "%Y%m%d").date()
    last = datetime.strptime(last_text, "%Y%m%d").date()
    return make_period(kind, first, last, tz)


_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{8}")


def parse_date(text: str) -> date:
    """A date as people type it: 2026-11-01, 2026/11/1, 2026.11.1 or 20261101."""
    cleaned = text.strip().replace("/", "-").replace(".", "-")
    if cleaned.isdigit() and len(cleaned) == 8:
        return datetime.strptime(cleaned, "%Y%m%d").date()
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {text!r}")
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def parse_date_range(text: str) -> tuple[date, date]:
    """Two dates in any order and with any separator: "2026-01-01 2026-03-31",
    "2026/1/1 至 2026/3/31", "20260101-20260331"."""
    found = _DATE.findall(text)
    if len(found) != 2:
        raise ValueError("give two dates")
    first, last = parse_date(found[0]), parse_date(found[1])
    return (first, last) if first <= last else (last, first)


# ---------------------------------------------------------------------------------------
# Statistics helpers
# ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-quantile (0 ≤ p ≤ 1) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def _td(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


def format_duration(value: timedelta | None, locale: str | None) -> str:
    """ "1 h 20 min", "2 d 3 h", "45 min" (and their Chinese forms); "—" for none."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        if not hours:
            return gettext(N_("{d} d"), locale, d=days)
        return gettext(N_("{d} d {h} h"), locale, d=days, h=hours)
    if hours:
        if not mins:
            return gettext(N_("{h} h"), locale, h=hours)
        return gettext(N_("{h} h {m} min"), locale, h=hours, m=mins)
    return gettext(N_("{m} min"), locale, m=mins)


def format_number(value: Decimal | float | int | None) -> str:
    """Hours and points without trailing zeros: 232, 2.5, 0."""
    if value is None:
        return "—"
    text = f"{Decimal(str(value)).normalize():f}"
    return "0" if text in ("-0", "") else text


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def dec(value: object) -> Decimal:
    # SQLite hands back floats for sums of NUMERIC; round to cents so totals compare exactly.
    return Decimal(str(value if value is not None else 0)).quantize(CENT, ROUND_HALF_UP)


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """One bar of a breakdown: a station, team, category, platform or status."""

    key: str
    name_zh: str
    name_en: str
    count: int

    def name(self, locale: str | None) -> str:
        return self.name_en if locale == "en" else self.name_zh


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


def _orders_stmt(scope: Scope, period: Period) -> Select[Any]:
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


async def _names(session: AsyncSession, model: Any, ids: Iterable[int]) -> dict[int, Any]:
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

    accept = [s for r in rows if (s := _seconds(r.accepted_at, r.created_at)) is not None]
    complete = [s for r in rows if (s := _seconds(r.done_at, r.created_at)) is not None]
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
        accept_median=_td(percentile(accept, 0.5)),
        accept_p90=_td(percentile(accept, 0.9)),
        complete_median=_td(percentile(complete, 0.5)),
        complete_p90=_td(percentile(complete, 0.9)),
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


# ---------------------------------------------------------------------------------------
# Volunteers
# ---------------------------------------------------------------------------------------


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
