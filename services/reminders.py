"""Durable reminders: rows with a due time, written at order transitions, fired once.

What is written where (durations from the org config's `policy:` block):

    routed (new, declined, timed out, transferred)
        ACCEPT_NUDGE at routed + sla.accept_reminder      → whoever holds the order
        ESCALATE     at routed + sla.escalate_after       → heads + office, next candidate
    volunteers assigned (or the slot moved)
        VOLUNTEER_EVENING the evening before the slot, at volunteer_reminders.evening_before
        VOLUNTEER_HOUR    volunteer_reminders.before_slot before the slot
        OVERDUE           slot end + sla.overdue_grace     → volunteers and the leader
    done
        RATE         at done + sla.rate_reminder          → the resident, once
    the calendar (`ensure_calendar`, every tick)
        LEADER_DIGEST daily, OFFICE_WEEKLY weekly, at DIGEST_TIME local

A reminder remembers what it was written for in `note` (the order version, or the slot in
ISO form). When it fires and the order has moved on — accepted, cancelled, re-routed,
re-assigned, done — it is skipped. Nothing has to be cancelled at transitions, and a reminder
firing late (after downtime) never nags about something already settled.

`fire_due` claims one due row per transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL plus a
conditional UPDATE of `fired_at`), queues its notices and commits, all in that transaction:
two schedulers never fire one row twice, and a crash before the commit leaves the row to
fire after the restart. The outbox rows it writes are held by the sender during quiet hours
unless urgent (escalations are).

The database session carries the policy and the display time zone (`configure_sessions`),
so the order services need no extra arguments to write reminders.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Assignment,
    AssignmentStatus,
    MemberRole,
    MembershipStatus,
    Order,
    OrderStatus,
    Rating,
    Region,
    RegionLevel,
    Reminder,
    ReminderKind,
    Team,
    TeamMember,
    User,
    utcnow,
)
from models.db import dialect_insert
from services import people, routing
from services.org import Policy
from services.outbox import NoticeKind, notify, notify_many
from services.points import LOCAL_TZ

log = logging.getLogger("civic_dispatch.reminders")

POLICY_KEY = "civic_dispatch.policy"
TZ_KEY = "civic_dispatch.tz"
DEFAULT_POLICY = Policy()
OPEN = (OrderStatus.ROUTED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
ALL_OPEN = (OrderStatus.NEW, *OPEN)
MAX_FAILURES = 5  # a reminder whose firing fails this often is given up (cancelled, noted)

# A handler queues the reminder's notices in the session it is given (flushing, not
# committing) and returns how many it queued. It may decide the reminder is stale and
# queue nothing. `orders.time_out` is the exception: it commits, and so commits the claim.
Handler = Callable[[AsyncSession, Reminder, datetime], Awaitable[int]]


# ---------------------------------------------------------------------------------------
# Configuration carried by the session
# ---------------------------------------------------------------------------------------


def configure_sessions(
    sessionmaker: async_sessionmaker[AsyncSession], policy: Policy, tz: tzinfo
) -> None:
    """Every session made from now on knows the org policy and the display time zone."""
    info = dict(sessionmaker.kw.get("info") or {})
    info.update({POLICY_KEY: policy, TZ_KEY: tz})
    sessionmaker.configure(info=info)


def policy_of(session: AsyncSession) -> Policy:
    return session.info.get(POLICY_KEY) or DEFAULT_POLICY


def tz_of(session: AsyncSession) -> tzinfo:
    return session.info.get(TZ_KEY) or LOCAL_TZ


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def at_local(day: date, clock: time, tz: tzinfo) -> datetime:
    """`clock` on local `day`, in UTC."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


async def insert_ignore(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> int:
    """Insert rows keyed by a unique `dedupe_key`; rows whose key exists are skipped (also
    when another instance inserts the same key at the same moment). Returns rows inserted."""
    if not rows:
        return 0
    stmt = (
        dialect_insert(session)(table)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id)
    )
    result = await session.execute(stmt, rows)
    return len(result.all())


async def schedule(session: AsyncSession, items: Iterable[dict[str, Any]]) -> int:
    """Write reminder rows ({kind, due_at, dedupe_key, order_id?, note?, …}); each key once."""
    rows = [
        {
            "order_id": None,
            "assignment_id": None,
            "activity_id": None,
            "user_id": None,
            "note": None,
            "cancelled": False,
            **item,
        }
        for item in items
    ]
    return await insert_ignore(session, Reminder.__table__, rows)


# ---------------------------------------------------------------------------------------
# Writing reminders at order transitions (called by services/orders.py)
# ---------------------------------------------------------------------------------------


async def order_routed(session: AsyncSession, order: Order) -> None:
    """The order was just handed to someone: start their acceptance clock."""
    if order.status != OrderStatus.ROUTED:
        return
    sla = policy_of(session).sla
    start = order.routed_at or utcnow()
    version = str(order.version)
    await schedule(
        session,
        [
            {
                "kind": ReminderKind.ACCEPT_NUDGE,
                "due_at": start + sla.accept_reminder,
                "order_id": order.id,
                "note": version,
                "dedupe_key": f"order:{order.id}:nudge:{version}",
            },
            {
                "kind": ReminderKind.ESCALATE,
                "due_at": start + sla.escalate_after,
                "order_id": order.id,
                "note": version,
                "dedupe_key": f"order:{order.id}:escalate:{version}",
            },
        ],
    )


async def slot_set(session: AsyncSession, order: Order) -> None:
    """Volunteers and a slot were set (or the slot moved): remind them, then watch the end."""
    if order.slot_start is None or order.slot_end is None:
        return
    policy, tz, now = policy_of(session), tz_of(session), utcnow()
    start, end = iso(order.slot_start), iso(order.slot_end)
    local_day = order.slot_start.astimezone(tz).date()
    evening = at_local(local_day - timedelta(days=1), policy.volunteer_reminders.evening_before, tz)
    hour = order.slot_start - policy.volunteer_reminders.before_slot
    items: list[dict[str, Any]] = []
    if evening > now:
        items.append(
            {
                "kind": ReminderKind.VOLUNTEER_EVENING,
                "due_at": evening,
                "order_id": order.id,
                "note": start,
                "dedupe_key": f"order:{order.id}:vol_evening:{start}",
            }
        )
    if hour > now:
        items.append(
            {
                "kind": ReminderKind.VOLUNTEER_HOUR,
                "due_at": hour,
                "order_id": order.id,
                "note": start,
                "dedupe_key": f"order:{order.id}:vol_hour:{start}",
            }
        )
    items.append(
        {
            "kind": ReminderKind.OVERDUE,
            "due_at": order.slot_end + policy.sla.overdue_grace,
            "order_id": order.id,
            "note": end,
            "dedupe_key": f"order:{order.id}:overdue:{end}",
        }
    )
    await schedule(session, items)


async def order_done(session: AsyncSession, order: Order) -> None:
    """Completed: if the resident has not rated it after a while, ask once more."""
    done = order.done_at or utcnow()
    await schedule(
        session,
        [
            {
                "kind": ReminderKind.RATE,
                "due_at": done + policy_of(session).sla.rate_reminder,
                "order_id": order.id,
                "dedupe_key": f"order:{order.id}:rate",
            }
        ],
    )


# ---------------------------------------------------------------------------------------
# The calendar: the daily digest and the weekly summary
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    tz: tzinfo
    digest_time: time = time(8, 0)
    weekly_day: int = 0  # Monday


def _next_daily(now: datetime, cal: Calendar) -> tuple[date, datetime]:
    day = now.astimezone(cal.tz).date()
    for offset in range(3):
        when = at_local(day + timedelta(days=offset), cal.digest_time, cal.tz)
        if when > now:
            return day + timedelta(days=offset), when
    raise AssertionError("unreachable")


def _next_weekly(now: datetime, cal: Calendar) -> tuple[date, datetime]:
    day = now.astimezone(cal.tz).date()
    for offset in range(9):
        candidate = day + timedelta(days=offset)
        when = at_local(candidate, cal.digest_time, cal.tz)
        if candidate.weekday() == cal.weekly_day and when > now:
            return candidate, when
    raise AssertionError("unreachable")


def _next_monthly(now: datetime, cal: Calendar) -> tuple[date, datetime]:
    local = now.astimezone(cal.tz).date()
    first = local.replace(day=1)
    for candidate in (first, (first + timedelta(days=32)).replace(day=1)):
        when = at_local(candidate, cal.digest_time, cal.tz)
        if when > now:
            return candidate, when
    raise AssertionError("unreachable")


CALENDAR = {
    ReminderKind.LEADER_DIGEST: ("digest", _next_daily),
    ReminderKind.OFFICE_WEEKLY: ("weekly", _next_weekly),
    ReminderKind.KPI_NUDGE: ("kpi", _next_monthly),  # fired only if a handler is registered
}


async def ensure_calendar(
    session: AsyncSession,
    now: datetime,
    cal: Calendar,
    kinds: Iterable[ReminderKind] = (ReminderKind.LEADER_DIGEST, ReminderKind.OFFICE_WEEKLY),
) -> int:
    """Make sure the next occurrence of each calendar item (daily digest, weekly summary,
    …) is written down. One missed while the bot was down is still there and fires, once,
    on start; then the next one is written. Flushes."""
    items = []
    for kind in kinds:
        if kind not in CALENDAR:
            continue
        tag, next_of = CALENDAR[kind]
        day, when = next_of(now, cal)
        items.append(
            {
                "kind": kind,
                "due_at": when,
                "note": day.isoformat(),
                "dedupe_key": f"calendar:{tag}:{day.isoformat()}",
            }
        )
    return await schedule(session, items)


# ---------------------------------------------------------------------------------------
# Firing
# ---------------------------------------------------------------------------------------


async def _order(session: AsyncSession, reminder: Reminder, *, lock: bool = False) -> Order | None:
    if reminder.order_id is None:
        return None
    stmt = select(Order).where(Order.id == reminder.order_id)
    if lock:  # PostgreSQL: an Accept at this moment waits for this transaction, then loses
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def holders(session: AsyncSession, order: Order) -> list[User]:
    """Who is expected to accept the routed order now: the team's leaders, or the office."""
    if order.handler_kind == "office" or order.team_id is None:
        return await people.office_staff(session, order.town_id)
    return await people.team_leaders(session, order.team_id)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


async def fire_accept_nudge(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if order is None or order.status != OrderStatus.ROUTED or str(order.version) != reminder.note:
        return 0
    return await notify_many(
        session,
        await holders(session, order),
        NoticeKind.ACCEPT_NUDGE,
        dedupe_key=f"order:{order.id}:nudge:{order.version}",
        order_id=order.id,
        number=order.number,
        version=order.version,
        minutes=_minutes(now - (order.routed_at or now)),
    )


async def fire_escalate(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    """Not accepted in time: the order is flagged escalated and passed to the next
    candidate (`orders.time_out`); the station head(s) and the office are told at once
    (urgent). With nobody left, routing itself tells the office, admins and heads."""
    from services import orders  # orders imports this module

    order = await _order(session, reminder, lock=True)
    if order is None or order.status != OrderStatus.ROUTED or str(order.version) != reminder.note:
        return 0
    current = routing.OFFICE_KEY if order.team_id is None else f"team:{order.team_id}"
    onward = [c for c in await routing.candidates(session, order) if c.key != current]
    count = 0
    if onward:
        alerted = [
            *await people.station_heads(session, order.station_id),
            *await people.office_staff(session, order.town_id),
        ]
        count = await notify_many(
            session,
            alerted,
            NoticeKind.ESCALATION,
            dedupe_key=f"order:{order.id}:escalation:{order.version}",
            order_id=order.id,
            urgent=True,
            number=order.number,
            minutes=_minutes(now - (order.routed_at or now)),
        )
    # Commits the claim, the notices above and the re-routing together.
    await orders.time_out(session, order.id, order.version)
    return count


async def _assigned(session: AsyncSession, order_id: int, statuses: Iterable[str]) -> list[int]:
    return list(
        await session.scalars(
            select(Assignment.volunteer_id)
            .where(Assignment.order_id == order_id, Assignment.status.in_(list(statuses)))
            .order_by(Assignment.id)
        )
    )


async def fire_volunteer(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if (
        order is None
        or order.status != OrderStatus.ACCEPTED
        or order.slot_start is None
        or iso(order.slot_start) != reminder.note
    ):
        return 0
    which = "evening" if reminder.kind == ReminderKind.VOLUNTEER_EVENING else "hour"
    return await notify_many(
        session,
        await _assigned(session, order.id, [AssignmentStatus.ASSIGNED]),
        NoticeKind.VOLUNTEER_REMINDER,
        dedupe_key=f"order:{order.id}:vol_{which}:{reminder.note}",
        order_id=order.id,
        number=order.number,
        which=which,
        slot_start=reminder.note,
    )


async def fire_overdue(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if (
        order is None
        or order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
        or order.slot_end is None
        or iso(order.slot_end) != reminder.note
    ):
        return 0
    people = await _assigned(
        session, order.id, [AssignmentStatus.ASSIGNED, AssignmentStatus.STARTED]
    )
    if order.accepted_by_id is not None:
        people.append(order.accepted_by_id)
    return await notify_many(
        session,
        people,
        NoticeKind.OVERDUE,
        dedupe_key=f"order:{order.id}:overdue:{reminder.note}",
        order_id=order.id,
        number=order.number,
        slot_end=reminder.note,
    )


async def fire_rate(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if order is None or order.status != OrderStatus.DONE:
        return 0
    resident = await session.get(User, order.resident_id)
    follower = (
        resident.id
        if resident is not None and resident.tg_id is not None
        else (order.placed_by_id if order.is_proxy else None)
    )
    if follower is None:
        return 0
    row = await notify(
        session,
        follower,
        NoticeKind.RATE_REQUEST,
        dedupe_key=f"order:{order.id}:rate_reminder",
        order_id=order.id,
        number=order.number,
        reminder=True,
    )
    return int(row is not None)


async def leaders_with_open_orders(session: AsyncSession) -> list[int]:
    rows = await session.scalars(
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Order, Order.team_id == TeamMember.team_id)
        .where(
            TeamMember.role == MemberRole.LEADER,
            TeamMember.status == MembershipStatus.ACTIVE,
            Team.active.is_(True),
            Order.status.in_(OPEN),
        )
        .distinct()
        .order_by(TeamMember.user_id)
    )
    return list(rows)


async def fire_digest(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    """Each leader whose teams hold open orders gets the list (rendered when sent)."""
    return await notify_many(
        session,
        await leaders_with_open_orders(session),
        NoticeKind.LEADER_DIGEST,
        dedupe_key=f"digest:{reminder.note}",
        day=reminder.note,
    )


@dataclass(frozen=True)
class WeekFigures:
    start: str  # local dates, inclusive
    end: str
    received: int
    completed: int
    open: int
    escalated: int
    rated: int
    average_rating: float | None


async def week_figures(
    session: AsyncSession, town_id: int, start: datetime, end: datetime, tz: tzinfo
) -> WeekFigures:
    """Orders of a town in [start, end): received, completed, escalated, rated; and open now."""

    async def count(*where: Any) -> int:
        return int(
            await session.scalar(
                select(func.count(Order.id)).where(Order.town_id == town_id, *where)
            )
            or 0
        )

    def within(column: Any) -> Any:
        return and_(column >= start, column < end)

    rated, average = (
        await session.execute(
            select(func.count(Rating.id), func.avg(Rating.score))
            .join(Order, Order.id == Rating.order_id)
            .where(Order.town_id == town_id, within(Rating.created_at))
        )
    ).one()
    return WeekFigures(
        start=start.astimezone(tz).date().isoformat(),
        end=(end.astimezone(tz) - timedelta(days=1)).date().isoformat(),
        received=await count(within(Order.created_at)),
        completed=await count(within(Order.done_at)),
        open=await count(Order.status.in_(ALL_OPEN)),
        escalated=await count(within(Order.escalated_at)),
        rated=int(rated or 0),
        average_rating=round(float(average), 2) if average is not None else None,
    )


async def fire_weekly(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    """Last week's figures (Monday to Sunday before the summary's day) to each town's office."""
    tz = tz_of(session)
    day = date.fromisoformat(reminder.note) if reminder.note else now.astimezone(tz).date()
    end = at_local(day - timedelta(days=day.weekday()), time(0, 0), tz)
    start = end - timedelta(days=7)
    towns = await session.scalars(
        select(Region).where(Region.level == RegionLevel.TOWN, Region.active.is_(True))
    )
    count = 0
    for town in list(towns):
        figures = await week_figures(session, town.id, start, end, tz)
        count += await notify_many(
            session,
            await people.office_staff(session, town.id),
            NoticeKind.OFFICE_WEEKLY,
            dedupe_key=f"weekly:{reminder.note}:{town.id}",
            town_id=town.id,
            **asdict(figures),
        )
    return count


HANDLERS: dict[ReminderKind, Handler] = {
    ReminderKind.ACCEPT_NUDGE: fire_accept_nudge,
    ReminderKind.ESCALATE: fire_escalate,
    ReminderKind.VOLUNTEER_EVENING: fire_volunteer,
    ReminderKind.VOLUNTEER_HOUR: fire_volunteer,
    ReminderKind.OVERDUE: fire_overdue,
    ReminderKind.RATE: fire_rate,
    ReminderKind.LEADER_DIGEST: fire_digest,
    ReminderKind.OFFICE_WEEKLY: fire_weekly,
}


@dataclass(frozen=True)
class Fired:
    reminder_id: int
    kind: ReminderKind
    notices: int


async def fire_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    worker: str,
    handlers: Mapping[ReminderKind, Handler] | None = None,
    limit: int = 500,
    failures: dict[int, int] | None = None,
) -> list[Fired]:
    """Fire every reminder due at `now` (at most `limit`), one transaction each.

    The claim is `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers
    instead) plus `UPDATE … SET fired_at WHERE fired_at IS NULL`, in the transaction that
    queues the notices: a row is fired by exactly one scheduler, exactly once. A handler
    that raises rolls its row back to be retried next tick; after MAX_FAILURES the row is
    cancelled (noted), so one bad row cannot block the rest. Kinds without a handler are
    left alone (another module may fire them). Rows written while this runs (an escalation
    hands the order on and starts a new clock) wait for the next tick."""
    handlers = HANDLERS if handlers is None else handlers
    failures = {} if failures is None else failures
    fired: list[Fired] = []
    skip: set[int] = set()
    async with sessionmaker() as session:
        newest = await session.scalar(select(func.max(Reminder.id)))
    if newest is None:
        return fired
    for _ in range(limit):
        async with sessionmaker() as session:
            stmt = (
                select(Reminder)
                .where(
                    Reminder.id <= newest,
                    Reminder.fired_at.is_(None),
                    Reminder.cancelled.is_(False),
                    Reminder.due_at <= now,
                    Reminder.kind.in_(list(handlers)),
                )
                .order_by(Reminder.due_at, Reminder.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if skip:
                stmt = stmt.where(Reminder.id.not_in(skip))
            reminder = await session.scalar(stmt)
            if reminder is None:
                break
            rid, kind = reminder.id, reminder.kind
            claimed = await session.execute(
                update(Reminder)
                .where(
                    Reminder.id == rid,
                    Reminder.fired_at.is_(None),
                    Reminder.cancelled.is_(False),
                )
                .values(fired_at=now, claimed_by=worker)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # fired by someone else a moment ago
                await session.rollback()
                skip.add(rid)
                continue
            try:
                count = await handlers[kind](session, reminder, now)
                await session.commit()
            except Exception:
                log.exception("reminder %s (%s) failed", rid, kind)
                await session.rollback()
                skip.add(rid)
                failures[rid] = failures.get(rid, 0) + 1
                if failures[rid] >= MAX_FAILURES:
                    await _give_up(sessionmaker, rid)
                continue
            failures.pop(rid, None)
            fired.append(Fired(rid, kind, count))
    return fired


async def _give_up(sessionmaker: async_sessionmaker[AsyncSession], reminder_id: int) -> None:
    async with sessionmaker() as session:
        await session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.fired_at.is_(None))
            .values(cancelled=True, note=f"given up after {MAX_FAILURES} failures")
        )
        await session.commit()
    log.error("reminder %s given up after %s failures", reminder_id, MAX_FAILURES)
