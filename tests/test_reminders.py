"""Reminders and escalation with a controlled clock: every rule fires when due, once, and
never about an order that has moved on. `jobs.tick(now=...)` stands in for the scheduler."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from bot.app import build_i18n
from bot.notices import make_renderer
from models import (
    Order,
    OrderStatus,
    OutboxMessage,
    Rating,
    Reminder,
    ReminderKind,
    set_clock,
)
from scheduler import Jobs, ManualClock
from services import orders, reminders
from services.orders import sla
from services.outbox import NoticeKind
from services.points import LOCAL_TZ
from tests.factories import CTX, advance_to, place_order, roles_for

TZ = LOCAL_TZ
# The day these tests run on, whatever the machine's date: the bot's clock stands at 10:00 on
# Tuesday 29 December 2026 in Taole, so slots three days on fall on New Year's Day, their
# evening reminder on New Year's Eve, and "the next Monday" in the new year.
TODAY = date(2026, 12, 29)
ORDER_KINDS = {
    k: sla.HANDLERS[k]
    for k in (
        ReminderKind.ACCEPT_NUDGE,
        ReminderKind.ESCALATE,
        ReminderKind.VOLUNTEER_EVENING,
        ReminderKind.VOLUNTEER_HOUR,
        ReminderKind.OVERDUE,
        ReminderKind.RATE,
    )
}


@pytest.fixture(autouse=True)
def clock():
    """The process clock (services' `utcnow()`), standing at 10:00 on TODAY until moved."""
    manual = ManualClock(local(TODAY, 10))
    previous = set_clock(manual.now)
    yield manual
    set_clock(previous)


@pytest.fixture
def jobs(sessionmaker):
    return Jobs(sessionmaker, ctx=CTX, handlers=dict(ORDER_KINDS), worker="test")


@pytest.fixture
def calendar_jobs(sessionmaker):
    kinds = (ReminderKind.LEADER_DIGEST, ReminderKind.OFFICE_WEEKLY)
    return Jobs(
        sessionmaker, ctx=CTX, handlers={k: reminders.HANDLERS[k] for k in kinds}, worker="test"
    )


async def notices(sessionmaker, kind: str, order_id: int | None = None) -> list[OutboxMessage]:
    async with sessionmaker() as s:
        rows = await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [
            r
            for r in rows
            if r.payload.get("kind") == kind and (order_id is None or r.order_id == order_id)
        ]


async def fresh(sessionmaker, order_id: int) -> Order:
    async with sessionmaker() as s:
        return await s.get(Order, order_id)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(UTC)


async def render(sessionmaker, row: OutboxMessage) -> dict:
    renderer = make_renderer(build_i18n("zh_CN"), TZ)
    async with sessionmaker() as s:
        row = await s.get(OutboxMessage, row.id)
        rendered = await renderer(s, row)
    assert rendered is not None
    return rendered[1]


# --- not accepted: nudge, then escalation --------------------------------------------------


async def test_nudge_after_30_minutes_then_escalation_after_2_hours(
    session, sessionmaker, cast, jobs
):
    order = await place_order(session, cast.resident, cast.org.clinic)
    routed = order.routed_at
    assert not (await jobs.tick(now=routed + timedelta(minutes=29))).fired

    result = await jobs.tick(now=routed + timedelta(minutes=30, seconds=1))
    assert [f.kind for f in result.fired] == [ReminderKind.ACCEPT_NUDGE]
    nudges = await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE, order.id)
    assert {r.user_id for r in nudges} == {cast.health_leader.id, cast.health_leader2.id}
    assert not any(r.urgent for r in nudges)  # waits for the morning in quiet hours
    text = await render(sessionmaker, nudges[0])
    assert order.number in text["text"] and "30" in text["text"]
    assert "reply_markup" in text  # Accept / Decline / Transfer right on the nudge

    assert not (await jobs.tick(now=routed + timedelta(minutes=31))).fired  # once

    result = await jobs.tick(now=routed + timedelta(hours=2, seconds=1))
    assert [f.kind for f in result.fired] == [ReminderKind.ESCALATE]
    moved = await fresh(sessionmaker, order.id)
    assert moved.escalated and moved.escalated_at is not None
    assert moved.status == OrderStatus.ROUTED and moved.team_id == cast.org.east_squad.id
    alerts = await notices(sessionmaker, NoticeKind.ESCALATION, order.id)
    assert {r.user_id for r in alerts} == {cast.east_head.id, cast.office.id}
    assert all(r.urgent for r in alerts)  # escalations go out even at night
    cards = await notices(sessionmaker, NoticeKind.ORDER_CARD, order.id)
    assert cast.east_head.id in {r.user_id for r in cards if r.payload["version"] == moved.version}
    text = await render(sessionmaker, alerts[0])
    assert order.number in text["text"] and "2" in text["text"]

    # The new holder gets a clock of its own, counted from the hand-over.
    async with sessionmaker() as s:
        due = await s.scalars(
            select(Reminder).where(Reminder.order_id == order.id, Reminder.fired_at.is_(None))
        )
        assert {(r.kind, r.note) for r in due} == {
            (ReminderKind.ACCEPT_NUDGE, str(moved.version)),
            (ReminderKind.ESCALATE, str(moved.version)),
        }


async def test_an_accepted_order_is_neither_nudged_nor_escalated(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await orders.accept(
        session, order.id, cast.health_leader, await roles_for(session, cast.health_leader)
    )
    result = await jobs.tick(now=order.routed_at + timedelta(hours=3))
    assert {f.kind for f in result.fired} == {ReminderKind.ACCEPT_NUDGE, ReminderKind.ESCALATE}
    assert all(f.notices == 0 for f in result.fired)  # fired, found stale, said nothing
    assert not await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE)
    assert not await notices(sessionmaker, NoticeKind.ESCALATION)
    assert (await fresh(sessionmaker, order.id)).status == OrderStatus.ACCEPTED


async def test_a_cancelled_order_is_not_escalated(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, OrderStatus.CANCELLED)
    await jobs.tick(now=order.routed_at + timedelta(hours=3))
    assert not await notices(sessionmaker, NoticeKind.ESCALATION)
    assert (await fresh(sessionmaker, order.id)).status == OrderStatus.CANCELLED


async def test_a_decline_restarts_the_clock_for_the_next_candidate(
    session, sessionmaker, cast, jobs, clock
):
    order = await place_order(session, cast.resident, cast.org.clinic)
    first = order.routed_at
    clock.advance(minutes=10)  # ten minutes later the leader declines
    await orders.decline(
        session,
        CTX,
        order.id,
        cast.health_leader,
        await roles_for(session, cast.health_leader),
        "No one is free",
    )
    again = (await fresh(sessionmaker, order.id)).routed_at
    await jobs.tick(now=first + timedelta(minutes=30))  # the first holder's nudge: stale
    assert not await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE)
    await jobs.tick(now=again + timedelta(minutes=30))
    nudged = await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE)
    assert [r.user_id for r in nudged] == [cast.east_head.id]  # the east squad's leader


async def test_escalation_with_nobody_left_stays_with_the_office(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    for who in (cast.health_leader, cast.east_head):  # team, then the village squad decline
        await orders.decline(session, CTX, order.id, who, await roles_for(session, who), "Too far")
    at_office = await fresh(sessionmaker, order.id)
    assert at_office.handler_kind == "office" and at_office.status == OrderStatus.ROUTED

    await jobs.tick(now=at_office.routed_at + timedelta(hours=2, seconds=1))
    left = await fresh(sessionmaker, order.id)
    assert left.status == OrderStatus.NEW and left.escalated and left.handler_kind == "office"
    # Routing itself told the office and admins (urgent); no second alert from the reminder.
    assert not await notices(sessionmaker, NoticeKind.ESCALATION, order.id)
    infos = await notices(sessionmaker, NoticeKind.ORDER_INFO, order.id)
    assert {cast.office.id, cast.admin.id} <= {r.user_id for r in infos if r.urgent}


# --- volunteers: the evening before, an hour before, overdue -----------------------------


async def _accepted_with_slot(session, cast, start: datetime, hours: int = 2) -> Order:
    order = await place_order(session, cast.resident, cast.org.clinic)
    roles = await roles_for(session, cast.health_leader)
    await orders.accept(session, order.id, cast.health_leader, roles)
    await _assign(session, cast, order, start, hours)
    return order


async def _assign(session, cast, order: Order, start: datetime, hours: int = 2) -> None:
    """The health leader sends the health volunteer for `hours` from `start`."""
    roles = await roles_for(session, cast.health_leader)
    vols, end = [cast.health_vol.id], start + timedelta(hours=hours)
    await orders.assign(session, CTX, order.id, cast.health_leader, roles, vols, start, end)


async def test_volunteer_reminded_the_evening_before_and_an_hour_before(
    session, sessionmaker, cast, jobs
):
    day = TODAY + timedelta(days=3)
    start = local(day, 9)
    order = await _accepted_with_slot(session, cast, start)
    evening = local(day - timedelta(days=1), 19)  # policy: evening_before 19:00

    await jobs.tick(now=evening - timedelta(seconds=1))
    assert not await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)
    await jobs.tick(now=evening)
    [eve] = await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)
    assert (eve.user_id, eve.payload["which"]) == (cast.health_vol.id, "evening")
    text = (await render(sessionmaker, eve))["text"]
    assert order.number in text and "09:00" in text

    await jobs.tick(now=start - timedelta(hours=1, seconds=1))
    assert len(await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)) == 1
    await jobs.tick(now=start - timedelta(hours=1))
    hour = (await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER))[-1]
    assert (hour.user_id, hour.payload["which"]) == (cast.health_vol.id, "hour")
    await jobs.tick(now=start)
    assert len(await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)) == 2


async def test_a_moved_slot_drops_the_old_reminders(session, sessionmaker, cast, jobs):
    day = TODAY + timedelta(days=3)
    old = local(day, 9)
    order = await _accepted_with_slot(session, cast, old)
    new = old + timedelta(days=2)
    await _assign(session, cast, order, new)
    await jobs.tick(now=old)  # the old evening and hour reminders fall due: stale
    assert not await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)
    await jobs.tick(now=new - timedelta(hours=1))
    sent = await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)
    assert [r.payload["which"] for r in sent] == ["evening", "hour"]
    assert {r.payload["slot_start"] for r in sent} == {reminders.iso(new)}


async def test_started_task_gets_no_slot_reminder(session, sessionmaker, cast, jobs):
    day = TODAY + timedelta(days=3)
    start = local(day, 9)
    order = await _accepted_with_slot(session, cast, start)
    await orders.start(
        session, order.id, cast.health_vol, await roles_for(session, cast.health_vol)
    )
    await jobs.tick(now=start)
    assert not await notices(sessionmaker, NoticeKind.VOLUNTEER_REMINDER)


async def test_overdue_task_reminds_the_volunteer_and_the_leader(session, sessionmaker, cast, jobs):
    start = local(TODAY + timedelta(days=2), 9)
    order = await _accepted_with_slot(session, cast, start, hours=2)
    end = start + timedelta(hours=2)
    await jobs.tick(now=end + timedelta(hours=2) - timedelta(seconds=1))  # grace: 2 h
    assert not await notices(sessionmaker, NoticeKind.OVERDUE)
    await jobs.tick(now=end + timedelta(hours=2))
    overdue = await notices(sessionmaker, NoticeKind.OVERDUE, order.id)
    assert {r.user_id for r in overdue} == {cast.health_vol.id, cast.health_leader.id}
    leader_row = next(r for r in overdue if r.user_id == cast.health_leader.id)
    text = await render(sessionmaker, leader_row)
    assert order.number in text["text"] and "11:00" in text["text"]
    await jobs.tick(now=end + timedelta(hours=5))
    assert len(await notices(sessionmaker, NoticeKind.OVERDUE)) == 2


async def test_a_completed_task_is_not_overdue(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    done = await advance_to(session, cast, order.id, OrderStatus.DONE)
    await jobs.tick(now=done.slot_end + timedelta(hours=3))
    assert not await notices(sessionmaker, NoticeKind.OVERDUE)


# --- the resident: one rating reminder ---------------------------------------------------


async def test_unrated_order_gets_one_rating_reminder_after_a_day(
    session, sessionmaker, cast, jobs
):
    order = await place_order(session, cast.resident, cast.org.clinic)
    done = await advance_to(session, cast, order.id, OrderStatus.DONE)
    asks = await notices(sessionmaker, NoticeKind.RATE_REQUEST, order.id)
    assert len(asks) == 1  # the request when the work was recorded
    await jobs.tick(now=done.done_at + timedelta(hours=23, minutes=59))
    assert len(await notices(sessionmaker, NoticeKind.RATE_REQUEST, order.id)) == 1
    await jobs.tick(now=done.done_at + timedelta(hours=24))
    asks = await notices(sessionmaker, NoticeKind.RATE_REQUEST, order.id)
    assert len(asks) == 2 and asks[-1].payload["reminder"] is True
    assert asks[-1].user_id == cast.resident.id
    text = await render(sessionmaker, asks[-1])
    assert order.number in text["text"] and "reply_markup" in text
    await jobs.tick(now=done.done_at + timedelta(days=3))
    assert len(await notices(sessionmaker, NoticeKind.RATE_REQUEST, order.id)) == 2


async def test_a_rated_order_gets_no_rating_reminder(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    rated = await advance_to(session, cast, order.id, OrderStatus.RATED)
    await jobs.tick(now=rated.done_at + timedelta(days=2))
    assert len(await notices(sessionmaker, NoticeKind.RATE_REQUEST, order.id)) == 1


# --- the calendar: daily digest, weekly summary --------------------------------------------


async def test_daily_digest_goes_to_leaders_with_open_orders_only(
    session, sessionmaker, cast, calendar_jobs
):
    health = await place_order(session, cast.resident, cast.org.clinic)
    legal = await place_order(session, cast.neighbour, cast.org.legal)
    await orders.accept(
        session, legal.id, cast.law_leader, await roles_for(session, cast.law_leader)
    )
    day = TODAY + timedelta(days=1)
    await calendar_jobs.tick(now=local(day, 7))  # writes down tomorrow's 08:00 digest
    assert not await notices(sessionmaker, NoticeKind.LEADER_DIGEST)
    await calendar_jobs.tick(now=local(day, 8, 0) + timedelta(seconds=1))
    digests = await notices(sessionmaker, NoticeKind.LEADER_DIGEST)
    assert {r.user_id for r in digests} == {
        cast.health_leader.id,
        cast.health_leader2.id,
        cast.law_leader.id,
    }  # the squad leaders (heads) have no open orders: nothing for them
    text = (await render(sessionmaker, digests[0]))["text"]
    assert health.number in text
    law_text = (await render(sessionmaker, digests[-1]))["text"]
    assert legal.number in law_text and health.number not in law_text

    await calendar_jobs.tick(now=local(day, 9))
    assert len(await notices(sessionmaker, NoticeKind.LEADER_DIGEST)) == 3  # once a day
    await calendar_jobs.tick(now=local(day + timedelta(days=1), 8, 1))
    assert len(await notices(sessionmaker, NoticeKind.LEADER_DIGEST)) == 6  # and the next


async def test_weekly_summary_to_the_office_on_monday(session, sessionmaker, cast, calendar_jobs):
    today = TODAY
    monday = today + timedelta(days=7 - today.weekday())  # the next Monday
    in_week = local(monday - timedelta(days=3), 10)  # the Friday before
    before = local(monday - timedelta(days=10), 10)  # the week before that
    rated = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, rated.id, OrderStatus.RATED, score=4)
    open_ = await place_order(session, cast.neighbour, cast.org.clinic)
    old = await place_order(session, cast.west_resident, cast.org.legal)
    async with sessionmaker() as s:
        await s.execute(
            update(Order)
            .where(Order.id == rated.id)
            .values(created_at=in_week, done_at=in_week, escalated_at=in_week)
        )
        await s.execute(update(Order).where(Order.id == open_.id).values(created_at=in_week))
        await s.execute(update(Order).where(Order.id == old.id).values(created_at=before))
        await s.execute(update(Rating).values(created_at=in_week))
        await s.commit()

    await calendar_jobs.tick(now=local(monday, 7))
    assert not await notices(sessionmaker, NoticeKind.OFFICE_WEEKLY)
    await calendar_jobs.tick(now=local(monday, 8) + timedelta(seconds=1))
    [weekly] = await notices(sessionmaker, NoticeKind.OFFICE_WEEKLY)
    assert weekly.user_id == cast.office.id
    p = weekly.payload
    assert (p["received"], p["completed"], p["escalated"], p["rated"]) == (2, 1, 1, 1)
    assert p["open"] == 2 and p["average_rating"] == 4.0
    assert p["start"] == (monday - timedelta(days=7)).isoformat()
    assert p["end"] == (monday - timedelta(days=1)).isoformat()
    text = (await render(sessionmaker, weekly))["text"]
    assert "4.0" in text
    await calendar_jobs.tick(now=local(monday, 12))
    assert len(await notices(sessionmaker, NoticeKind.OFFICE_WEEKLY)) == 1


# --- restart safety and failures ------------------------------------------------------------


async def test_what_fell_due_while_down_fires_once_later(session, sessionmaker, cast, jobs):
    order = await place_order(session, cast.resident, cast.org.clinic)
    much_later = order.routed_at + timedelta(days=2)  # the bot was down all that time
    first = await jobs.tick(now=much_later)
    # Both fell due: the nudge, then the escalation (which hands the order on).
    assert [f.kind for f in first.fired] == [ReminderKind.ACCEPT_NUDGE, ReminderKind.ESCALATE]
    nudged = await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE, order.id)
    assert {r.user_id for r in nudged} == {cast.health_leader.id, cast.health_leader2.id}
    second = await jobs.tick(now=much_later)  # only the new holder's clock, never the old
    assert not {f.reminder_id for f in first.fired} & {f.reminder_id for f in second.fired}
    nudged = await notices(sessionmaker, NoticeKind.ACCEPT_NUDGE, order.id)
    assert sum(r.user_id == cast.health_leader.id for r in nudged) == 1


async def test_a_failing_reminder_is_retried_then_given_up(session, sessionmaker, cast):
    calls = []

    async def broken(session, ctx, reminder, now):
        calls.append(reminder.id)
        raise RuntimeError("boom")

    jobs = Jobs(sessionmaker, ctx=CTX, handlers={ReminderKind.RATE: broken}, worker="test")
    order = await place_order(session, cast.resident, cast.org.clinic)
    done = await advance_to(session, cast, order.id, OrderStatus.DONE)
    later = done.done_at + timedelta(days=2)
    for _ in range(reminders.MAX_FAILURES):
        assert not (await jobs.tick(now=later)).fired
    assert len(calls) == reminders.MAX_FAILURES
    async with sessionmaker() as s:
        row = await s.scalar(select(Reminder).where(Reminder.kind == ReminderKind.RATE))
        assert row.cancelled and row.fired_at is None and "given up" in row.note
    await jobs.tick(now=later)
    assert len(calls) == reminders.MAX_FAILURES
