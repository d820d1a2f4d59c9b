"""A tiny aiogram bot for the simulator's own tests: a start card with buttons, a reply
keyboard, and echoes of photos, contacts, locations and voice notes; and raw Bot API calls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from simulator.server import Simulator

TOKEN = "123456:TEST-simulator-token"
BOT_ID = 123456


# A tiny bot ------------------------------------------------------------------------------


def make_router(seen: dict[str, Any]) -> Router:
    """A fresh router per test: a module-level one cannot join a second Dispatcher."""
    router = Router()
    order_keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="接单", callback_data="order:accept"),
                InlineKeyboardButton(text="拒绝", callback_data="order:decline"),
            ]
        ]
    )
    services = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="看病义诊"), KeyboardButton(text="法律咨询")],
            [KeyboardButton(text="分享手机号", request_contact=True)],
        ],
        resize_keyboard=True,
    )

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        seen["start_args"] = command.args
        name = message.from_user.first_name if message.from_user else ""
        await message.answer(f"你好，{name}！有新订单：", reply_markup=order_keyboard)
        await message.answer("也可以点下面的按钮选择服务", reply_markup=services)

    @router.callback_query(F.data.startswith("order:"))
    async def on_order(query: CallbackQuery) -> None:
        accepted = query.data == "order:accept"
        await query.answer("已接单" if accepted else "已拒绝")
        if isinstance(query.message, Message):
            await query.message.edit_text(f"订单状态：{'已接单' if accepted else '已拒绝'}")

    @router.callback_query()
    async def stale(query: CallbackQuery) -> None:
        seen["stale_data"] = query.data
        await query.answer("按钮已失效", show_alert=True)

    @router.message(F.text == "看病义诊")
    async def health(message: Message) -> None:
        await message.answer("您选择了：看病义诊", reply_markup=ReplyKeyboardRemove())

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        file_id = message.photo[-1].file_id if message.photo else ""
        data = await bot.download(file_id)
        seen["photo"] = (file_id, data.read() if data else b"")
        await message.answer_photo(file_id, caption=f"收到照片 {len(seen['photo'][1])} 字节")

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        own = message.from_user and message.contact.user_id == message.from_user.id
        await message.answer("已记录您的手机号" if own else "这是别人的名片")

    @router.message(F.location)
    async def location(message: Message) -> None:
        seen["location"] = (message.location.latitude, message.location.longitude)
        await message.answer("收到位置")

    @router.message(F.voice)
    async def voice(message: Message) -> None:
        seen["voice"] = message.voice.duration
        await message.answer("收到语音")

    @router.my_chat_member()
    async def membership(event: ChatMemberUpdated) -> None:
        seen.setdefault("membership", []).append(event.new_chat_member.status)

    return router


@contextlib.asynccontextmanager
async def polling_bot(sim: Simulator, router: Router, token: str = TOKEN) -> AsyncIterator[Bot]:
    """An aiogram bot (the account `token`) polling the simulator with `router` until the
    block ends."""
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sim.base_url)))
    dp = Dispatcher()
    dp.include_router(router)
    started = asyncio.Event()
    dp.startup.register(started.set)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=2))
    await asyncio.wait_for(started.wait(), 5)
    try:
        yield bot
    finally:
        # stop_polling (not cancel) lets aiogram end its getUpdates before closing the session.
        await asyncio.wait_for(dp.stop_polling(), 5)
        await asyncio.wait_for(task, 5)


async def call(
    http: aiohttp.ClientSession, sim: Simulator, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    """A raw Bot API call, JSON-encoded (aiogram itself always sends multipart)."""
    async with http.post(f"{sim.base_url}/bot{TOKEN}/{method}", json=params) as resp:
        return resp.status, await resp.json()


async def eventually(predicate: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")
