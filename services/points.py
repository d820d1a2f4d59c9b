"""Hours and points: the append-only ledger (积分制).

Every booking is a new `PointsEntry`; a correction is another row, never an edit. Each rule
books at most once per (order, volunteer) thanks to `PointsEntry.dedupe_key`, so confirming
hours twice, or a retried transaction, books nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentStatus,
    LedgerSource,
    Order,
    PointsEntry,
    User,
    utcnow,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PointsRules:
    """The points rules of a town's policy (config: `policy.points`)."""

    points_per_hour: Decimal
    five_star_bonus: Decimal
    priority_group_bonus: Decimal

    @classmethod
    def from_policy(cls, points: Any) -> PointsRules:
        """From `cfg.policy.points` (an object with the three fields) or a plain mapping."""
        get = points.get if isinstance(points, dict) else lambda k: getattr(points, k)
        return cls(
            points_per_hour=Decimal(str(get("points_per_hour"))),
            five_star_bonus=Decimal(str(get("five_star_bonus"))),
            priority_group_bonus=Decimal(str(get("priority_group_bonus"))),
        )


DEFAULT_RULES = PointsRules(Decimal(10), Decimal(5), Decimal(5))


async def _served(
    session: AsyncSession, order_id: int, *, confirmed_only: bool
) -> list[Assignment]:
    stmt = select(Assignment).where(
        Assignment.order_id == order_id,
        Assignment.status == AssignmentStatus.DONE,
        Assignment.hours > 0,
    )
    if confirmed_only:
        stmt = stmt.where(Assignment.confirmed.is_(True))
    return list(await session.scalars(stmt.order_by(Assignment.id)))


async def _book(session: AsyncSession, entries: list[PointsEntry]) -> list[PointsEntry]:
    """Add the entries whose dedupe key is not in the ledger yet; returns those added."""
    keys = [e.dedupe_key for e in entries]
    if not keys:
        return []
    taken = set(
        await session.scalars(
            select(PointsEntry.dedupe_key).where(PointsEntry.dedupe_key.in_(keys))
        )
    )
    fresh = [e for e in entries if e.dedupe_key not in taken]
    session.add_all(fresh)
    await session.flush()
    return fresh


def _entry(
    order: Order, user_id: int, rule: str, *, hours: Decimal, points: Decimal, by: int | None
) -> PointsEntry:
    return PointsEntry(
        user_id=user_id,
        at=utcnow(),
        source=LedgerSource.ORDER if rule == "hours" else LedgerSource.BONUS,
        hours=hours,
        points=points.quantize(CENT, ROUND_HALF_UP),
        order_id=order.id,
        reason=f"order {order.number}: {rule}",
        created_by_id=by,
        dedupe_key=f"order:{order.id}:{rule}:{user_id}",
    )


async def book_order_hours(
    session: AsyncSession, order: Order, rules: PointsRules, *, by: User | None = None
) -> list[PointsEntry]:
    """Book the confirmed hours of an order (and the priority-group bonus, when the resident
    belongs to one) for every volunteer who served. Idempotent. Flushes; the caller commits."""
    resident = await session.get(User, order.resident_id)
    priority = resident is not None and resident.priority_group_id is not None
    by_id = by.id if by else None
    entries: list[PointsEntry] = []
    for a in await _served(session, order.id, confirmed_only=True):
        hours = Decimal(a.hours)
        entries.append(
            _entry(
                order,
                a.volunteer_id,
                "hours",
                hours=hours,
                points=hours * rules.points_per_hour,
                by=by_id,
            )
        )
        if priority and rules.priority_group_bonus > 0:
            entries.append(
                _entry(
                    order,
                    a.volunteer_id,
                    "priority",
                    hours=Decimal(0),
                    points=rules.priority_group_bonus,
                    by=by_id,
                )
            )
    return await _book(session, entries)


async def book_five_star(
    session: AsyncSession, order: Order, rules: PointsRules, *, by: User | None = None
) -> list[PointsEntry]:
    """The five-star bonus for every volunteer who served (confirmed or not). Idempotent."""
    if rules.five_star_bonus <= 0:
        return []
    by_id = by.id if by else None
    entries = [
        _entry(
            order,
            a.volunteer_id,
            "five_star",
            hours=Decimal(0),
            points=rules.five_star_bonus,
            by=by_id,
        )
        for a in await _served(session, order.id, confirmed_only=False)
    ]
    return await _book(session, entries)


def year_bounds(year: int, tz: tzinfo = LOCAL_TZ) -> tuple[datetime, datetime]:
    """[1 January 00:00, next 1 January 00:00) local time, as UTC: the reporting year."""
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


async def totals(
    session: AsyncSession, user_id: int, year: int, tz: tzinfo = LOCAL_TZ
) -> tuple[Decimal, Decimal]:
    """A volunteer's (hours, points) in a local calendar year, corrections included."""
    start, end = year_bounds(year, tz)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(PointsEntry.hours), 0),
                func.coalesce(func.sum(PointsEntry.points), 0),
            ).where(PointsEntry.user_id == user_id, PointsEntry.at >= start, PointsEntry.at < end)
        )
    ).one()
    return _dec(row[0]), _dec(row[1])


def _dec(value: object) -> Decimal:
    # SQLite hands back floats for sums of NUMERIC; round to cents so totals compare exactly.
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
