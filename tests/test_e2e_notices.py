"""Notices that reach people on their own, end to end through the simulator and the real bot:
the alert when a resident rates an order 1, a weekly broadcast firing twice for every
audience the product offers, and the author's delivery report naming whom it did not reach.

Dates are fixed: the bot's scheduler runs on a ManualClock that the test moves a week on."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, update

from bot.app import build_i18n
from bot.notices import make_renderer
from models import OutboxMessage, OutboxStatus, Role, User
from scheduler.clock import ManualClock
from services import broadcasts, people
from services.outbox import NoticeKind
from services.people import roles_of
from services.points import LOCAL_TZ
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator
from tests.factories import make_cast, make_user, roles_for
from tests.flows import (
    accept_order,
    assign_volunteer,
    compose_notice,
    order_through_chat,
    press_through,
    serve_task,
)
from tests.scheduler_harness import BOT_ID, bot_on, wait_until

SUNDAY = date(2026, 3, 1)  # the notices are written on a Sunday; Monday 2 March is their day
WEEKLY = {"kind": "weekly", "days": [0], "time": "09:00"}  # Mondays at 09:00, local time


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def chats_with(sim: Simulator, marker: str) -> dict[int, int]:
    """Every chat the bot wrote `marker` to, and how many times: the whole world, so a
    notice that reached someone it should not is seen too."""
    found: dict[int, int] = {}
    for chat_id, chat in sim.world.bots[BOT_ID].chats.items():
        n = sum(
            1
            for m in chat.messages.values()
            if m.from_bot and marker in ((m.text or "") + (m.caption or ""))
        )
        if n:
            found[chat_id] = n
    return found


async def set_party_members(env, *people) -> None:
    async with env.sessionmaker() as s:
        await s.execute(
            update(User).where(User.tg_id.in_([p.id for p in people])).values(is_party_member=True)
        )
        await s.commit()


# --- a rating of 1 ---------------------------------------------------------------------------


async def test_a_rating_of_one_alerts_the_village_head_and_the_office_only(bot_env):
    env, sim = bot_env, bot_env.sim
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health", station="dongyuan")
    vol = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health", station="dongyuan")
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    other_head = await env.person("Secretary Zhou", role=Role.STATION_HEAD, station="xijie")
    office = await env.person("Office Wu", role=Role.OFFICE, station="dongjie")
    office2 = await env.person("Office Sun", role=Role.OFFICE, station="dongjie")
    neighbour = await env.person("Uncle Zhao")
    resident = await env.person("Grandma Li")

    number = await order_through_chat(resident, need="Cannot walk to the clinic")
    card = await leader.expect(contains=number)
    await assign_volunteer(leader, await accept_order(leader, card), "Nurse Wang")
    await serve_task(vol, hours="2", note="Measured, all fine")

    rate = await resident.expect(contains="How was the service")
    await resident.press("⭐", message=rate)
    await resident.expect(contains="add a comment")

    marker = f"Order {number} was rated 1 of 5"
    for person in (head, office, office2):
        alert = await person.expect(contains=marker)
        assert "Miaomiaohu" in alert.text and "📜 History" in alert.buttons()
    await env.settle()
    told = set(chats_with(sim, marker))
    assert told == {head.id, office.id, office2.id}, {
        p.first_name for p in (leader, vol, other_head, neighbour, resident) if p.id in told
    }
    assert all(n == 1 for n in chats_with(sim, marker).values())


# --- a weekly broadcast, every audience --------------------------------------------------------


async def test_weekly_broadcasts_fire_twice_each_reaching_exactly_their_audience(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media", clock=ManualClock(local(SUNDAY, 12))) as env,
    ):
        # The whole bot runs on a clock the test holds; after its start-up run the
        # scheduler fires only when the test ticks it.
        jobs = env.dp["scheduler"].jobs
        clock = jobs.clock
        assert isinstance(clock, ManualClock)

        cast = {
            "Office Wu": await env.person("Office Wu", role=Role.OFFICE, station="dongjie"),
            "Secretary Ma": await env.person("Secretary Ma", role=Role.STATION_HEAD),
            "Secretary Zhou": await env.person(
                "Secretary Zhou", role=Role.STATION_HEAD, station="xijie"
            ),
            "Dr Zhang": await env.person(
                "Dr Zhang", role=Role.TEAM_LEADER, team="health", station="dongyuan"
            ),
            "Nurse Wang": await env.person(
                "Nurse Wang", role=Role.VOLUNTEER, team="health", station="xijie"
            ),
            "Lawyer Chen": await env.person("Lawyer Chen", role=Role.VOLUNTEER, team="law"),
            "Grandma Li": await env.person("Grandma Li"),
            "Uncle Zhao": await env.person("Uncle Zhao", station="xijie"),
            "Old Secretary Gao": await env.person(
                "Old Secretary Gao", role=Role.STATION_HEAD, station="wangjiazhuang"
            ),
        }
        async with env.sessionmaker() as s:  # stepped down: heads and leads nothing now
            gao = await s.get(User, (await env.db_user(cast["Old Secretary Gao"])).id)
            assert await people.dismiss(s, gao, Role.STATION_HEAD) == 1
            assert await people.dismiss(s, gao, Role.TEAM_LEADER) == 1  # the village squad
            await s.commit()
        stranger = await env.new_user("Passer-by")  # opened the chat, never registered
        await stranger.send("/start")
        await stranger.expect(contains="village")
        await set_party_members(
            env, cast["Lawyer Chen"], cast["Grandma Li"], cast["Secretary Zhou"]
        )
        miaomiaohu, dongyuan = await env.station("miaomiaohu"), await env.station("dongyuan")
        health = await env.team("health")

        audiences = {  # what each may reach, from who the people are (not from a query)
            "everyone": ({"kind": "everyone"}, set(cast)),
            "villages": (
                {"kind": "stations", "ids": [miaomiaohu.id, dongyuan.id]},
                {"Secretary Ma", "Lawyer Chen", "Grandma Li", "Dr Zhang"},
            ),
            "team": ({"kind": "team", "ids": [health.id]}, {"Dr Zhang", "Nurse Wang"}),
            "volunteers": (  # the station heads lead their village's squad
                {"kind": "volunteers"},
                {"Dr Zhang", "Nurse Wang", "Lawyer Chen", "Secretary Ma", "Secretary Zhou"},
            ),
            "party": (
                {"kind": "party"},
                {"Lawyer Chen", "Grandma Li", "Secretary Zhou"},
            ),
            "heads": ({"kind": "heads"}, {"Secretary Ma", "Secretary Zhou"}),
        }
        async with env.sessionmaker() as s:
            author = await env.db_user(cast["Office Wu"])
            roles = await roles_of(s, author, frozenset())
            ids = []
            for label, (audience, _names) in audiences.items():
                bc = await broadcasts.create(
                    s,
                    await s.get(User, author.id),
                    roles,
                    town_id=author.town_id,
                    text=f"Weekly word to {label}",
                    audience=audience,
                    recurrence=WEEKLY,
                    now=clock.now(),
                    tz=env.settings.tz,
                )
                assert bc.next_run_at == local(SUNDAY + timedelta(days=1), 9)
                ids.append(bc.id)
        names = {p.id: name for name, p in cast.items()} | {stranger.id: "Passer-by"}

        def reached(label: str) -> dict[str, int]:
            got = chats_with(sim, f"📢 Notice\nWeekly word to {label}")
            return {names.get(chat, str(chat)): n for chat, n in got.items()}

        async def week(n: int) -> None:
            """Let the n-th Monday 09:00 come; every audience gets its n-th notice."""
            monday = local(SUNDAY + timedelta(days=1 + 7 * (n - 1)), 9)
            assert (await jobs.tick(now=clock.set(monday - timedelta(minutes=1)))).runs == []
            result = await jobs.tick(now=clock.set(monday))
            assert sorted(r.run for r in result.runs) == [n] * len(audiences)
            await wait_until(
                lambda: all(
                    set(reached(label)) >= want and min(reached(label).values()) >= n
                    for label, (_a, want) in audiences.items()
                ),
                timeout=30,
            )
            await env.settle(timeout=30)
            for label, (_audience, want) in audiences.items():
                assert reached(label) == dict.fromkeys(want, n), label
            # Each run is done: the author is told, once per notice (a run the sender
            # finished while others were still fanned out is reported by the firing tick).
            reports = result.reports + (await jobs.tick(now=clock.now())).reports
            assert sorted(reports) == sorted(ids)
            await wait_until(
                lambda: (
                    chats_with(sim, "Delivery report").get(cast["Office Wu"].id, 0) == n * len(ids)
                ),
                timeout=30,
            )

        await week(1)
        assert (await jobs.tick(now=clock.advance(days=3))).runs == []  # Thursday: nothing
        await week(2)
        office = cast["Office Wu"].id
        assert set(chats_with(sim, "Delivery report")) == {office}


# --- the author's report, by name ----------------------------------------------------------------


async def test_the_delivery_report_names_who_blocked_the_bot_and_who_it_failed(db_url, tmp_path):
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media") as env,
    ):
        office = await env.person("Office Wu", role=Role.OFFICE, station="dongjie")
        grandma = await env.person("Grandma Li")
        uncle = await env.person("Uncle Zhao")
        await uncle.block()
        village = await env.station("miaomiaohu")
        async with env.sessionmaker() as s:  # a number that was never a Telegram chat
            ghost = User(
                tg_id=9_990_001,
                name="Auntie Sun",
                registered=True,
                station_id=village.id,
                town_id=village.parent_id,
            )
            s.add(ghost)
            await s.commit()

        audience = await compose_notice(
            office, "The well is closed for cleaning on Saturday", reply="Who should get it"
        )
        when = await press_through(office, audience, "Villages…", "☐ Miaomiaohu Village", "Next ➡")
        await office.press("▶ Now", message=when)
        summary = await office.expect(contains="This is how it will look")
        await office.press("✅ Send", message=summary)

        await grandma.expect(contains="The well is closed")
        report = await office.expect(contains="Delivery report", timeout=20)
        lines = report.text.splitlines()
        assert "Sent: 1" in lines and "Blocked the bot: 1" in lines and "Failed: 1" in lines
        blocked = lines.index("Blocked the bot:")
        assert lines[blocked + 1] == "• Uncle Zhao (Miaomiaohu Village)"
        failed = lines.index("Could not be delivered:")
        assert lines[failed + 1] == "• Auntie Sun (Miaomiaohu Village)"
        assert "Grandma Li" not in report.text  # the delivered are counted, not listed
        assert "by phone" in lines[-1]
        assert chats_with(sim, "The well is closed").keys() == {grandma.id, office.id}


async def test_a_long_report_in_chinese_names_the_first_and_counts_the_rest(session, sessionmaker):
    """Below the bot: the report as rendered for a Chinese-speaking author, with more people
    unreached than it lists."""
    cast = await make_cast(session)
    cast.office.locale = "zh_CN"
    east = cast.org.east
    gone = [await make_user(session, name=f"村民{i:02d}", station=east) for i in range(25)]
    for person in gone:
        person.blocked = True
    await session.commit()
    bc = await broadcasts.create(
        session,
        cast.office,
        await roles_for(session, cast.office),
        town_id=cast.org.town.id,
        text="周六停水",
        audience={"kind": "stations", "ids": [east.id]},
        now=local(SUNDAY, 12),
        tz=LOCAL_TZ,
    )
    await broadcasts.run_due(sessionmaker, local(SUNDAY, 12), tz=LOCAL_TZ)
    async with sessionmaker() as s:  # one neighbour's message failed for good
        await s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.dedupe_key == f"bc:{bc.id}:1:{cast.neighbour.id}",
            )
            .values(status=OutboxStatus.FAILED, last_error="chat not found")
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT)
        )
        await s.commit()
    assert await broadcasts.send_reports(sessionmaker, local(SUNDAY, 12)) == [bc.id]
    async with sessionmaker() as s:
        row = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"bcreport:{bc.id}:1")
        )
        assert row.payload["kind"] == NoticeKind.BROADCAST_REPORT
        _method, params = await make_renderer(build_i18n("zh_CN"), LOCAL_TZ)(s, row)
    text = params["text"]
    lines = text.splitlines()
    assert "已屏蔽机器人：25" in lines and "发送失败：1" in lines
    start = lines.index("已屏蔽机器人的：")
    listed = lines[start + 1 : start + 1 + broadcasts.NAMES_SHOWN]
    assert listed == [f"• 村民{i:02d}（东街社区）" for i in range(broadcasts.NAMES_SHOWN)]
    assert lines[start + 1 + broadcasts.NAMES_SHOWN] == "……另有 5 人"
    failed = lines.index("未能送达的：")
    assert lines[failed + 1] == "• 杨奶奶（东街社区）"
    assert not any(c.isascii() and c.isalpha() for c in text), text  # no English, no ids
    assert not any(str(p.tg_id) in text for p in [cast.neighbour, *gone])
