"""Words a villager reads at a glance, end to end in Chinese through the simulator, on the
bot's fake clock (Tuesday 1 December 2026, 09:00 in Shanghai): the assign reply says who goes,
one way of writing a day on every card, the resident's requested half-day marked in the
leader's picker, one «时间» line on the volunteer's task, hours as «1.5 小时», a labelled
photos button, the resident's own name in full, the same status word in the bot and on the
dashboard, and no «» anywhere on a Chinese screen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import select

from dashboard import auth
from models import Order, Role
from scheduler import ManualClock
from services.i18n import gettext
from simulator.driver import BotMessage, ChatSession
from simulator.limits import Limits
from simulator.server import run_simulator
from tests.harness import BotEnv
from tests.scheduler_harness import bot_on
from tests.test_dashboard_sessions import _dashboard, _sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)  # a Tuesday
TOMORROW_MORNING = "12月2日 周三 上午"


def zh(msgid: str, **params: object) -> str:
    return gettext(msgid, "zh_CN", **params)


@asynccontextmanager
async def bot_now(db_url: str, tmp_path: Path) -> AsyncIterator[BotEnv]:
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media", clock=ManualClock(at=NOW)) as env,
    ):
        yield env


async def order_tomorrow_morning(u: ChatSession) -> tuple[str, BotMessage]:
    """李奶奶 asks for a free clinic tomorrow morning at home; returns the order number and
    the summary she checked before confirming."""
    await u.tap(zh("🙋 Request a service"))
    await u.expect(contains=zh("What kind of help do you need?"))
    await u.tap("看病义诊")
    await u.expect(contains=zh("Which of these?"))
    await u.tap("义诊看病")
    await u.expect(contains="您需要什么帮助")
    await u.send("腿疼，想请医生看看")
    await u.expect(contains=zh("When would suit you?"))
    await u.tap(zh("Tomorrow"))
    await u.expect(contains=zh("Morning or afternoon?"))
    await u.tap(zh("Morning"))
    where = await u.expect(contains="志愿者到哪里")
    keyboard = where.reply_keyboard or await u.reply_keyboard() or []
    await u.tap(next(b for row in keyboard for b in row if b.startswith("🏠")))
    summary = await u.expect(contains=zh("Please check your request:"))
    await u.press(zh("✅ Confirm"))
    done = await u.expect(contains="订单号是")
    return done.text.split("订单号是 ")[1].split("。")[0], summary


def time_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("时间：")]


async def no_guillemets(*people: ChatSession) -> None:
    """Chinese screens quote with “…”, never «…»."""
    for u in people:
        for m in await u.history():
            shown = " ".join([m.text or "", *m.buttons()])
            assert "«" not in shown and "»" not in shown, shown


async def test_the_loop_in_chinese_reads_at_a_glance(db_url, tmp_path):
    async with bot_now(db_url, tmp_path) as env:
        leader = await env.person("张医生", role=Role.TEAM_LEADER, team="health", lang="zh_CN")
        nurse = await env.person("许成林", role=Role.VOLUNTEER, team="health", lang="zh_CN")
        grandma = await env.person("李奶奶", lang="zh_CN")

        number, summary = await order_tomorrow_morning(grandma)
        assert f"时间：{TOMORROW_MORNING}" in summary.text

        card = await leader.expect(contains=number)
        assert time_lines(card.text) == [f"时间：{TOMORROW_MORNING}"]
        assert "群众：李*" in card.text  # others see the name masked
        assert f"状态：{zh('Waiting to be accepted')}" in card.text
        await leader.press(zh("✅ Accept"), message=card)
        accepted = await leader.expect_edit(card.message_id)
        await leader.press(zh("👥 Assign volunteers"), message=accepted)
        roster = await leader.expect(contains="派谁去")
        assert number not in roster.text  # the number is on the card, not again
        await leader.press("☐ 许成林", message=roster)
        await leader.press(zh("Next ➡"), message=await leader.expect_edit(roster.message_id))
        slots = await leader.expect(contains=zh("When will they go?"))
        offered = slots.buttons()
        assert offered[:2] == ["12月1日 周二 上午", "12月1日 周二 下午"]  # the bot's today
        marked = f"✓ {TOMORROW_MORNING}（群众选的）"
        assert [b for b in offered if b.startswith("✓")] == [marked]
        assert "12月2日 周三 下午" in offered
        await leader.press(marked, message=slots)
        told = await leader.expect(contains="已派给")
        assert told.text == "已派给许成林，已告诉群众。"

        task = await nurse.expect(contains=zh("🧰 You have a new task"))
        assert time_lines(task.text) == ["时间：12月2日 周三 09:00"]  # one time line
        assert "群众：李奶奶" in task.text  # whoever goes sees the name
        come = await grandma.expect(contains="许成林")
        assert "12月2日 周三 09:00" in come.text

        await nurse.press(zh("▶ Start"), message=task)
        started = await nurse.expect_edit(task.message_id)
        assert time_lines(started.text) == ["时间：12月2日 周三 09:00"]
        await nurse.press(zh("✔ Done"), message=started)
        ask_photos = await nurse.expect(contains="服务照片")
        assert "“✅ 照片传完了”" in ask_photos.text
        assert (ask_photos.reply_keyboard or [])[:1] == [["✅ 照片传完了"]]
        await nurse.send_photo()
        await nurse.expect(contains=zh("Photo {n} received.", n=1))
        await nurse.tap("✅ 照片传完了")
        await nurse.expect(
            contains=zh("How many hours did {name} serve? (e.g. 1.5)", name="许成林")
        )
        await nurse.tap("1.5")
        await nurse.expect(contains="跳过")
        await nurse.tap(zh("Skip"))
        recorded = await nurse.expect(contains="已记为完成")
        assert number not in recorded.text

        hours = await leader.expect(contains=number)
        assert "• 许成林：1.5 小时" in hours.text or "• 许成林: 1.5 小时" in hours.text

        await grandma.tap(zh("📋 My orders"))
        mine = await grandma.expect(contains=f"订单 {number}\n")
        assert "群众：李奶奶" in mine.text  # her own name, unmasked
        status = mine.text.split("状态：")[1].splitlines()[0]
        assert status == zh("Done, not rated")

        await env.idle()
        await no_guillemets(grandma, leader, nurse)

        office = await env.person("刘主任", role=Role.OFFICE, lang="zh_CN")
        page = await dashboard_page(env, db_url, tmp_path, office, number)
        assert status in page  # the same word as in the bot
        assert "1.5 小时" in page
        assert "12月1日 周二 09:" in page  # when it was placed, in local time
        assert "«" not in page and "»" not in page


async def dashboard_page(
    env: BotEnv, db_url: str, tmp_path: Path, office: ChatSession, number: str
) -> str:
    """The dashboard's page of order `number`, as `office` sees it."""
    async with env.sessionmaker() as s:
        order_id = await s.scalar(select(Order.id).where(Order.number == number))
    return await dashboard_get(env, db_url, tmp_path, office, f"/orders/{order_id}")


async def dashboard_get(
    env: BotEnv, db_url: str, tmp_path: Path, office: ChatSession, path: str
) -> str:
    """A dashboard page (`path`, e.g. "/orders"), as `office` sees it."""
    user = await env.db_user(office)
    async with _dashboard(env.sessionmaker, db_url, tmp_path) as url:
        cookie = await _sign_in(url, env.sessionmaker, user.id)
        headers = {"Cookie": f"{auth.COOKIE}={cookie}"}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{url}{path}", headers=headers) as resp,
        ):
            assert resp.status == 200
            return await resp.text()
