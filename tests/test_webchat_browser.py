"""The web chat in a real browser: persona, /start, inline button, reply keyboard."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from playwright.async_api import Page, async_playwright, expect

from simulator import Simulator, run_simulator
from tests.conftest import CHROMIUM_ARGS
from tests.tiny_bot import polling_bot

TOKEN = "654321:TEST-webchat-token"


def make_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        buttons = [
            [
                InlineKeyboardButton(text="接单", callback_data="accept"),
                InlineKeyboardButton(text="拒绝", callback_data="decline"),
            ]
        ]
        await message.answer(
            "新订单：看病义诊，庙庙湖村", reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons)
        )
        keyboard = [[KeyboardButton(text="看病义诊"), KeyboardButton(text="法律咨询")]]
        await message.answer(
            "请选择服务", reply_markup=ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True)
        )

    @router.callback_query()
    async def on_press(query: CallbackQuery) -> None:
        await query.answer("已接单")
        if isinstance(query.message, Message):
            await query.message.edit_text("订单状态：已接单 ✅")

    @router.message(F.text == "看病义诊")
    async def service(message: Message) -> None:
        await message.answer("您选择了：看病义诊")

    @router.message(F.voice)
    async def voice(message: Message) -> None:
        assert message.voice is not None
        await message.answer(f"收到语音，{message.voice.duration} 秒")

    return router


@pytest.fixture
async def sim_with_bot() -> AsyncIterator[Simulator]:
    async with run_simulator() as sim:
        sim.add_bot(TOKEN, username="taole_bot", first_name="陶乐志愿服务")
        sim.add_persona("张队长", label="卫生健康志愿服务队 队长")
        async with polling_bot(sim, make_router(), TOKEN):
            yield sim


async def test_chat_in_the_browser(chromium, sim_with_bot):
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1100, "height": 820})
            page.set_default_timeout(10_000)
            await run_conversation(page, sim_with_bot.base_url)
        finally:
            await browser.close()


async def run_conversation(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/")
    await expect(page.locator(".persona", has_text="张队长")).to_be_visible()

    # Create a persona through the form; the page switches to its chat.
    await page.fill("#new-persona input[name=first_name]", "王大妈")
    await page.fill("#new-persona input[name=label]", "庙庙湖村 居民")
    await page.click("#new-persona button[type=submit]")
    await expect(page.locator("#chat-subtitle")).to_contain_text("王大妈 · 庙庙湖村 居民")

    await page.fill("#text-input", "/start")
    await page.press("#text-input", "Enter")
    card = page.locator(".from-bot", has_text="新订单")
    await expect(card).to_be_visible()
    await expect(page.locator(".reply-button", has_text="看病义诊")).to_be_visible()

    await card.locator(".inline-button", has_text="接单").click()
    await expect(page.locator("#toast")).to_have_text("已接单")
    await expect(page.locator(".from-bot", has_text="订单状态：已接单")).to_be_visible()
    await expect(page.locator(".from-bot .inline-button")).to_have_count(0)

    await page.locator(".reply-button", has_text="看病义诊").click()
    await expect(page.locator(".from-bot", has_text="您选择了：看病义诊")).to_be_visible()

    # Switching persona shows that persona's own (empty) chat.
    await page.locator(".persona", has_text="张队长").click()
    await expect(page.locator("#chat-subtitle")).to_contain_text("张队长")
    await expect(page.locator(".bubble")).to_have_count(0)


async def test_a_voice_message_from_the_browser(chromium, sim_with_bot, tmp_path):
    """The 🎤 button records with the microphone (a fake one here) and sends a voice message;
    🎵 sends an audio file where the browser cannot record."""
    fake_mic = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    audio = tmp_path / "note.ogg"
    audio.write_bytes(b"OggS" + bytes(200))  # not playable: the bot only needs the file
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS + fake_mic
        )
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(10_000)
            await page.goto(sim_with_bot.base_url + "/")
            await page.locator(".persona", has_text="张队长").click()
            await expect(page.locator("#chat-subtitle")).to_contain_text("张队长")

            await page.click("#voice-button")
            await expect(page.locator("#voice-button")).to_contain_text("⏹")
            await page.wait_for_timeout(1_200)  # a recording of about a second
            await page.click("#voice-button")
            await expect(page.locator(".from-me audio.voice")).to_have_count(1)
            await expect(page.locator(".from-bot", has_text="收到语音")).to_have_count(1)
            await expect(page.locator("#voice-button")).to_have_text("🎤")

            await page.set_input_files("#voice-input", str(audio))
            await expect(page.locator(".from-me audio.voice")).to_have_count(2)
            await expect(page.locator(".from-bot", has_text="收到语音")).to_have_count(2)
        finally:
            await browser.close()
