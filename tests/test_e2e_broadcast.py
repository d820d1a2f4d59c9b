"""Notices end to end through the simulator: composing in the chat, the office's approval of
a station head's notice, schedules and cancelling, and a broadcast to 2,000 people within
Telegram's limits (blocked users reported, marked and skipped next time)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select, update

from bot.sender import RateLimits
from models import Broadcast, BroadcastStatus, OutboxMessage, OutboxStatus, Role, User
from simulator.limits import Limits
from simulator.server import run_simulator
from tests.flows import compose_notice, notices_menu, press_through
from tests.scheduler_harness import (
    BOT_ID,
    bot_on,
    bulk_people,
    delivered,
    notices_in_chat,
    stations,
    wait_until,
)

log = logging.getLogger(__name__)


async def nothing_new_for(env, *people) -> None:
    """The scheduler has run its jobs once more and the bot is idle (every update handled,
    every notice due by now sent): whatever it was going to tell these people is in their
    chats by then, so a late message fails here too. Then assert none came."""
    scheduler = env.dp["scheduler"]
    async with scheduler.held():
        await scheduler.jobs.tick()
    env.sender.poke()
    await env.idle()
    for person in people:
        await person.expect_nothing_new()


async def test_a_station_heads_notice_goes_out_after_the_office_approves(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media") as env,
    ):
        head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
        office = await env.person("Office Wu", role=Role.OFFICE, station="dongjie")
        grandma = await env.person("Grandma Li")
        uncle = await env.person("Uncle Zhao")
        elsewhere = await env.person("Far Away", station="xijie")

        villages = await compose_notice(head, "Free health checks at the station on Friday morning")
        assert "Which villages" in villages.text
        assert villages.buttons()[0] == "☑ Miaomiaohu Village"  # their only village, chosen
        await head.press("Next ➡", message=villages)
        when = await head.expect_edit(villages.message_id)
        assert "When should it go out" in when.text
        await head.press("▶ Now", message=when)
        preview = await head.expect(contains="📢 Notice")
        assert "Free health checks" in preview.text
        summary = await head.expect(contains="This is how it will look")
        assert "Miaomiaohu Village (3 people)" in summary.text
        assert "approve" in summary.text
        await head.press("📨 Send for approval", message=summary)
        await head.expect(contains="sent to the institute office for approval")

        card = await office.expect(contains="needs your approval")
        assert "Free health checks" in card.text and "Secretary Ma" in card.text
        await nothing_new_for(env, grandma, uncle)  # nothing before the office says yes
        await office.press("✅ Approve", message=card)
        await office.expect(contains="Approved: notice #")
        await head.expect(contains="was approved by Office Wu")
        for person in (grandma, uncle):
            got = await person.expect(contains="📢 Notice")
            assert "Free health checks" in got.text
        report = await head.expect(contains="Delivery report")
        assert "Sent: 3" in report.text and "Blocked the bot: 0" in report.text
        await nothing_new_for(env, elsewhere)

        # The same again; this time the office says no, and why.
        villages = await compose_notice(head, "Dance in the square tonight")
        await head.press("Next ➡", message=villages)
        await head.press("▶ Now", message=await head.expect_edit(villages.message_id))
        summary = await head.expect(contains="This is how it will look")
        await head.press("📨 Send for approval", message=summary)
        card = await office.expect(contains="needs your approval")
        await office.press("❌ Reject", message=card)
        await office.expect(contains="Why not?")
        await office.send("Please say where and when exactly")
        await office.expect(contains="Rejected.")
        told = await head.expect(contains="was not approved")
        assert "Please say where and when exactly" in told.text
        await nothing_new_for(env, grandma, uncle)

        menu = await notices_menu(head)
        await head.press("📊 My notices and reports", message=menu)
        mine = await head.expect(contains="Your notices")
        assert "rejected" in mine.text and "Please say where and when exactly" in mine.text
        assert "Sent: 3" in mine.text
        async with env.sessionmaker() as s:
            statuses = [b.status for b in await s.scalars(select(Broadcast).order_by(Broadcast.id))]
        assert statuses == [BroadcastStatus.SENT, BroadcastStatus.REJECTED]


async def test_the_office_schedules_a_weekly_notice_then_cancels_it(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media") as env,
    ):
        office = await env.person("Office Wu", role=Role.OFFICE)
        audience = await compose_notice(office, "Policy talk at the institute")
        assert "Who should get it" in audience.text
        at = await press_through(
            office,
            audience,
            "All volunteers",
            "🔁 Repeat",
            "Every week",
            "☐ Mon",
            "☐ Wed",
            "Next ➡",
        )
        assert "what time" in at.text
        await office.send("7:5")
        await office.expect(contains="like 09:30")
        await office.send("07:30")
        await office.expect(contains="📢 Notice")
        summary = await office.expect(contains="This is how it will look")
        assert "every week on Mon、Wed at 07:30" in summary.text
        await office.press("✅ Send", message=summary)
        done = await office.expect(contains="is scheduled")
        assert "every week on Mon、Wed at 07:30" in done.text

        menu = await notices_menu(office)
        await office.press("🗓 Scheduled notices", message=menu)
        listed = await office.expect(contains="Scheduled notices")
        assert "Policy talk" in listed.text and "All volunteers" in listed.text
        [button] = [b for b in listed.buttons() if b.startswith("✖ Cancel #")]
        await office.press(button, message=listed)
        await office.expect(contains="was cancelled")
        async with env.sessionmaker() as s:
            bc = await s.scalar(select(Broadcast))
        assert bc.status == BroadcastStatus.CANCELLED and bc.recurrence["days"] == [0, 2]


async def test_a_photo_notice_on_a_date_and_time(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media") as env,
    ):
        office = await env.person("Office Wu", role=Role.OFFICE)
        grandma = await env.person("Grandma Li", station="dongyuan")
        audience = await compose_notice(office, "The new clinic opens", photo=True)
        await office.press("Everyone", message=audience)
        when = await office.expect_edit(audience.message_id)
        await office.press("📅 On a date and time", message=when)
        days = await office.expect_edit(audience.message_id)
        await office.press(days.buttons()[1], message=days)  # tomorrow
        times = await office.expect_edit(audience.message_id)
        await office.press("10:00", message=times)
        preview = await office.expect()
        assert preview.photo is not None and "The new clinic opens" in preview.text
        summary = await office.expect(contains="This is how it will look")
        assert "10:00" in summary.text
        await office.press("✅ Send", message=summary)
        await office.expect(contains="is scheduled")
        await nothing_new_for(env, grandma)
        async with env.sessionmaker() as s:  # tomorrow 10:00 comes
            await s.execute(update(Broadcast).values(next_run_at=Broadcast.created_at))
            await s.commit()
        got = await grandma.expect(contains="📢 Notice", timeout=10)
        assert got.photo is not None and "The new clinic opens" in got.text


@pytest.mark.slow
async def test_broadcast_to_2000_people_within_telegrams_limits(db_url, tmp_path):
    """Telegram's limits on (the simulator's defaults: 30/s, 1/s per chat); the sender at
    28/s. Everyone gets the notice exactly once with no 429; five who blocked the bot are
    reported, marked, and skipped by the next notice without being tried."""
    async with (
        run_simulator(limits=Limits()) as sim,
        bot_on(
            sim,
            db_url,
            tmp_path / "media",
            send_limits=RateLimits(global_per_second=28, per_chat_per_second=1, per_chat_burst=3),
        ) as env,
    ):
        office = await env.person("Office Wu", role=Role.OFFICE, station="dongjie")
        places = await stations(env.sessionmaker)
        small, rest = places[-1], places[:-1]
        town = small.parent_id
        blocked = await bulk_people(
            env.sessionmaker, sim, range(8_000_000, 8_000_005), [small.id], town
        )
        neighbours = await bulk_people(
            env.sessionmaker, sim, range(8_000_005, 8_000_025), [small.id], town
        )
        others = await bulk_people(
            env.sessionmaker, sim, range(8_000_025, 8_001_999), [s.id for s in rest], town
        )
        everyone = [office.id, *blocked, *neighbours, *others]
        assert len(everyone) == 2000
        bot_state = sim.world.bots[BOT_ID]
        for tg in blocked[:3]:  # blocked while the bot was not looking: found out by a 403
            bot_state.blocked_by.add(tg)
        for tg in blocked[3:]:  # blocked the usual way: the bot hears of it at once
            await (await env.driver.user(f"R{tg}", user_id=tg)).block()

        async def marked() -> int:
            async with env.sessionmaker() as s:
                rows = await s.scalars(select(User.tg_id).where(User.blocked.is_(True)))
                return len(list(rows))

        await wait_until(lambda: marked(), 10)

        audience = await compose_notice(office, "Village meeting on Sunday at 9 in the square")
        await office.press("Everyone", message=audience)
        when = await office.expect_edit(audience.message_id)
        await office.press("▶ Now", message=when)
        summary = await office.expect(contains="This is how it will look")
        assert "(1998 people)" in summary.text  # the two known to have blocked the bot
        started = asyncio.get_running_loop().time()
        await office.press("✅ Send", message=summary)

        reachable = [tg for tg in everyone if tg not in blocked]
        residents = [tg for tg in reachable if tg != office.id]
        marker = "📢 Notice\nVillage meeting on Sunday"  # not the report, which quotes it
        await wait_until(
            lambda: sum(delivered(sim, residents, marker).values()) >= len(residents),
            timeout=150,
            step=1.0,
        )
        elapsed = asyncio.get_running_loop().time() - started
        counts = delivered(sim, everyone, marker)
        wrong = {tg: n for tg, n in counts.items() if tg in residents and n != 1}
        assert not wrong, f"{len(wrong)} got it twice or not at all: {list(wrong.items())[:5]}"
        assert counts[office.id] == 2  # the preview, and the notice itself
        assert all(counts[tg] == 0 for tg in blocked)
        assert sim.violations.total == 0, sim.violations.as_dict()

        report = await office.expect(contains="Delivery report", timeout=20)
        assert "Sent: 1995" in report.text
        assert "Blocked the bot: 5" in report.text and "Failed: 0" in report.text
        assert await marked() == 5
        async with env.sessionmaker() as s:
            first, last = (
                await s.execute(
                    select(func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at)).where(
                        OutboxMessage.status == OutboxStatus.SENT,
                        OutboxMessage.dedupe_key.like("bc:1:1:%"),
                    )
                )
            ).one()
        rate = (len(reachable) - 1) / (last - first).total_seconds()
        print(
            f"\n2,000-person broadcast: {len(reachable)} sent in {elapsed:.1f}s "
            f"({rate:.1f} messages/s), {sim.violations.total} limit violations"
        )
        assert rate > 20

        # The next notice, to the small village: the five are skipped, not tried.
        audience = await compose_notice(office, "Water will be off on Tuesday")
        await office.press("Villages…", message=audience)
        pick = await office.expect_edit(audience.message_id)
        await office.press(f"☐ {small.name_en}", message=pick)
        pick = await office.expect_edit(audience.message_id)
        await office.press("Next ➡", message=pick)
        when = await office.expect_edit(audience.message_id)
        await office.press("▶ Now", message=when)
        summary = await office.expect(contains="This is how it will look")
        assert "(20 people)" in summary.text
        await office.press("✅ Send", message=summary)
        report = await office.expect(contains="Delivery report", timeout=30)
        assert "Sent: 20" in report.text and "Blocked the bot: 5" in report.text
        async with env.sessionmaker() as s:
            skipped = list(
                await s.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.dedupe_key.like("bc:2:1:%"),
                        OutboxMessage.status == OutboxStatus.BLOCKED,
                    )
                )
            )
        assert len(skipped) == 5 and all(r.attempts == 0 for r in skipped)
        assert all(notices_in_chat(sim, tg, "Water will be off") == 0 for tg in blocked)
        assert sim.violations.total == 0
