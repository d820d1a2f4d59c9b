"""The whole loop by hand in the web chat, in a real browser, with the real bot:
a resident orders, the leader accepts and assigns, the volunteer completes with a photo,
the leader confirms hours, the resident rates. In Chinese, as the users see it: no screen of
the loop shows a Latin word."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import async_playwright, expect

from models import Role
from services.i18n import gettext
from simulator.driver import SimUser
from simulator.media import TINY_JPEG
from tests.conftest import CHROMIUM_ARGS
from tests.latin import latin_words


def zh(msgid: str, **params: object) -> str:
    return gettext(msgid, "zh_CN", **params)


async def test_whole_loop_in_the_web_chat(chromium, bot_env, tmp_path):
    env = bot_env

    async def villager(name: str, label: str, **appointed: object) -> SimUser:
        return await env.person(name, lang="zh-hans", label=label, **appointed)

    health = "卫生健康志愿服务队"
    leader = await villager("张医生", f"{health} 队长", role=Role.TEAM_LEADER, team="health")
    volunteer = await villager("李护士", f"{health} 志愿者", role=Role.VOLUNTEER, team="health")
    resident = await villager("王大妈", "庙庙湖村 居民")
    head = await villager("马站长", "庙庙湖村 站长", role=Role.STATION_HEAD)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1100, "height": 900})
        bot_says = page.locator(".from-bot")

        async def be(name: str) -> None:
            await page.locator(".persona", has_text=name).click()
            await expect(page.locator("#chat-subtitle")).to_contain_text(name)

        async def tap(text: str) -> None:
            await page.locator(".reply-button", has_text=text).first.click()

        async def press(text: str) -> None:
            await page.locator(".from-bot .inline-button", has_text=text).last.click()

        async def sees(text: str) -> None:
            await expect(bot_says.filter(has_text=text).last).to_be_visible(timeout=8000)

        async def sees_start(chars: int, msgid: str, **params: object) -> None:
            """The bot's message `msgid` (its first `chars` characters, in Chinese)."""
            await sees(zh(msgid, **params)[:chars])

        async def write(text: str) -> None:
            await page.fill("#text-input", text)
            await page.press("#text-input", "Enter")

        try:
            await page.goto(env.sim.base_url + "/")
            await be("王大妈")
            await tap(zh("🙋 Request a service"))
            await sees(zh("What kind of help do you need?"))
            await tap("看病义诊")
            await sees(zh("Which of these?"))
            await tap("义诊看病")
            await write("腿疼，想请医生来量量血压")
            await sees(zh("When would suit you?"))
            await tap(zh("Tomorrow"))
            await tap(zh("Morning"))
            await sees(zh("Where should the volunteers come? Tap a button, or write the address."))
            await tap("🏠")
            await sees(zh("Please check your request:"))
            await press(zh("✅ Confirm"))
            await sees_start(
                6,
                "Received! Your order number is {number}. The volunteer team will be "
                "told now; you will get a message here when someone accepts it.",
                number="",
            )

            await be("张医生")
            await sees(zh("🆕 A new order for your team"))
            await press(zh("✅ Accept"))
            await sees(zh("✅ You accepted this order."))
            await press(zh("👥 Assign volunteers"))
            await press("李护士")
            await press(zh("Next ➡"))
            await sees(zh("When will they go?"))
            await (
                page.locator(".from-bot", has_text=zh("When will they go?"))
                .last.locator(".inline-button")
                .first.click()
            )

            await be("李护士")
            await sees(zh("🧰 You have a new task"))
            await press(zh("▶ Start"))
            await press(zh("✔ Done"))
            await sees_start(
                6,
                "Please send 1 to {n} photos of the service. Tap «✅ Photos done» when all "
                "are sent.",
                n=10,
            )
            photo = tmp_path / "service.jpg"
            photo.write_bytes(TINY_JPEG)
            await page.set_input_files("#photo-input", str(photo))
            await sees(zh("Photo {n} received.", n=1))
            await tap(zh("✅ Photos done"))
            await tap("2")
            await write("量了血压，一切正常")
            await sees_start(
                4, "Thank you! It is recorded as done. The resident will be asked to rate it."
            )

            await be("张医生")
            await press(zh("✅ Confirm hours"))
            await expect(page.locator("#toast")).to_contain_text(
                zh("Hours confirmed. Points have been added.")[:4]
            )

            await be("王大妈")
            await press("⭐⭐⭐⭐⭐")
            await sees_start(4, "Would you like to add a comment? Write it, or tap «Skip».")
            await tap(zh("Skip"))
            await sees(zh("Thank you!"))
            shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
            await page.screenshot(path=str(shots / "webchat-loop.png"))
        finally:
            await browser.close()

    from sqlalchemy import select

    from models import Order, OrderStatus

    async with env.sessionmaker() as s:
        order = await s.scalar(select(Order))
    assert order.status == OrderStatus.RATED

    # Every message, button and keyboard each of them was shown, in their language only.
    await env.idle()
    for person in (resident, leader, volunteer, head):
        shown = []
        for message in [m for m in await person.history() if m.from_bot]:
            shown.append(message.text or "")
            shown.extend(message.buttons())
            for row in message.reply_keyboard or []:
                shown.extend(row)
        latin = {text: latin_words(text) for text in shown if latin_words(text)}
        assert not latin, (person.persona["first_name"], latin)
