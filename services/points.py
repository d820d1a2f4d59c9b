"""Hours and points: the append-only ledger (积分制).

Every booking is a new `PointsEntry`; a correction is another row, never an edit. Each rule
books at most once per (order, volunteer) thanks to `PointsEntry.dedupe_key`, so confirming
hours twice, or a retried transaction, books nothing twice.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    Assignment,
    AssignmentStatus,
    LedgerSource,
    MembershipStatus,
    Order,
    PointsEntry,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services.errors import DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.people import Roles
from services.text import required_text

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the default TIMEZONE only: services are given the zone
CENT = Decimal("0.01")
ZERO = Decimal(0)


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
    order: Order, user_id: int, rule: str, *, points: Decimal, by: int | None, hours: Decimal = ZERO
) -> PointsEntry:
    """A ledger line of an order: its hours, or a bonus (points without hours)."""
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
        hours = Decimal(a.hours or 0)  # the query asks for hours > 0
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
                    order, a.volunteer_id, "priority", points=rules.priority_group_bonus, by=by_id
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
        _entry(order, a.volunteer_id, "five_star", points=rules.five_star_bonus, by=by_id)
        for a in await _served(session, order.id, confirmed_only=False)
    ]
    return await _book(session, entries)


async def book_activity_hours(
    session: AsyncSession,
    activity: Activity,
    hours: dict[int, Decimal],
    rules: PointsRules,
    *,
    by: User | None = None,
    at: datetime | None = None,
) -> list[PointsEntry]:
    """Book the attended hours of an activity, {user id: hours}, as hours and points.

    Dated at the activity's end (or now, if that is earlier), so the hours count for the
    year the activity took place. Idempotent per (activity, volunteer). Flushes."""
    when = at or min(activity.ends_at, utcnow())
    entries = [
        PointsEntry(
            user_id=user_id,
            at=when,
            source=LedgerSource.ACTIVITY,
            hours=Decimal(h),
            points=(Decimal(h) * rules.points_per_hour).quantize(CENT, ROUND_HALF_UP),
            activity_id=activity.id,
            reason=f"activity {activity.number}: hours",
            created_by_id=by.id if by else None,
            dedupe_key=f"activity:{activity.id}:hours:{user_id}",
        )
        for user_id, h in sorted(hours.items())
        if Decimal(h) > 0
    ]
    return await _book(session, entries)


MAX_REASON = 500


async def correct(
    session: AsyncSession,
    user_id: int,
    *,
    hours: Decimal | int | str = 0,
    points: Decimal | int | str = 0,
    reason: str,
    by: User,
    roles: Roles,
    corrects_id: int | None = None,
    source: LedgerSource = LedgerSource.CORRECTION,
) -> PointsEntry:
    """The office books a correction (or, with `source=BONUS`, a bonus such as a
    commendation) as a new ledger row with a reason; nothing is ever edited. Hours and
    points may be negative. `corrects_id` names the entry being put right (the same
    person's). Dated now: a closed year is not reopened. Flushes; the caller commits."""
    if roles.user_id != by.id or not roles.is_office:
        raise NotAllowed(N_("Only the office can correct hours and points."))
    if source not in (LedgerSource.CORRECTION, LedgerSource.BONUS):
        raise ValueError(f"corrections are CORRECTION or BONUS rows, not {source}")
    target = await session.get(User, user_id)
    if target is None:
        raise NotFound(N_("This person does not exist."))
    if not roles.admin and not (await towns_of(session, target)) & roles.office_towns:
        raise NotAllowed(N_("Only the office can correct hours and points."))
    missing = N_("Please give the reason for the correction.")
    why = required_text(reason, limit=MAX_REASON, what=missing)
    try:
        h = Decimal(str(hours)).quantize(CENT, ROUND_HALF_UP)
        p = Decimal(str(points)).quantize(CENT, ROUND_HALF_UP)
    except ArithmeticError as exc:
        raise DomainError(N_("Please give a number.")) from exc
    if not (h.is_finite() and p.is_finite()):  # "NaN" quantizes quietly to NaN
        raise DomainError(N_("Please give a number."))
    if h == 0 and p == 0:
        raise DomainError(N_("A correction must change the hours or the points."))
    if corrects_id is not None:
        original = await session.get(PointsEntry, corrects_id)
        if original is None or original.user_id != user_id:
            raise NotFound(N_("This ledger entry does not exist."))
    entry = PointsEntry(
        user_id=user_id,
        at=utcnow(),
        source=source,
        hours=h,
        points=p,
        corrects_id=corrects_id,
        reason=why,
        created_by_id=by.id,
    )
    session.add(entry)
    await session.flush()
    return entry


async def towns_of(session: AsyncSession, user: User) -> set[int]:
    """The towns a person belongs to: where they live and where their teams are."""
    towns = set(
        await session.scalars(
            select(Team.town_id)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.user_id == user.id, TeamMember.status == MembershipStatus.ACTIVE)
        )
    )
    return towns | ({user.town_id} if user.town_id else set())


def in_towns(towns: Collection[int]) -> ColumnElement[bool]:
    """`towns_of(user) & towns` as a condition on User: they live in one of `towns` or are
    in an active team of one."""
    team_members = (
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(Team.town_id.in_(towns), TeamMember.status == MembershipStatus.ACTIVE)
    )
    return or_(User.town_id.in_(towns), User.id.in_(team_members))


async def recent_entries(session: AsyncSession, user_id: int, limit: int = 5) -> list[PointsEntry]:
    """A volunteer's latest ledger lines, newest first."""
    rows = await session.scalars(
        select(PointsEntry)
        .where(PointsEntry.user_id == user_id)
        .order_by(PointsEntry.at.desc(), PointsEntry.id.desc())
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class RecentEntry:
    """A ledger line with what it was for: the order's number or the activity's title."""

    entry: PointsEntry
    order_number: str | None = None
    activity_title: str | None = None


async def recent(session: AsyncSession, user_id: int, limit: int = 5) -> list[RecentEntry]:
    """A volunteer's latest ledger lines, newest first, each with its order or activity."""
    found = []
    for entry in await recent_entries(session, user_id, limit):
        order = await session.get(Order, entry.order_id) if entry.order_id else None
        activity = await session.get(Activity, entry.activity_id) if entry.activity_id else None
        found.append(
            RecentEntry(
                entry,
                order_number=order.number if order else None,
                activity_title=activity.title if activity else None,
            )
        )
    return found


async def lifetime_points(session: AsyncSession, user_id: int) -> Decimal:
    """All the points a volunteer has ever earned, corrections included."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.user_id == user_id)
    )
    return _dec(total)


async def totals_by_user(
    session: AsyncSession, user_ids: list[int], year: int, tz: tzinfo
) -> dict[int, tuple[Decimal, Decimal]]:
    """{user id: (hours, points)} in a local calendar year, for many people at once."""
    if not user_ids:
        return {}
    start, end = year_bounds(year, tz)
    rows = await session.execute(
        select(
            PointsEntry.user_id,
            func.coalesce(func.sum(PointsEntry.hours), 0),
            func.coalesce(func.sum(PointsEntry.points), 0),
        )
        .where(PointsEntry.user_id.in_(user_ids), PointsEntry.at >= start, PointsEntry.at < end)
        .group_by(PointsEntry.user_id)
    )
    found = {uid: (_dec(h), _dec(p)) for uid, h, p in rows}
    return {uid: found.get(uid, (Decimal("0.00"), Decimal("0.00"))) for uid in user_ids}


def year_bounds(year: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """[1 January 00:00, next 1 January 00:00) local time, as UTC: the reporting year."""
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end


async def totals(
    session: AsyncSession, user_id: int, year: int, tz: tzinfo
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
