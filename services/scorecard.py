"""The station scorecard (实践站考核): every station of a town, scored 0–100 and ranked.

Seven components, weighted by `policy.scorecard` (the weights sum to 1). Each is measured on
the period's data and normalised to 0–100 as follows:

- completion_rate: 办结率 of the station's orders placed in the period, (done + rated) ÷
  (all except cancelled), times 100.
- response_time: the median time to accept of those orders, scored inversely and linearly:
  100 at or under `policy.sla.accept_reminder` (the leader's first nudge, 30 min), 0 at or
  over RESPONSE_WORST (a working day, 8 h).
- satisfaction: the mean rating of those orders, 1 → 0 and 5 → 100 (linear).
- activities: activities held (not cancelled, started within the period and by now) at the
  station, relative to the best station of the town: count ÷ best count × 100 (0 when no
  station held any).
- party_participation: the share of the station's party members with ledger hours booked in
  the period, against the plan's target `policy.kpi.party_participation` (80%): share ÷
  target × 100, at most 100.
- hours: the volunteer hours booked in the period and attributed to the station (see
  services/reports.py), relative to the best station: hours ÷ best hours × 100 (0 when no
  station has any).
- record_completeness: the share of the station's completed orders (placed in the period,
  done or rated) and held activities that have at least one photo, times 100.

A component without data (no orders to complete, nobody accepted, no rating, no party
member, nothing completed) is shown as "—" and left out: the total is the weighted mean of
the components that have data, i.e. their weights are rescaled to sum to 1. Stations rank by
total (highest first); ties keep the config's station order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivityStatus,
    Attachment,
    AttachmentKind,
    Order,
    OrderStatus,
    PointsEntry,
    Region,
    User,
    utcnow,
)
from services.i18n import N_, LocalName
from services.org import Policy, ScorecardWeights
from services.reports import (
    FINISHED,
    OrderRow,
    Period,
    Scope,
    hours_by_station,
    order_rows,
    percentile,
    rating_scores,
    stations_in,
)

RESPONSE_WORST = timedelta(hours=8)

# Every score component's label, by key: the station and the unit scorecard share most.
LABELS: dict[str, str] = {
    "completion_rate": N_("Completion"),
    "response_time": N_("Response"),
    "satisfaction": N_("Satisfaction"),
    "activities": N_("Activities"),
    "party_participation": N_("Party members"),
    "hours": N_("Hours"),
    "record_completeness": N_("Records"),
    "on_time": N_("Dispatched on time"),
    "party_hours": N_("Party hours"),
}
# (key, label) in the order of the table: the fields of policy.scorecard.
COMPONENTS: list[tuple[str, str]] = [(key, LABELS[key]) for key in ScorecardWeights.model_fields]


@dataclass(frozen=True)
class StationScore(LocalName):
    station_id: int
    name_zh: str
    name_en: str
    rank: int
    total: float | None  # None: no component had data
    scores: dict[str, float | None]  # component → 0–100 or None
    # The raw measures behind the scores, for the table's tooltips and the archive.
    orders: int
    completion_rate: float | None
    accept_median: timedelta | None
    rating_avg: float | None
    activities: int
    party_members: int
    party_active: int
    hours: Decimal
    records_done: int
    records_with_photo: int

    @property
    def has_data(self) -> bool:
        """Whether anything happened at the station in the period. A station where nothing
        did still gets scores relative to the others (0), but no rank or medal."""
        return bool(self.orders or self.activities or self.hours or self.party_active)


def _clamp(value: float) -> float:
    return max(0.0, min(100.0, value))


def response_score(median: timedelta | None, best: timedelta) -> float | None:
    """100 at or under `best`, 0 at or over RESPONSE_WORST, linear in between."""
    if median is None:
        return None
    if median <= best:
        return 100.0
    span = (RESPONSE_WORST - best).total_seconds()
    if span <= 0:
        return 0.0
    return _clamp(100.0 * (RESPONSE_WORST - median).total_seconds() / span)


def satisfaction_score(avg: float | None) -> float | None:
    """A mean rating, 1 → 0 and 5 → 100 (linear)."""
    return None if avg is None else _clamp((avg - 1) / 4 * 100)


def target_score(share: float | None, target: float) -> float | None:
    """A share against its target: share ÷ target × 100, at most 100 (100 with no target)."""
    if share is None:
        return None
    return 100.0 if target <= 0 else _clamp(100.0 * share / target)


def relative_score(value: float, best: float) -> float:
    return _clamp(100.0 * value / best) if best > 0 else 0.0


def weighted_total(scores: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """The weighted mean over the components that have a score (weights rescaled)."""
    have = {k: v for k, v in scores.items() if v is not None and weights.get(k, 0) > 0}
    weight = sum(weights[k] for k in have)
    if not have or weight <= 0:
        return None
    return sum(weights[k] * v for k, v in have.items()) / weight


async def _station_counts(
    session: AsyncSession, station_ids: list[int], stmt: Select[Any, Any, Any]
) -> dict[int, tuple[int, int]]:
    """station → (how many, of which) from rows of (station, how many, of which)."""
    if not station_ids:
        return {}
    return {sid: (int(n), int(p or 0)) for sid, n, p in await session.execute(stmt)}


def _activities(station_ids: list[int], period: Period, now: datetime) -> Select[Any, Any, Any]:
    """station → (activities held, of which with a photo)."""
    photo = exists().where(
        Attachment.activity_id == Activity.id, Attachment.kind == AttachmentKind.PHOTO
    )
    return (
        select(Activity.station_id, func.count(), func.sum(case((photo, 1), else_=0)))
        .where(
            Activity.station_id.in_(station_ids),
            Activity.status != ActivityStatus.CANCELLED,
            Activity.starts_at >= period.start,
            Activity.starts_at < min(period.end, now),
        )
        .group_by(Activity.station_id)
    )


def _completed_with_photo(station_ids: list[int], period: Period) -> Select[Any, Any, Any]:
    """station → (completed orders placed in the period, of which with a photo)."""
    photo = exists().where(Attachment.order_id == Order.id, Attachment.kind == AttachmentKind.PHOTO)
    return (
        select(Order.station_id, func.count(), func.sum(case((photo, 1), else_=0)))
        .where(
            Order.station_id.in_(station_ids),
            Order.status.in_(FINISHED),
            Order.created_at >= period.start,
            Order.created_at < period.end,
        )
        .group_by(Order.station_id)
    )


def _party(station_ids: list[int], period: Period) -> Select[Any, Any, Any]:
    """station → (party members, of whom with ledger hours booked in the period)."""
    served = (
        select(PointsEntry.user_id)
        .where(PointsEntry.at >= period.start, PointsEntry.at < period.end)
        .group_by(PointsEntry.user_id)
        .having(func.sum(PointsEntry.hours) > 0)
        .subquery()
    )
    return (
        select(
            User.station_id,
            func.count(User.id),
            func.count(served.c.user_id),
        )
        .outerjoin(served, served.c.user_id == User.id)
        .where(User.station_id.in_(station_ids), User.counted_party_member())
        .group_by(User.station_id)
    )


async def build_scorecard(
    session: AsyncSession,
    town_id: int,
    period: Period,
    policy: Policy,
    *,
    now: datetime | None = None,
) -> list[StationScore]:
    """Every active station of the town, scored and ranked (see the module docstring)."""
    now = now or utcnow()
    scope = Scope(town_ids=frozenset({town_id}))
    stations: list[Region] = await stations_in(session, scope)
    ids = [s.id for s in stations]
    rows = await order_rows(session, scope, period)
    by_station: dict[int, list[OrderRow]] = defaultdict(list)
    for r in rows:
        by_station[r.station_id].append(r)
    ratings: dict[int, list[int]] = defaultdict(list)
    for sid, score in await rating_scores(session, scope, period):
        ratings[sid].append(score)
    activities = await _station_counts(session, ids, _activities(ids, period, now))
    completed = await _station_counts(session, ids, _completed_with_photo(ids, period))
    party = await _station_counts(session, ids, _party(ids, period))
    hours = await hours_by_station(session, scope, period.start, period.end)

    weights = policy.scorecard.model_dump()
    best_activities = max((activities.get(i, (0, 0))[0] for i in ids), default=0)
    best_hours = float(max((hours.get(i, Decimal(0)) for i in ids), default=Decimal(0)))
    fast = policy.sla.accept_reminder
    unranked: list[tuple[Region, StationScore]] = []
    for station in stations:
        mine = by_station.get(station.id, [])
        statuses = Counter(r.status for r in mine)
        considered = len(mine) - statuses[OrderStatus.CANCELLED]
        finished = sum(statuses[s] for s in FINISHED)
        rate = finished / considered if considered else None
        waits = [
            (r.accepted_at - r.created_at).total_seconds()
            for r in mine
            if r.accepted_at is not None
        ]
        median = percentile(waits, 0.5)
        accept_median = timedelta(seconds=round(median)) if median is not None else None
        scores_list = ratings.get(station.id, [])
        avg = sum(scores_list) / len(scores_list) if scores_list else None
        held, held_photo = activities.get(station.id, (0, 0))
        done, done_photo = completed.get(station.id, (0, 0))
        members, active = party.get(station.id, (0, 0))
        station_hours = hours.get(station.id, Decimal(0))
        target = policy.kpi.party_participation
        records = done + held
        scores: dict[str, float | None] = {
            "completion_rate": None if rate is None else 100.0 * rate,
            "response_time": response_score(accept_median, fast),
            "satisfaction": satisfaction_score(avg),
            "activities": relative_score(held, best_activities),
            "party_participation": target_score(active / members if members else None, target),
            "hours": relative_score(float(station_hours), best_hours),
            "record_completeness": (
                None if records == 0 else 100.0 * (done_photo + held_photo) / records
            ),
        }
        unranked.append(
            (
                station,
                StationScore(
                    station_id=station.id,
                    name_zh=station.name_zh,
                    name_en=station.name_en,
                    rank=0,
                    total=weighted_total(scores, weights),
                    scores=scores,
                    orders=len(mine),
                    completion_rate=rate,
                    accept_median=accept_median,
                    rating_avg=avg,
                    activities=held,
                    party_members=members,
                    party_active=active,
                    hours=station_hours,
                    records_done=records,
                    records_with_photo=done_photo + held_photo,
                ),
            )
        )
    # Highest total first; stations where nothing happened, then those with no score, last;
    # ties keep the config order.
    ordered = sorted(
        enumerate(unranked),
        key=lambda item: (
            not item[1][1].has_data,
            item[1][1].total is None,
            -(item[1][1].total or 0.0),
            item[0],
        ),
    )
    return [
        replace(score, rank=rank) for rank, (_i, (_station, score)) in enumerate(ordered, start=1)
    ]
