"""The clock and the sender, without Telegram: APScheduler's jobs, claims that never fire a
row twice (two schedulers on one database), quiet hours, and the sender's outcomes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from time import monotonic

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import SendMessage
from aiogram.types import Message
from sqlalchemy import select, update

from bot.sender import MAX_ATTEMPTS, RateLimits, Sender
from models import OutboxMessage, OutboxStatus, Reminder, ReminderKind, User
from models.db import make_engine, make_sessionmaker
from scheduler import Jobs, ManualClock, Scheduler
from scheduler.runner import JOB_IDS
from services import reminders
from services.orders import sla
from services.outbox import NoticeKind, notify
from services.points import LOCAL_TZ
from services.quiet import QuietHours
from tests.conftest import USE_POSTGRES
from tests.factories import CTX, make_cast, make_user, place_order
from tests.scheduler_harness import running_on

TZ = LOCAL_TZ
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # the process clock in the reminder tests below


def local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


# --- the clock ------------------------------------------------------------------------------


def test_manual_clock():
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    assert clock.advance(minutes=30) == datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    assert clock.now() == datetime(2026, 5, 1, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 5, 1))


async def _rate_reminders(sessionmaker, n: int, due: datetime) -> None:
    async with sessionmaker() as s:
        await reminders.schedule(
            s,
            [
                {"kind": ReminderKind.RATE, "due_at": due, "dedupe_key": f"test:{i}"}
                for i in range(n)
            ],
        )
        await s.commit()


async def test_the_scheduler_fires_on_start_and_stops_cleanly(sessionmaker):
    with running_on(ManualClock(NOW)):
        await _fires_on_start_and_stops_cleanly(sessionmaker)


async def _fires_on_start_and_stops_cleanly(sessionmaker) -> None:
    fired = []

    async def handler(session, ctx, reminder, now):
        fired.append(reminder.id)
        return 0

    await _rate_reminders(sessionmaker, 3, NOW - timedelta(hours=5))
    jobs = Jobs(sessionmaker, ctx=CTX, handlers={ReminderKind.RATE: handler}, worker="one")
    scheduler = Scheduler(jobs, interval=60)  # only the start-up run can fire them in time
    await scheduler.start()
    try:
        assert scheduler.running
        assert {job.id for job in scheduler._aps.get_jobs()} == set(JOB_IDS)
        for _ in range(100):
            if len(fired) == 3:
                break
            await asyncio.sleep(0.05)
        assert len(fired) == 3
        await _rate_reminders(sessionmaker, 0, NOW)
        async with sessionmaker() as s:  # one more falls due: a poke runs the job now
            await reminders.schedule(
                s,
                [{"kind": ReminderKind.RATE, "due_at": NOW, "dedupe_key": "x"}],
            )
            await s.commit()
        scheduler.poke("reminders")
        for _ in range(100):
            if len(fired) == 4:
                break
            await asyncio.sleep(0.05)
        assert len(fired) == 4
    finally:
        await scheduler.stop()
    assert not scheduler.running
    await scheduler.stop()  # twice is harmless


async def _fire_with_two_schedulers(db_url: str, n: int) -> tuple[list[int], list[int]]:
    """Two schedulers, each with its own engine, claim the same due rows concurrently."""
    engines = [make_engine(db_url), make_engine(db_url)]
    makers = [make_sessionmaker(e) for e in engines]
    try:
        await _rate_reminders(makers[0], n, NOW - timedelta(minutes=1))
        seen: dict[str, list[int]] = {"a": [], "b": []}

        def handler_for(name: str):
            async def handler(session, ctx, reminder, now):
                seen[name].append(reminder.id)
                await asyncio.sleep(0.002)  # hold the claim a moment: let the other overlap
                return 0

            return handler

        jobs = [
            Jobs(
                m,
                ctx=CTX,
                handlers={ReminderKind.RATE: handler_for(w)},
                worker=w,
                clock=ManualClock(NOW),
            )
            for m, w in zip(makers, ("a", "b"), strict=True)
        ]
        await asyncio.gather(*(j.reminders() for j in jobs))
        await asyncio.gather(*(j.reminders() for j in jobs))  # nothing left for a second round
        async with makers[0]() as s:
            rows = list(await s.scalars(select(Reminder)))
        assert all(r.fired_at is not None for r in rows)
        assert {r.id: r.claimed_by for r in rows} == {
            **{i: "a" for i in seen["a"]},
            **{i: "b" for i in seen["b"]},
        }
        return seen["a"], seen["b"]
    finally:
        for e in engines:
            await e.dispose()


async def test_two_schedulers_on_one_sqlite_file_fire_each_reminder_once(db_url):
    if USE_POSTGRES:
        pytest.skip("the PostgreSQL variant below")
    a, b = await _fire_with_two_schedulers(db_url, 60)
    assert sorted(a + b) == sorted(set(a + b)) and len(a + b) == 60


@pytest.mark.postgres
async def test_two_schedulers_on_postgresql_fire_each_reminder_once(db_url):
    a, b = await _fire_with_two_schedulers(db_url, 300)
    assert len(a) + len(b) == 300
    assert not set(a) & set(b)  # FOR UPDATE SKIP LOCKED: no row fired by both
    assert a and b  # and they really did share the work


# --- quiet hours ----------------------------------------------------------------------------


class FakeBot:
    """Stands in for aiogram's Bot: records sends, answers with a message or an error."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.sent_at: list[float] = []  # time.monotonic() of each send, the sender's clock
        self.errors: dict[int, list[Exception]] = {}  # chat id -> errors to raise, in turn

    async def __call__(self, method):
        chat_id = int(method.chat_id)
        queue = self.errors.get(chat_id)
        if queue:
            raise queue.pop(0)
        self.calls.append((chat_id, getattr(method, "text", None) or ""))
        self.sent_at.append(monotonic())
        return Message.model_validate(
            {
                "message_id": len(self.calls),
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "text": "ok",
            }
        )


async def _plain_render(session, row):
    return "sendMessage", {"chat_id": row.chat_id, "text": row.payload.get("msgid", "hi")}


def _sender(sessionmaker, bot, clock, **kw) -> Sender:
    return Sender(
        bot,
        sessionmaker,
        _plain_render,
        limits=kw.pop("limits", RateLimits(1000, 1000, 1000)),
        quiet=kw.pop("quiet", None),
        clock=clock.now,
        worker="w",
        **kw,
    )


QUEUED_AT = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # when `_queue` says its rows may go


def _soon() -> ManualClock:
    """A clock a moment after the rows `_queue` writes may go."""
    return ManualClock(QUEUED_AT + timedelta(seconds=1))


async def test_quiet_hours_hold_reminders_but_not_escalations_or_order_cards(session, sessionmaker):
    cast = await make_cast(session)
    await session.commit()
    order = await place_order(session, cast.resident, cast.org.clinic)
    jobs = Jobs(sessionmaker, ctx=CTX, handlers={**sla.HANDLERS, **reminders.HANDLERS}, worker="t")
    await jobs.reminders(now=order.routed_at + timedelta(hours=2, seconds=1))  # nudge + escalate
    day = order.routed_at.astimezone(TZ).date() + timedelta(days=1)  # after it all
    clock = ManualClock(local(day, 22))
    sender = _sender(sessionmaker, FakeBot(), clock, quiet=QuietHours(time(21), time(7), TZ))

    async def kinds(ids):
        async with sessionmaker() as s:
            rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
            return {r.payload["kind"] for r in rows}

    at_night = await sender._claim()  # order cards (first holder, new holder), escalations
    assert await kinds(at_night) == {NoticeKind.ORDER_CARD, NoticeKind.ESCALATION}
    async with sessionmaker() as s:
        held = list(
            await s.scalars(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        )
    assert held and not any(r.urgent for r in held)
    assert NoticeKind.ACCEPT_NUDGE in {r.payload["kind"] for r in held}
    clock.set(local(day + timedelta(days=1), 6, 59))
    assert await sender._claim() == []
    clock.set(local(day + timedelta(days=1), 7, 0))
    assert set(await sender._claim()) == {r.id for r in held}


# --- the sender's outcomes ------------------------------------------------------------------


async def _queue(session, user, n=1, **kw) -> list[int]:
    ids = []
    for i in range(n):
        row = await notify(
            session, user, NoticeKind.TEXT, msgid=f"m{i}", **{"not_before": QUEUED_AT, **kw}
        )
        await session.flush()
        ids.append(row.id)
    await session.commit()
    return ids


async def _rows(sessionmaker, ids) -> list[OutboxMessage]:
    async with sessionmaker() as s:
        rows = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_sent_rows_record_the_telegram_message(session, sessionmaker):
    user = await make_user(session)
    ids = await _queue(session, user, 2)
    bot, clock = FakeBot(), _soon()
    sender = _sender(sessionmaker, bot, clock)
    assert await sender.drain_once() == 2
    rows = await _rows(sessionmaker, ids)
    assert [(r.status, r.attempts, r.tg_message_id) for r in rows] == [
        (OutboxStatus.SENT, 1, 1),
        (OutboxStatus.SENT, 1, 2),
    ]
    assert all(r.sent_at == clock.now() for r in rows)
    assert await sender.drain_once() == 0


async def test_a_user_who_blocked_the_bot_is_marked_and_never_tried_again(session, sessionmaker):
    user = await make_user(session)
    first = await _queue(session, user, 2)
    bot, clock = FakeBot(), _soon()
    bot.errors[user.tg_id] = [TelegramForbiddenError(SendMessage(chat_id=1, text="x"), "blocked")]
    sender = _sender(sessionmaker, bot, clock)
    await sender.drain_once()
    rows = await _rows(sessionmaker, first)
    assert [r.status for r in rows] == [OutboxStatus.BLOCKED, OutboxStatus.BLOCKED]
    assert [r.attempts for r in rows] == [1, 0]  # the second was not even attempted
    assert bot.calls == []
    async with sessionmaker() as s:
        assert (await s.get(User, user.id)).blocked
        # and nothing new is queued for them
        assert await notify(s, user.id, NoticeKind.TEXT, msgid="later") is None


async def test_network_errors_are_retried_with_backoff_then_failed(session, sessionmaker):
    user = await make_user(session)
    [row_id] = await _queue(session, user)
    bot, clock = FakeBot(), _soon()
    error = TelegramNetworkError(SendMessage(chat_id=1, text="x"), "connection reset")
    bot.errors[user.tg_id] = [error] * (MAX_ATTEMPTS + 1)
    sender = _sender(sessionmaker, bot, clock)
    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await sender.drain_once() == 1
        [row] = await _rows(sessionmaker, [row_id])
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert row.status == OutboxStatus.PENDING
            delays.append((row.not_before - clock.now()).total_seconds())
            assert await sender.drain_once() == 0  # not before the backoff
            clock.set(row.not_before)
    assert delays == [2.0, 4.0, 8.0, 16.0]
    assert row.status == OutboxStatus.FAILED and "connection reset" in row.last_error


async def test_retry_after_pauses_all_sending_and_keeps_the_row(session, sessionmaker):
    user = await make_user(session)
    other = await make_user(session)
    [first] = await _queue(session, user)
    [second] = await _queue(session, other)
    bot, clock = FakeBot(), _soon()
    bot.errors[user.tg_id] = [
        TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "flood", retry_after=1)
    ]
    sender = _sender(sessionmaker, bot, clock)
    await sender.drain_once()
    assert sender.paused_until > 0  # the 429 paused all sending…
    assert [chat for chat, _text in bot.calls] == [other.tg_id]
    assert bot.sent_at[0] >= sender.paused_until  # …and the second message waited it out
    rows = {r.id: r for r in await _rows(sessionmaker, [first, second])}
    assert rows[first].status == OutboxStatus.PENDING and rows[first].attempts == 1
    assert rows[second].status == OutboxStatus.SENT
    await sender.drain_once()
    assert (await _rows(sessionmaker, [first]))[0].status == OutboxStatus.SENT


async def test_a_bad_request_fails_the_row(session, sessionmaker):
    user = await make_user(session)
    [row_id] = await _queue(session, user)
    bot, clock = FakeBot(), _soon()
    bot.errors[user.tg_id] = [TelegramBadRequest(SendMessage(chat_id=1, text="x"), "bad")]
    await _sender(sessionmaker, bot, clock).drain_once()
    [row] = await _rows(sessionmaker, [row_id])
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, "bad")


async def test_a_busy_chat_does_not_hold_up_the_others(session, sessionmaker):
    busy, quiet_one = await make_user(session), await make_user(session)
    await _queue(session, busy, 3)
    await _queue(session, quiet_one, 1)
    bot, clock = FakeBot(), _soon()
    sender = _sender(
        sessionmaker,
        bot,
        clock,
        limits=RateLimits(global_per_second=1000, per_chat_per_second=20, per_chat_burst=1),
    )
    await sender.drain_once()
    assert [chat for chat, _text in bot.calls] == [
        busy.tg_id,
        quiet_one.tg_id,
        busy.tg_id,
        busy.tg_id,
    ]
    assert [text for chat, text in bot.calls if chat == busy.tg_id] == ["m0", "m1", "m2"]


async def test_recover_returns_dead_claims_to_the_queue(session, sessionmaker):
    user = await make_user(session)
    ids = await _queue(session, user, 3)
    clock = _soon()
    async with sessionmaker() as s:
        for row_id, (worker, age) in zip(ids, [("w", 0), ("dead", 1), ("dead", 10)], strict=True):
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_by=worker,
                    claimed_at=clock.now() - timedelta(minutes=age),
                )
            )
        await s.commit()
    sender = _sender(sessionmaker, FakeBot(), clock)
    assert await sender.recover() == 2  # its own claim, and the one stale for 10 minutes
    assert [r.status for r in await _rows(sessionmaker, ids)] == [
        OutboxStatus.PENDING,
        OutboxStatus.SENDING,  # another worker's fresh claim: maybe alive, left alone
        OutboxStatus.PENDING,
    ]
    assert await sender.recover(everything=True) == 1  # the only instance: all of them
