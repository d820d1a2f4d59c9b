"""The unit scorecard (站所考核): the town's units (站所) scored 0–100 and ranked, beside the
station scorecard (services/scorecard.py).

The plan makes the units accountable twice. It puts the work into their yearly assessment:
「新时代文明实践所(站)建设工作将纳入各站所、村(社区)年度效能考核重要依据」; and it sets the
party members' targets, counted where they work (双报道):
「建立新时代文明实践"双报道"机制……全镇在职党员文明实践志愿服务活动参与率不得低于80%，人均
每年从事志愿服务实践不少于20小时，参与志愿服务情况将列入站所及个人考核的重要标准。」
(陶党发〔2020〕11号). The targets are `policy.kpi` (80%, 20 h).

Six components, each 0–100, over the orders a unit received in the period
(services/reports/units.py) and the party members whose work unit it is (`User.work_unit_id`):

- on_time: the share of received orders handed on to a team (派单) within
  `policy.sla.escalate_after`, times 100;
- response_time: the median time to accept, scored as the station scorecard scores it;
- completion_rate: (done + rated) ÷ (all except cancelled), times 100;
- satisfaction: the mean rating, 1 → 0 and 5 → 100;
- party_participation: the share of the unit's party members with any volunteer hours booked
  in the year so far (the plan's 参与率), against the 80% target: share ÷ target × 100, at
  most 100;
- party_hours: the party members' mean hours (the plan's 人均) in the year so far, against the
  20 h target at the pace of the year so far: mean ÷ (target × elapsed part of the year) ×
  100, at most 100.

"The year so far" is the local calendar year of the period's last day, up to the period's
end. A component without data is "—" and left out, and the total is the mean of the others
(equal weights: the plan weighs none above another). A unit with no received order and no
party member has no data: it gets no rank. Ranked units come first, highest total first;
ties keep the config's order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import PointsEntry, Region, Unit, User, utcnow
from services.hours import per_head
from services.i18n import N_, LocalName, gettext
from services.kpi import elapsed_fraction
from services.org import Policy
from services.people import Roles
from services.points import LOCAL_TZ, year_bounds
from services.reports import Period, dec, scope_for, towns_of
from services.reports.units import Figures, town_figures
from services.scorecard import (
    LABELS,
    response_score,
    satisfaction_score,
    target_score,
    weighted_total,
)

# (key, label) in the order of the table.
UNIT_KEYS = (
    "on_time",
    "response_time",
    "completion_rate",
    "satisfaction",
    "party_participation",
    "party_hours",
)
UNIT_COMPONENTS: list[tuple[str, str]] = [(key, LABELS[key]) for key in UNIT_KEYS]
WEIGHTS = {key: 1.0 for key, _label in UNIT_COMPONENTS}


@dataclass(frozen=True)
class PartyFigures:
    """The party members whose work unit it is (双报道), over the year so far."""

    members: int = 0
    serving: int = 0  # with any hours booked
    reached: int = 0  # with at least the yearly target of hours
    hours: Decimal = Decimal("0.00")

    @property
    def rate(self) -> float | None:
        return self.serving / self.members if self.members else None

    @property
    def mean_hours(self) -> Decimal | None:
        return per_head(self.hours, self.members)


@dataclass(frozen=True)
class UnitScore(LocalName):
    unit_id: int
    name_zh: str
    name_en: str
    rank: int | None  # None: no data in the period
    total: float | None
    scores: dict[str, float | None]
    figures: Figures
    party: PartyFigures

    @property
    def has_data(self) -> bool:
        return bool(self.figures.received or self.party.members)


@dataclass(frozen=True)
class UnitScorecard:
    year: int
    elapsed: float  # of that year, at the period's end (or now, if earlier)
    target_rate: float
    target_hours: Decimal
    deadline: timedelta  # to pass an order on, for "on time"
    units: list[UnitScore]
    platforms: list[Figures]  # the same figures per platform, read in the same query


async def party_by_unit(
    session: AsyncSession,
    unit_ids: list[int],
    start: datetime,
    end: datetime,
    target_hours: Decimal,
) -> dict[int, PartyFigures]:
    """unit → its party members (not banned, not erased) and their hours booked in
    `[start, end)`, in one grouped query."""
    if not unit_ids:
        return {}
    hours = (
        select(PointsEntry.user_id, func.sum(PointsEntry.hours).label("h"))
        .where(PointsEntry.at >= start, PointsEntry.at < end)
        .group_by(PointsEntry.user_id)
        .subquery()
    )
    h = func.coalesce(hours.c.h, 0)
    stmt = (
        select(
            User.work_unit_id,
            func.count(User.id),
            func.sum(case((h > 0, 1), else_=0)),
            func.sum(case((h >= float(target_hours), 1), else_=0)),
            func.sum(h),
        )
        .outerjoin(hours, hours.c.user_id == User.id)
        .where(User.work_unit_id.in_(unit_ids), User.counted_party_member())
        .group_by(User.work_unit_id)
    )
    return {
        uid: PartyFigures(int(n), int(serving or 0), int(reached or 0), dec(total))
        for uid, n, serving, reached, total in await session.execute(stmt)
        if uid is not None
    }


def _scores(
    f: Figures, party: PartyFigures, policy: Policy, elapsed: float
) -> dict[str, float | None]:
    rate, mean = party.rate, party.mean_hours
    pace = policy.kpi.hours_per_year * elapsed  # the yearly target, as far as the year has gone
    return {
        "on_time": None if f.on_time_rate is None else 100.0 * f.on_time_rate,
        "response_time": response_score(f.accept_median, policy.sla.accept_reminder),
        "completion_rate": None if f.completion_rate is None else 100.0 * f.completion_rate,
        "satisfaction": satisfaction_score(f.rating_avg),
        "party_participation": target_score(rate, policy.kpi.party_participation),
        "party_hours": target_score(None if mean is None else float(mean), pace),
    }


async def build_unit_scorecard(
    session: AsyncSession,
    town_id: int,
    period: Period | None,
    policy: Policy,
    *,
    unit_ids: frozenset[int] | None = None,
    now: datetime | None = None,
    tz: tzinfo = LOCAL_TZ,
    no_platform: tuple[str, str] = ("—", "—"),
) -> UnitScorecard:
    """The town's active units (or those of `unit_ids`; ranks are then among the town's
    units all the same), scored and ranked as the module docstring says. `period=None`:
    every order, and the party members' year is the current one. The orders on no platform
    are named `no_platform` (zh, en) in the card's platforms."""
    now = now or utcnow()
    start, end = (period.start, period.end) if period else (None, None)
    limit = policy.sla.escalate_after
    both = await town_figures(session, town_id, start, end, limit, no_platform=no_platform)
    figures = both.units
    year = period.last.year if period else now.astimezone(tz).year
    year_start, year_end = year_bounds(year, tz)
    until = min(year_end, end or now)
    elapsed = elapsed_fraction(year, min(until, now), tz)
    target = Decimal(str(policy.kpi.hours_per_year))
    keys = [f.key for f in figures if f.key]
    party = await party_by_unit(session, keys, year_start, until, target)

    scored = []
    for f in figures:
        assert f.key is not None
        mine = party.get(f.key, PartyFigures())
        scores = _scores(f, mine, policy, elapsed)
        scored.append(
            UnitScore(
                f.key, f.name_zh, f.name_en, None, weighted_total(scores, WEIGHTS), scores, f, mine
            )
        )
    order = sorted(
        range(len(scored)),
        key=lambda i: (
            not scored[i].has_data,
            scored[i].total is None,
            -(scored[i].total or 0.0),
            i,
        ),
    )
    ranked: list[UnitScore] = []
    rank = 0
    for i in order:
        s = scored[i]
        if s.has_data and s.total is not None:
            rank += 1
            s = replace(s, rank=rank)
        ranked.append(s)
    if unit_ids is not None:
        ranked = [s for s in ranked if s.unit_id in unit_ids]
    return UnitScorecard(
        year,
        elapsed,
        policy.kpi.party_participation,
        target,
        policy.sla.escalate_after,
        ranked,
        both.platforms,
    )


@dataclass(frozen=True)
class TownUnits:
    """What one reader sees of a town: the unit scorecard, and for the office the figures
    per platform too."""

    town: Region
    card: UnitScorecard
    platforms: list[Figures] | None  # None: a dispatcher's view, their own units only
    own: bool


def may_read_units(roles: Roles) -> bool:
    """The office (or an admin), and the units' dispatchers."""
    scope = scope_for(roles)
    return (scope is not None and scope.station_ids is None) or bool(roles.dispatches_for)


async def unit_reports_for(
    session: AsyncSession,
    roles: Roles,
    period: Period,
    policy: Policy,
    *,
    now: datetime | None = None,
    tz: tzinfo = LOCAL_TZ,
) -> list[TownUnits] | None:
    """The office (or an admin) reads every unit and platform of its towns; a unit's
    dispatcher reads their own units, ranked among the town's. None for anyone else."""
    scope = scope_for(roles)
    no_platform = (gettext(N_("No platform"), "zh_CN"), "No platform")
    if scope is not None and scope.station_ids is None:
        out = []
        for town in await towns_of(session, scope):
            card = await build_unit_scorecard(
                session, town.id, period, policy, now=now, tz=tz, no_platform=no_platform
            )
            out.append(TownUnits(town, card, card.platforms, own=False))
        return out
    if not roles.dispatches_for:
        return None
    towns: dict[int, set[int]] = {}
    for unit_id, town_id in await session.execute(
        select(Unit.id, Unit.town_id).where(Unit.id.in_(sorted(roles.dispatches_for)))
    ):
        towns.setdefault(town_id, set()).add(unit_id)
    out = []
    for town_id, ids in sorted(towns.items()):
        found = await session.get(Region, town_id)
        if found is None:
            continue
        card = await build_unit_scorecard(
            session, town_id, period, policy, unit_ids=frozenset(ids), now=now, tz=tz
        )
        out.append(TownUnits(found, card, None, own=True))
    return out
