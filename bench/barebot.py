"""The reference: a bare aiogram bot that answers every update with one message.

    BOT_TOKEN=… TELEGRAM_API_BASE=http://127.0.0.1:… python -m bench.barebot

No database, no middlewares, aiogram's own polling: the framework's ceiling on the same
simulator and machine. Its answer carries the ✅ Confirm button, so the scripted residents
can send it exactly the updates they send our bot (the reply keyboard they tap is set up in
the simulator beforehand).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bench.conversation import CONFIRM

MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text=CONFIRM, callback_data="confirm")]]
)


def build() -> Dispatcher:
    dp = Dispatcher()

    @dp.message()
    async def on_message(message: Message) -> None:
        await message.answer("ok", reply_markup=MARKUP)

    @dp.callback_query()
    async def on_press(query: CallbackQuery, bot: Bot) -> None:
        assert query.message is not None
        await bot.send_message(query.message.chat.id, "ok")

    return dp


async def main() -> None:
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"])
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))
    dp = build()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(dp.stop_polling()))
    with contextlib.suppress(RuntimeError):  # stop before polling started
        await dp.start_polling(bot, handle_signals=False)


if __name__ == "__main__":
    asyncio.run(main())
