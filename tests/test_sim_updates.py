"""The Bot API simulator's updates and settings: getUpdates offsets, one poller at a time,
webhook pushes, commands, its web page, keyboards that hide, callbacks and personas."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from simulator.driver import Driver, ExpectationFailed
from tests.tiny_bot import TOKEN, call, eventually


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
