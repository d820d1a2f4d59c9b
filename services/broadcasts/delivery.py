"""Delivery: the fan-out (the scheduler's job), the delivery reports, and recipients who
blocked the bot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Broadcast,
    BroadcastStatus,
    OutboxMessage,
    OutboxStatus,
    Region,
    User,
    utcnow,
)
from models.db import rowcount
from services.broadcasts.audience import recipients
from services.broadcasts.recurrence import next_occurrence
from services.outbox import NoticeKind, notify
from services.reminders import insert_ignore
from services.uow import unit

log = logging.getLogger("civic_dispatch.broadcasts")
FANOUT_CHUNK = 500
NAMES_SHOWN = 20  # the report names so many of those not reached, then counts the rest
LEASE = timedelta(minutes=2)  # a fan-out claimed this long ago and not finished is resumed


@dataclass(frozen=True)
class Report:
    run: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.pending

    @property
    def finished(self) -> bool:
        return self.pending == 0


def run_key(broadcast_id: int, run: int) -> str:
    return f"bc:{broadcast_id}:{run}:"


async def report(session: AsyncSession, broadcast_id: int, run: int) -> Report:
    """Delivery of one run: one outbox row per recipient, counted by status."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.dedupe_key.like(run_key(broadcast_id, run) + "%"),
        )
        .group_by(OutboxMessage.status)
    )
    counts = {OutboxStatus(status): n for status, n in rows}
    return Report(
        run=run,
        sent=counts.get(OutboxStatus.SENT, 0),
        blocked=counts.get(OutboxStatus.BLOCKED, 0),
        failed=counts.get(OutboxStatus.FAILED, 0),
        pending=counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0),
    )


@dataclass(frozen=True)
class Recipient:
    """Someone a run was meant for, as the author's report names them."""

    name: str | None
    station: Region | None


async def unreached(
    session: AsyncSession,
    broadcast_id: int,
    run: int,
    status: OutboxStatus,
    limit: int = NAMES_SHOWN,
) -> list[Recipient]:
    """The first `limit` recipients of one run whose delivery ended in `status` (blocked
    the bot, failed), by village and name: whom the author should reach another way."""
    rows = await session.execute(
        select(User.name, Region)
        .select_from(OutboxMessage)
        .join(User, User.id == OutboxMessage.user_id)
        .outerjoin(Region, Region.id == User.station_id)
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.dedupe_key.like(run_key(broadcast_id, run) + "%"),
            OutboxMessage.status == status,
        )
        .order_by(Region.sort, Region.id, User.name, User.id)
        .limit(limit)
    )
    return [Recipient(name, station) for name, station in rows]


def _report_key(broadcast_id: int, run: int) -> str:
    return f"bcreport:{broadcast_id}:{run}"


async def send_reports(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> list[int]:
    """Tell each author whose latest run has nothing left pending how it went (once per
    run: the report is itself an outbox row with a dedupe key). Returns broadcast ids."""
    done: list[int] = []
    report_key = (
        literal("bcreport:")
        + cast(Broadcast.id, String)
        + literal(":")
        + cast(Broadcast.runs, String)
    )
    async with sessionmaker() as session, unit(session):
        candidates = list(
            await session.scalars(
                select(Broadcast)
                .where(
                    Broadcast.runs > 0,
                    Broadcast.status != BroadcastStatus.SENDING,
                    ~exists().where(OutboxMessage.dedupe_key == report_key),
                )
                .order_by(Broadcast.id)
                .limit(100)
            )
        )
        for bc in candidates:
            result = await report(session, bc.id, bc.runs)
            if not result.finished:
                continue
            key = _report_key(bc.id, bc.runs)
            row = await notify(
                session,
                bc.author_id,
                NoticeKind.BROADCAST_REPORT,
                dedupe_key=key,
                broadcast_id=bc.id,
                run=bc.runs,
            )
            if row is None:  # the author cannot be reached: record that, once
                await insert_ignore(
                    session,
                    OutboxMessage.__table__,
                    [
                        _row(
                            bc, bc.author_id, 0, key, now, OutboxStatus.FAILED, "author unreachable"
                        )
                    ],
                )
            done.append(bc.id)
    return done


@dataclass(frozen=True)
class Run:
    broadcast_id: int
    run: int
    queued: int  # rows written by this fan-out (0 when resuming one already complete)
    finished: bool  # False: cancelled under our feet or taken over


def _row(
    bc: Broadcast,
    user_id: int,
    chat_id: int,
    key: str,
    now: datetime,
    status: OutboxStatus = OutboxStatus.PENDING,
    error: str | None = None,
) -> dict[str, Any]:
    kind = NoticeKind.BROADCAST if key.startswith("bc:") else NoticeKind.BROADCAST_REPORT
    return {
        "chat_id": chat_id,
        "user_id": user_id,
        "method": "notice",
        "payload": {"kind": kind, "broadcast_id": bc.id},
        "urgent": False,
        "not_before": now,
        "status": status,
        "attempts": 0,
        "last_error": error,
        "broadcast_id": bc.id,
        "order_id": None,
        "dedupe_key": key,
        "created_at": now,
    }


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> tuple[Broadcast, int] | None:
    """One due broadcast (or a fan-out whose lease ran out), moved to `sending` with a fresh
    lease; a scheduled one starts a new run."""
    async with sessionmaker() as session:
        async with unit(session):
            bc = await session.scalar(
                select(Broadcast)
                .where(
                    Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]),
                    Broadcast.next_run_at <= now,
                )
                .order_by(Broadcast.next_run_at, Broadcast.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if bc is None:
                return None
            if bc.status == BroadcastStatus.SCHEDULED:
                run = bc.runs + 1
                values: dict[str, Any] = {"status": BroadcastStatus.SENDING, "runs": run}
            else:
                run = bc.runs
                values = {}
            claimed = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == bc.id,
                    Broadcast.status == bc.status,
                    Broadcast.runs == bc.runs,
                    Broadcast.next_run_at == bc.next_run_at,
                )
                .values(next_run_at=now + LEASE, **values)
                .execution_options(synchronize_session=False)
            )
            if rowcount(claimed) != 1:
                await session.rollback()
                return None
        return bc, run


async def fan_out(
    sessionmaker: async_sessionmaker[AsyncSession],
    bc: Broadcast,
    run: int,
    now: datetime,
    *,
    chunk: int = FANOUT_CHUNK,
) -> tuple[int, bool]:
    """Write the run's outbox rows, `chunk` recipients per transaction, renewing the lease
    each time. Returns (rows written, completed)."""
    last, written = 0, 0
    while True:
        async with sessionmaker() as session:
            async with unit(session):
                people = (
                    await session.execute(
                        recipients(bc.town_id, bc.audience)
                        .where(User.id > last)
                        .order_by(User.id)
                        .limit(chunk)
                    )
                ).all()
                if not people:
                    return written, True
                rows = [
                    _row(bc, uid, tg_id, f"{run_key(bc.id, run)}{uid}", now)
                    if not blocked
                    else _row(
                        bc,
                        uid,
                        tg_id,
                        f"{run_key(bc.id, run)}{uid}",
                        now,
                        OutboxStatus.BLOCKED,
                        "skipped: blocked the bot earlier",
                    )
                    for uid, tg_id, blocked in people
                    if tg_id is not None  # recipients() asks for a chat id: this only narrows
                ]
                written += await insert_ignore(session, OutboxMessage.__table__, rows)
                lease = await session.execute(
                    update(Broadcast)
                    .where(
                        Broadcast.id == bc.id,
                        Broadcast.status == BroadcastStatus.SENDING,
                        Broadcast.runs == run,
                    )
                    .values(next_run_at=now + LEASE)
                )
                if rowcount(lease) != 1:  # cancelled meanwhile: write nothing more
                    await session.rollback()
                    return written, False
            last = people[-1][0]


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    bc: Broadcast,
    run: int,
    now: datetime,
    tz: tzinfo,
) -> None:
    nxt = next_occurrence(bc.recurrence, now, tz) if bc.recurrence else None
    async with sessionmaker() as session, unit(session):
        await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == bc.id,
                Broadcast.status == BroadcastStatus.SENDING,
                Broadcast.runs == run,
            )
            .values(
                status=BroadcastStatus.SCHEDULED if nxt else BroadcastStatus.SENT,
                next_run_at=nxt,
            )
        )


async def run_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    tz: tzinfo,
    chunk: int = FANOUT_CHUNK,
    limit: int = 20,
) -> list[Run]:
    """Fan out every broadcast due at `now` (and resume fan-outs whose lease ran out)."""
    runs: list[Run] = []
    for _ in range(limit):
        claimed = await _claim(sessionmaker, now)
        if claimed is None:
            break
        bc, run = claimed
        written, complete = await fan_out(sessionmaker, bc, run, now, chunk=chunk)
        if complete:
            await _finish(sessionmaker, bc, run, now, tz)
        log.info("broadcast %s run %s: %s rows queued", bc.id, run, written)
        runs.append(Run(bc.id, run, written, complete))
    return runs


async def release_leases(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """On start-up of the only instance (SQLite): fan-outs left `sending` by a crash resume
    at once instead of after their lease."""
    async with sessionmaker() as session:
        async with unit(session):
            result = await session.execute(
                update(Broadcast)
                .where(Broadcast.status == BroadcastStatus.SENDING, Broadcast.next_run_at > now)
                .values(next_run_at=now)
            )
        return rowcount(result)


async def mark_blocked(session: AsyncSession, user: User, blocked: bool) -> bool:
    """The user blocked (or unblocked) the bot, as Telegram told us (`my_chat_member`).
    Returns True if anything changed. Commits."""
    if user.blocked == blocked:
        return False
    async with unit(session, user):
        user.blocked = blocked
        user.blocked_at = utcnow() if blocked else None
    return True
