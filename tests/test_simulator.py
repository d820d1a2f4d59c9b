"""The Bot API simulator, driven by a real aiogram bot and by raw HTTP calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiohttp import web

from simulator import TINY_JPEG, Limits, run_simulator
from simulator.driver import Driver, ExpectationFailed, SimulatorError
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
async def polling_bot(sim: Simulator, seen: dict[str, Any]) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(sim.base_url)))
    dp = Dispatcher()
    dp.include_router(make_router(seen))
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


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with run_simulator() as simulator:
        simulator.add_bot(TOKEN, username="taole_bot", first_name="陶乐志愿服务")
        yield simulator


@pytest.fixture
async def world(sim: Simulator) -> AsyncIterator[tuple[Driver, Bot, dict[str, Any]]]:
    seen: dict[str, Any] = {}
    async with polling_bot(sim, seen) as bot, Driver(sim.base_url, TOKEN) as driver:
        yield driver, bot, seen


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


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


# Conversations through the driver ---------------------------------------------------------


async def test_start_press_and_edit(world):
    driver, _, _ = world
    u = await driver.user("王大妈", label="庙庙湖村 居民")
    await u.send("/start")
    card, menu = await u.expect_many(2)
    assert card.from_bot and card.text == "你好，王大妈！有新订单："
    assert card.buttons() == ["接单", "拒绝"]
    assert card.button("接单").callback_data == "order:accept"
    assert menu.reply_keyboard == [["看病义诊", "法律咨询"], ["分享手机号"]]

    await u.press("接单")
    answer = await u.callback_answer()
    assert answer.text == "已接单" and not answer.show_alert
    edited = await u.expect_edit(card)
    assert edited.edited and edited.text == "订单状态：已接单" and edited.buttons() == []
    history = await u.history()
    assert [m.from_bot for m in history] == [False, True, True]
    assert history[1].text == "订单状态：已接单"


async def test_deep_link_arguments_reach_the_bot(world):
    driver, _, seen = world
    u = await driver.user("张三")
    await u.send_command("start", "abc123")
    await u.expect_many(2)
    assert seen["start_args"] == "abc123"


async def test_press_unknown_button_lists_visible_ones(world):
    driver, _, _ = world
    u = await driver.user("李四")
    await u.send("/start")
    await u.expect_many(2)
    with pytest.raises(SimulatorError, match=r"\[接单\] \[拒绝\]"):
        await u.press("转派")


async def test_forged_callback_data_reaches_the_fallback(world):
    driver, _, seen = world
    u = await driver.user("李四")
    await u.send("/start")
    card, _ = await u.expect_many(2)
    await u.press_data(card, "forged:data")
    answer = await u.callback_answer()
    assert answer.show_alert and answer.text == "按钮已失效"
    assert seen["stale_data"] == "forged:data"


async def test_reply_keyboard_tap_and_removal(world):
    driver, _, _ = world
    u = await driver.user("赵大爷")
    with pytest.raises(SimulatorError, match="no reply keyboard"):
        await u.tap("看病义诊")
    await u.send("/start")
    await u.expect_many(2)
    await u.tap("看病义诊")
    reply = await u.expect(contains="看病义诊")
    assert reply.removes_keyboard
    assert await u.reply_keyboard() is None
    with pytest.raises(SimulatorError, match="法律咨询"):
        await u.tap("法律咨询")


async def test_photo_upload_download_and_echo(world):
    driver, _, seen = world
    u = await driver.user("王大妈")
    sent = await u.send_photo(TINY_JPEG, caption="门口的路灯坏了")
    echo = await u.expect(contains="收到照片")
    file_id, data = seen["photo"]
    assert data == TINY_JPEG
    assert sent.photo is not None and sent.photo.file_id == file_id
    assert (sent.photo.width, sent.photo.height) == (16, 16)
    assert echo.photo is not None and echo.photo.file_id == file_id
    assert await driver.download(echo.photo) == TINY_JPEG


async def test_contact_own_or_someone_elses(world):
    driver, _, _ = world
    u = await driver.user("王大妈")
    await u.send_contact("+8613800000000", own=True)
    assert (await u.expect()).text == "已记录您的手机号"
    await u.send_contact("+8613900000000", own=False)
    assert (await u.expect()).text == "这是别人的名片"


async def test_request_contact_button_shares_own_phone(world):
    driver, _, _ = world
    u = await driver.user("钱奶奶", phone_number="+8613711112222")
    await u.send("/start")
    await u.expect_many(2)
    shared = await u.tap("分享手机号")
    assert shared.contact == {
        "phone_number": "+8613711112222",
        "first_name": "钱奶奶",
        "user_id": u.id,
    }
    assert (await u.expect()).text == "已记录您的手机号"


async def test_location_and_voice(world):
    driver, _, seen = world
    u = await driver.user("孙叔")
    await u.send_location(38.8, 106.6)
    await u.expect(contains="收到位置")
    await u.send_voice(b"OggS fake voice", duration=3)
    await u.expect(contains="收到语音")
    assert seen["location"] == (38.8, 106.6)
    assert seen["voice"] == 3


async def test_expect_times_out_with_the_chat_tail(world):
    driver, _, _ = world
    u = await driver.user("周")
    await u.send("hello")
    with pytest.raises(ExpectationFailed, match="'hello'"):
        await u.expect(timeout=0.3)


async def test_blocked_user(world):
    driver, bot, seen = world
    u = await driver.user("吴")
    await u.block()
    await eventually(lambda: seen.get("membership") == ["kicked"])
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(u.id, "还在吗？")
    with pytest.raises(SimulatorError, match="unblock"):
        await u.send("hi")
    await u.unblock()
    await eventually(lambda: seen.get("membership") == ["kicked", "member"])
    await bot.send_message(u.id, "欢迎回来")
    assert (await u.expect()).text == "欢迎回来"


async def test_group_chat(world):
    driver, _, _ = world
    a, b = await driver.user("队长"), await driver.user("队员")
    group = await driver.group("卫生健康志愿服务队", [a, b])
    as_a, as_b = await group.member(a), await group.member(b)
    await as_a.send("/start")
    card, _ = await as_b.expect_many(2)
    assert card.chat_id == group.id and card.text == "你好，队长！有新订单："
    await as_b.press("接单")
    assert (await as_b.callback_answer()).text == "已接单"


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


async def test_get_updates_offset_semantics(sim, http):
    async with Driver(sim.base_url, TOKEN) as driver:
        u = await driver.user("王大妈")
        for text in ("一", "二", "三"):
            await u.send(text)
    _, body = await call(http, sim, "getUpdates")
    ids = [update["update_id"] for update in body["result"]]
    assert len(ids) == 3 and ids == sorted(ids)
    _, body = await call(http, sim, "getUpdates", limit=1)
    assert [x["update_id"] for x in body["result"]] == ids[:1]  # nothing acknowledged yet
    _, body = await call(http, sim, "getUpdates", offset=ids[1])
    assert [x["message"]["text"] for x in body["result"]] == ["二", "三"]
    _, body = await call(http, sim, "getUpdates")
    assert len(body["result"]) == 2  # the first one is gone for good
    _, body = await call(http, sim, "getUpdates", offset=-1)
    assert [x["update_id"] for x in body["result"]] == ids[2:]
    _, body = await call(http, sim, "getUpdates", offset=ids[2] + 1, timeout=0.2)
    assert body["result"] == []


async def test_second_poller_terminates_the_first(sim, http):
    first = asyncio.create_task(call(http, sim, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    status, body = await call(http, sim, "getUpdates", timeout=0)
    assert status == 200
    status, body = await asyncio.wait_for(first, 5)
    assert status == 409 and "terminated by other getUpdates request" in body["description"]


async def test_webhook_push_with_secret_and_retry(sim, http):
    received: list[tuple[str | None, dict[str, Any]]] = []
    attempts = []

    async def hook(request: web.Request) -> web.Response:
        attempts.append(1)
        if len(attempts) == 1:
            return web.Response(status=500)  # the simulator must retry
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        status, _ = await call(
            http, sim, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cr-et_"
        )
        assert status == 200
        status, body = await call(http, sim, "getUpdates")
        assert status == 409 and body["description"].startswith("Conflict: can't use getUpdates")
        async with Driver(sim.base_url, TOKEN) as driver:
            u = await driver.user("王大妈")
            await u.send("/start")
        await eventually(lambda: len(received) == 1)
        secret, update = received[0]
        assert secret == "s3cr-et_" and update["message"]["text"] == "/start"
        assert len(attempts) == 2
        _, info = await call(http, sim, "getWebhookInfo")
        assert info["result"]["url"].endswith("/hook")
        assert info["result"]["pending_update_count"] == 0
        assert "500" in info["result"]["last_error_message"]
        await call(http, sim, "deleteWebhook")
        status, body = await call(http, sim, "getUpdates")
        assert status == 200 and body["result"] == []
    finally:
        await runner.cleanup()


async def test_commands_and_settings(sim, http):
    commands = [
        {"command": "start", "description": "开始"},
        {"command": "help", "description": "帮助"},
    ]
    status, _ = await call(http, sim, "setMyCommands", commands=commands)
    assert status == 200
    _, body = await call(http, sim, "getMyCommands")
    assert body["result"] == commands
    status, body = await call(
        http, sim, "setMyCommands", commands=[{"command": "Bad!", "description": "x"}]
    )
    assert body["description"] == "Bad Request: BOT_COMMAND_INVALID"
    status, _ = await call(
        http, sim, "setChatMenuButton", menu_button=json.dumps({"type": "commands"})
    )
    assert status == 200
    await call(http, sim, "deleteMyCommands")
    _, body = await call(http, sim, "getMyCommands")
    assert body["result"] == []


async def test_web_page_escapes_persona_names(sim, http):
    sim.add_persona("<script>alert(1)</script>", label="庙庙湖村 居民")
    async with http.get(sim.base_url + "/") as resp:
        page = await resp.text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "庙庙湖村 居民" in page
    async with http.get(sim.base_url + "/static/webchat.js") as resp:
        assert resp.status == 200


async def test_bot_sends_media_albums_and_copies(world):
    driver, bot, _ = world
    u = await driver.user("王大妈")
    photo = await bot.send_photo(u.id, BufferedInputFile(TINY_JPEG, "a.jpg"), caption="现场")
    await bot.send_media_group(
        u.id,
        [
            InputMediaPhoto(media=BufferedInputFile(TINY_JPEG, "b.jpg"), caption="服务前"),
            InputMediaPhoto(media=photo.photo[-1].file_id, caption="服务后"),
        ],
    )
    await bot.send_document(u.id, BufferedInputFile(b"%PDF-1.4 report", "月报.pdf"))
    await bot.send_voice(u.id, BufferedInputFile(b"OggS voice", "v.ogg"), duration=2)
    await bot.send_location(u.id, 38.8, 106.6)
    await bot.copy_message(u.id, u.id, photo.message_id)
    got = await u.expect_many(7)
    assert [m.text for m in got[:3]] == ["现场", "服务前", "服务后"]
    assert got[1].raw["media_group_id"] == got[2].raw["media_group_id"]
    assert got[2].photo.file_id == photo.photo[-1].file_id
    assert got[3].document.file_name == "月报.pdf"
    assert got[3].document.mime_type == "application/pdf"
    assert await driver.download(got[3].document) == b"%PDF-1.4 report"
    assert got[4].voice.duration == 2
    assert got[5].location == (38.8, 106.6)
    assert got[6].photo.file_id == photo.photo[-1].file_id


async def test_one_time_keyboard_hides_after_a_tap(sim, http):
    async with Driver(sim.base_url, TOKEN) as driver:
        u = await driver.user("王大妈")
        keyboard = {"keyboard": [["是", "否"]], "one_time_keyboard": True}
        await call(http, sim, "sendMessage", chat_id=u.id, text="确认吗？", reply_markup=keyboard)
        assert await u.reply_keyboard() == [["是", "否"]]
        await u.tap("是")
        assert await u.reply_keyboard() is None


async def test_callback_answers_once_and_allowed_updates(sim, http):
    async with Driver(sim.base_url, TOKEN) as driver:
        u = await driver.user("王大妈")
        keyboard = {"inline_keyboard": [[{"text": "接单", "callback_data": "a"}]]}
        await call(http, sim, "sendMessage", chat_id=u.id, text="订单", reply_markup=keyboard)
        press = asyncio.create_task(u.press("接单"))
        _, body = await call(http, sim, "getUpdates", timeout=2)
        query_id = body["result"][0]["callback_query"]["id"]
        await press
        status, _ = await call(http, sim, "answerCallbackQuery", callback_query_id=query_id)
        assert status == 200
        status, body = await call(http, sim, "answerCallbackQuery", callback_query_id=query_id)
        assert status == 400 and "query is too old" in body["description"]

        # A bot that only asked for messages never sees the press.
        await call(http, sim, "getUpdates", allowed_updates=["message"], offset=-1)
        with pytest.raises(ExpectationFailed, match="does not receive callback_query"):
            await u.press("接单")


async def test_personas_are_created_and_updated_over_http(sim, http):
    url = f"{sim.base_url}/sim/api/users"
    body = {"first_name": "张队长", "label": "卫生健康志愿服务队 队长", "user_id": 5001}
    async with http.post(url, json=body) as resp:
        created = (await resp.json())["result"]
    assert created["id"] == 5001 and created["label"] == "卫生健康志愿服务队 队长"
    async with http.post(url, json={**body, "label": "办公室"}) as resp:
        assert (await resp.json())["result"]["label"] == "办公室"
    async with http.get(url) as resp:
        listed = (await resp.json())["result"]
    assert [(p["id"], p["label"]) for p in listed] == [(5001, "办公室")]
    async with http.post(url, json={"first_name": ""}) as resp:
        assert resp.status == 400
