"""Durable reminders: rows with a due time, written when something happens, fired once.

The order's own clocks (accept nudge, escalation, volunteer reminders, overdue, rate) are
written and fired by `services.orders.sla`; activities' reminders by `services.activities`.
This module holds what they share and the calendar:

    the calendar (`ensure_calendar`, every tick)
        LEADER_DIGEST daily, OFFICE_WEEKLY weekly, at DIGEST_TIME local

`fire_due` claims one due row per transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL plus a
conditional UPDATE of `fired_at`), queues its notices and commits, all in that transaction:
two schedulers never fire one row twice, and a crash before the commit leaves the row to
fire after the restart. The outbox rows it writes are held by the sender during quiet hours
unless urgent (escalations are). Which handler fires which kind is the caller's table
(`scheduler.jobs.default_handlers`); `HANDLERS` here are the calendar's.

Handlers are given the context (`services.context.Ctx`: policy, time zone, clock) with the
reminder, as the services that write reminders are.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import FromClause, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    MemberRole,
    MembershipStatus,
    Order,
    OrderStatus,
    Rating,
    Region,
    Reminder,
    ReminderKind,
    Team,
    TeamMember,
)
from models.db import dialect_insert, rowcount
from services import people
from services.context import Ctx
from services.outbox import NoticeKind, notify_many
from services.uow import unit

log = logging.getLogger("civic_dispatch.reminders")

OPEN = (OrderStatus.ROUTED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
ALL_OPEN = (OrderStatus.NEW, *OPEN)
MAX_FAILURES = 5  # a reminder whose firing fails this often is given up (cancelled, noted)

# A handler queues the reminder's notices in the session it is given (flushing, not
# committing) and returns how many it queued. It may decide the reminder is stale and
# queue nothing. The escalation (`orders.time_out`) is the exception: it commits, and so
# commits the claim.
Handler = Callable[[AsyncSession, Ctx, Reminder, datetime], Awaitable[int]]


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def at_local(day: date, clock: time, tz: tzinfo) -> datetime:
    """`clock` on local `day`, in UTC."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


async def insert_ignore(
    session: AsyncSession, table: FromClause, rows: list[dict[str, Any]]
) -> int:
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


async def fire_digest(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
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


async def fire_weekly(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    """Last week's figures (Monday to Sunday before the summary's day) to each town's office."""
    tz = ctx.tz
    day = date.fromisoformat(reminder.note) if reminder.note else now.astimezone(tz).date()
    end = at_local(day - timedelta(days=day.weekday()), time(0, 0), tz)
    start = end - timedelta(days=7)
    towns = await session.scalars(select(Region).where(Region.served_town()))
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
    ctx: Ctx,
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
            if rowcount(claimed) != 1:  # fired by someone else a moment ago
                await session.rollback()
                skip.add(rid)
                continue
            try:
                # One unit with the claim above: a crash before its commit leaves the row due.
                async with unit(session):
                    count = await handlers[kind](session, ctx, reminder, now)
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
    async with sessionmaker() as session, unit(session):
        await session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id, Reminder.fired_at.is_(None))
            .values(cancelled=True, note=f"given up after {MAX_FAILURES} failures")
        )
    log.error("reminder %s given up after %s failures", reminder_id, MAX_FAILURES)
