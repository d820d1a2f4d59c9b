"""The Bot API simulator over raw HTTP: validation, formatting, edits, and the flood
limits Telegram would enforce."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from simulator import TINY_JPEG, Limits, run_simulator
from simulator.driver import Driver
from tests.tiny_bot import TOKEN, call

# The Bot API over raw HTTP ----------------------------------------------------------------


async def test_validation_errors(sim, http):
    user = sim.add_persona("王大妈").id
    keyboard = {"inline_keyboard": [[{"text": "x", "callback_data": "数" * 21 + "ab"}]]}
    status, body = await call(
        http, sim, "sendMessage", chat_id=user, text="x", reply_markup=keyboard
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    keyboard["inline_keyboard"][0][0]["callback_data"] = "数" * 21 + "a"  # 64 bytes
    status, _ = await call(http, sim, "sendMessage", chat_id=user, text="x", reply_markup=keyboard)
    assert status == 200

    status, body = await call(http, sim, "sendMessage", chat_id=user, text="长" * 4097)
    assert (status, body) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
    )
    status, body = await call(http, sim, "sendMessage", chat_id=user, text="长" * 4096)
    assert status == 200 and len(body["result"]["text"]) == 4096
    status, body = await call(http, sim, "sendMessage", chat_id=user, text="")
    assert body["description"] == "Bad Request: message text is empty"
    status, body = await call(http, sim, "sendMessage", chat_id=42, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_caption_html_and_unknown_method(sim, http):
    user = sim.add_persona("王大妈").id
    form = aiohttp.FormData()
    form.add_field("chat_id", str(user))
    form.add_field("caption", "说明" * 513)
    form.add_field("photo", TINY_JPEG, filename="p.jpg")
    async with http.post(f"{sim.base_url}/bot{TOKEN}/sendPhoto", data=form) as resp:
        body = await resp.json()
    assert body["description"] == "Bad Request: message caption is too long"

    status, body = await call(
        http, sim, "sendMessage", chat_id=user, text="<b>订单</b> 已完成", parse_mode="HTML"
    )
    assert body["result"]["text"] == "订单 已完成"
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    status, body = await call(
        http, sim, "sendMessage", chat_id=user, text="<b>坏", parse_mode="HTML"
    )
    assert status == 400 and "can't parse entities" in body["description"]

    status, body = await call(http, sim, "launchRockets")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_edit_errors(sim, http):
    user = sim.add_persona("王大妈").id
    _, body = await call(http, sim, "sendMessage", chat_id=user, text="订单")
    message_id = body["result"]["message_id"]
    status, body = await call(
        http, sim, "editMessageText", chat_id=user, message_id=message_id + 7, text="x"
    )
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    status, body = await call(
        http, sim, "editMessageText", chat_id=user, message_id=message_id, text="订单"
    )
    assert body["description"].startswith("Bad Request: message is not modified: ")
    keyboard = {"inline_keyboard": [[{"text": "接单", "callback_data": "a"}]]}
    status, body = await call(
        http,
        sim,
        "editMessageReplyMarkup",
        chat_id=user,
        message_id=message_id,
        reply_markup=keyboard,
    )
    assert status == 200 and body["result"]["reply_markup"] == keyboard
    status, _ = await call(http, sim, "deleteMessage", chat_id=user, message_id=message_id)
    assert status == 200
    status, body = await call(http, sim, "deleteMessage", chat_id=user, message_id=message_id)
    assert body["description"] == "Bad Request: message to delete not found"


async def test_private_chat_flood_limit(sim, http):
    user = sim.add_persona("王大妈").id
    results = [
        await call(http, sim, "sendMessage", chat_id=user, text=f"第{i}条") for i in range(11)
    ]
    assert [status for status, _ in results] == [200] * 10 + [429]
    body = results[-1][1]
    assert body["error_code"] == 429
    assert (
        body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
    )
    assert body["parameters"]["retry_after"] >= 1
    assert sim.violations.total == 1 and sim.violations.by_chat == {user: 1}
    # Edits and callback answers are not sends and do not count.
    status, _ = await call(http, sim, "editMessageText", chat_id=user, message_id=1, text="改过了")
    assert status == 200
    status, _ = await call(http, sim, "sendChatAction", chat_id=user, action="typing")
    assert status == 200
    async with Driver(sim.base_url, TOKEN) as driver:
        assert (await driver.violations())["total"] == 1


async def test_global_and_group_limits(http):
    # Slow refill, so the 31st send is refused however slow this machine is.
    limits = Limits(global_per_second=1.0, global_burst=30, private_burst=10)
    async with run_simulator(limits=limits) as sim:
        users = [sim.add_persona(f"居民{i}").id for i in range(31)]
        statuses = [
            (await call(http, sim, "sendMessage", chat_id=u, text="通知"))[0] for u in users
        ]
        assert statuses == [200] * 30 + [429]
    async with run_simulator(limits=Limits(group_burst=20)) as sim:
        member = sim.add_persona("队长").id
        group = sim.world.add_group("志愿服务队", [member]).id
        statuses = [
            (await call(http, sim, "sendMessage", chat_id=group, text="集合"))[0] for _ in range(21)
        ]
        assert statuses == [200] * 20 + [429]
        assert sim.violations.by_chat == {group: 1}


async def test_limits_can_be_disabled(http):
    async with run_simulator(limits=Limits(enabled=False)) as sim:
        user = sim.add_persona("王大妈").id
        for i in range(40):
            status, _ = await call(http, sim, "sendMessage", chat_id=user, text=str(i))
            assert status == 200
        assert sim.violations.total == 0


async def test_aiogram_sees_retry_after(sim):
    user = sim.add_persona("王大妈").id
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sim.base_url)))
    async with bot.session:
        for _ in range(10):
            await bot.send_message(user, "提醒")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(user, "提醒")
    assert caught.value.retry_after >= 1
