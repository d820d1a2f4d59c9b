"""Time passing, end to end: the real bot and the simulator on one hand-moved clock.

Each test starts on a fixed date (Tuesday 10 March 2026, Asia/Shanghai) with the quiet hours
the bot ships with (21:00–07:00), moves the clock with `advance_to` — which runs the
scheduler at the new moment — and reads what each person's chat received. What has not
happened yet is read from the tick itself (`TickResult`: the scheduler ran at that moment
and queued nothing of the kind), never from waiting a while.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Order, OutboxMessage, OutboxStatus, ReminderKind, Role
from scheduler import ManualClock, TickResult
from services.outbox import NoticeKind
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator
from tests.flows import accept_order, assign_volunteer, compose_notice, order_through_chat, order_to
from tests.harness import BotEnv
from tests.scheduler_harness import advance_to, bot_on, notices_in_chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIET = {"quiet_hours_start": time(21, 0), "quiet_hours_end": time(7, 0)}  # as shipped


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026, Shanghai time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def fired(result: TickResult, kind: ReminderKind) -> int:
    """How many notices the scheduler queued for reminders of `kind` in this tick."""
    return sum(f.notices for f in result.fired if f.kind == kind)


@asynccontextmanager
async def bot_at(
    db_url: str, tmp_path: Path, at: datetime
) -> AsyncIterator[tuple[Simulator, BotEnv]]:
    """The simulator, and the real bot with its scheduler on a ManualClock set to `at`, with
    the quiet hours it ships with."""
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media", clock=ManualClock(at=at), **QUIET) as env,
    ):
        yield sim, env


async def test_the_volunteer_is_reminded_the_evening_before_and_an_hour_before(db_url, tmp_path):
    async with bot_at(db_url, tmp_path, local(10, 9)) as (sim, env):
        leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        nurse = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
        grandma = await env.person("Grandma Li")

        number, card = await order_to(leader, await order_through_chat(grandma))
        assert "Time: Wed 11 Mar, morning" in card.text  # "Tomorrow", by the bot's clock
        accepted = await accept_order(leader, card)
        offered = await assign_volunteer(
            leader, accepted, "Nurse Wang", slot="✓ Wed 11 Mar, morning (the resident's choice)"
        )
        assert offered[:2] == ["Tue 10 Mar, morning", "Tue 10 Mar, afternoon"]  # the bot's today
        await nurse.expect(contains="new task")

        assert fired(await advance_to(env, local(10, 18, 59)), ReminderKind.VOLUNTEER_EVENING) == 0
        assert fired(await advance_to(env, local(10, 19)), ReminderKind.VOLUNTEER_EVENING) == 1
        evening = await nurse.expect(contains="Reminder: tomorrow you serve order")
        assert number in evening.text and "09:00" in evening.text
        assert "▶ Start" in evening.buttons()

        assert fired(await advance_to(env, local(11, 7, 59)), ReminderKind.VOLUNTEER_HOUR) == 0
        assert fired(await advance_to(env, local(11, 8)), ReminderKind.VOLUNTEER_HOUR) == 1
        hour = await nurse.expect(contains="in about an hour")
        assert number in hour.text and "09:00" in hour.text

        await advance_to(env, local(11, 8, 30))
        await env.settle()  # each reminder came once, to the volunteer only
        assert notices_in_chat(sim, nurse.id, "Reminder:") == 2
        assert notices_in_chat(sim, leader.id, "Reminder:") == 0
        async with env.sessionmaker() as s:
            order = await s.scalar(select(Order).where(Order.number == number))
        assert order.created_at == local(10, 9)  # the order was placed on the bot's clock


async def test_an_order_nobody_accepts_is_nudged_then_escalated_and_passed_on(db_url, tmp_path):
    async with bot_at(db_url, tmp_path, local(10, 9)) as (sim, env):
        leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        head = await env.person("Secretary Ma", role=Role.STATION_HEAD)  # leads the squad too
        office = await env.person("Office Wu", role=Role.OFFICE)
        grandma = await env.person("Grandma Li")

        number, card = await order_to(leader, await order_through_chat(grandma))
        await head.expect(contains="A new order from your village")

        # 09:29: still within the half hour. 09:30: the leader is nudged, buttons and all.
        assert fired(await advance_to(env, local(10, 9, 29)), ReminderKind.ACCEPT_NUDGE) == 0
        assert fired(await advance_to(env, local(10, 9, 30)), ReminderKind.ACCEPT_NUDGE) == 1
        nudge = await leader.expect(contains="has been waiting for 30 min")
        assert number in nudge.text and "✅ Accept" in nudge.buttons()

        # 11:00, two hours: the station head and the office are told, and the order passes
        # to the village squad, whose leader (the head) gets the card.
        assert fired(await advance_to(env, local(10, 10, 59)), ReminderKind.ESCALATE) == 0
        assert fired(await advance_to(env, local(10, 11)), ReminderKind.ESCALATE) == 2
        for person in (head, office):
            told = await person.expect(contains="was not accepted within 2 h")
            assert (
                number in told.text and "passed to Miaomiaohu Village Volunteer Squad" in told.text
            )
        squad_card = await head.expect(contains="new order for your team")
        assert number in squad_card.text
        await leader.press("✅ Accept", message=card)  # too late: it is not theirs any more
        assert "not for you" in (await leader.callback_answer()).text

        # The squad has a clock of its own: the head is nudged at 11:30; at 13:00 the order
        # passes on to the office, the last in line, which takes it.
        assert fired(await advance_to(env, local(10, 11, 30)), ReminderKind.ACCEPT_NUDGE) == 1
        await head.expect(contains="has been waiting for 30 min")
        await advance_to(env, local(10, 13))
        for person in (head, office):
            told = await person.expect(contains="was not accepted within 2 h")
            assert "passed to the institute office" in told.text
        office_card = await office.expect(contains="new order for your team")
        assert number in office_card.text
        await office.press("✅ Accept", message=office_card)
        await office.expect_edit(office_card.message_id)
        await grandma.expect(contains="was accepted by the institute office")

        await env.settle()
        assert notices_in_chat(sim, leader.id, "was not accepted") == 0  # they held it
        assert notices_in_chat(sim, leader.id, "has been waiting") == 1
        async with env.sessionmaker() as s:
            order = await s.scalar(select(Order).where(Order.number == number))
        assert order.escalated and order.escalated_at == local(10, 11)


async def held_back(env) -> Counter[str]:
    """The non-urgent notices queued so far, by kind, each checked to be still waiting:
    pending and never claimed by the sender. Called right after an urgent notice queued
    later was delivered, this cannot pass by luck: the sender claims urgent rows first
    and, were it not holding the rest, the rest in the same claim."""
    async with env.sessionmaker() as s:
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.urgent.is_(False))))
    for row in rows:
        assert (row.status, row.claimed_by) == (OutboxStatus.PENDING, None), row.payload
    return Counter(row.payload["kind"] for row in rows)


async def test_quiet_hours_hold_a_notice_until_seven_while_urgent_ones_go_at_once(db_url, tmp_path):
    async with bot_at(db_url, tmp_path, local(10, 21, 30)) as (sim, env):
        leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        head = await env.person("Secretary Ma", role=Role.STATION_HEAD)  # leads the squad too
        office = await env.person("Office Wu", role=Role.OFFICE)
        grandma = await env.person("Grandma Li")
        uncle = await env.person("Uncle Zhao")

        # 21:30: the office schedules a notice for 22:00 tonight; the bot says when it will
        # really go out.
        audience = await compose_notice(
            office, "Free haircuts at the station tomorrow morning", reply="Who should get it"
        )
        await office.press("Everyone", message=audience)
        when = await office.expect_edit(audience.message_id)
        await office.press("📅 On a date and time", message=when)
        days = await office.expect_edit(audience.message_id)
        await office.press(days.buttons()[0], message=days)  # today
        await office.expect_edit(audience.message_id)
        await office.send("22:00")
        await office.expect(contains="📢 Notice")
        summary = await office.expect(contains="This is how it will look")
        assert "quiet hours: it will go out at Wed 11 Mar 07:00" in summary.text
        await office.press("✅ Send", message=summary)
        await office.expect(contains="is scheduled")

        # 22:00: the notice is queued for all five, and Uncle Zhao orders a free clinic.
        # The team leader's card goes at once; the notice and the head's "a new order from
        # your village" wait.
        ran = await advance_to(env, local(10, 22))
        assert [r.queued for r in ran.runs] == [5]
        uncles = await order_through_chat(uncle, need="My knee hurts")
        await leader.expect(contains=uncles)
        assert await held_back(env) == {NoticeKind.BROADCAST: 5, NoticeKind.ORDER_INFO: 1}

        # 22:30: the leader's nudge is due, and waits too. Midnight: nobody has accepted, so
        # the head and the office are told at once, and the head's squad gets the card.
        assert fired(await advance_to(env, local(10, 22, 30)), ReminderKind.ACCEPT_NUDGE) == 1
        await advance_to(env, local(11, 0))
        for person in (head, office):
            await person.expect(contains="was not accepted within 2 h")
        squad_card = await head.expect(contains="new order for your team")
        assert uncles in squad_card.text
        assert await held_back(env) == {
            NoticeKind.BROADCAST: 5,
            NoticeKind.ORDER_INFO: 1,
            NoticeKind.ACCEPT_NUDGE: 1,
            NoticeKind.ORDER_STATUS: 1,  # to Uncle Zhao: his order has passed on
        }
        await head.press("✅ Accept", message=squad_card)
        await head.expect_edit(squad_card.message_id)

        # 06:59: Grandma Li, up early, orders too: her card goes at once; the rest still wait.
        await advance_to(env, local(11, 6, 59))
        grandmas = await order_through_chat(grandma)
        await leader.expect(contains=grandmas)
        waiting = await held_back(env)
        assert waiting[NoticeKind.BROADCAST] == 5 and waiting[NoticeKind.ORDER_INFO] == 2

        # 07:00: everything that waited goes out — except the nudge about an order the leader
        # no longer holds.
        await advance_to(env, local(11, 7))
        for person in (grandma, uncle, leader, head, office):
            await person.expect(contains="Free haircuts at the station")
        await env.settle()
        assert notices_in_chat(sim, uncle.id, "was passed to") == 1
        assert notices_in_chat(sim, uncle.id, "was accepted by") == 1
        assert notices_in_chat(sim, head.id, "A new order from your village") == 2
        assert notices_in_chat(sim, leader.id, "has been waiting") == 0
        assert notices_in_chat(sim, leader.id, "A new order for your team") == 2
