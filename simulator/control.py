"""The control API under /sim/api: personas, chats and their event feeds, user actions.

The web chat and the Python test driver both use it, so whatever a test does a person can
do on the page, and the other way round. Responses use the Bot API's envelope:
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from simulator.appkeys import WORLD, error_response, ok
from simulator.botapi.commands import menu_commands
from simulator.errors import ApiError
from simulator.params import Params, Upload
from simulator.people import Actions
from simulator.state import BotState, StoredMessage, World
from simulator.wire import message_view

MAX_POLL_SECONDS = 30.0
MAX_NAME = 64
PERSONA_FIELDS = ("last_name", "username", "language_code", "label", "phone_number")

Endpoint = Callable[[web.Request], Awaitable[Any]]


def endpoint(handler: Endpoint) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Wrap a handler returning a result into the JSON envelope."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return ok(await handler(request))
        except ApiError as error:
            return error_response(error)

    return wrapped


def _world(request: web.Request) -> World:
    return request.app[WORLD]


def _int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None


def _bot(request: web.Request) -> BotState:
    world = _world(request)
    bot_id = _int(request, "bot_id")
    if bot_id not in world.bots:
        raise ApiError(404, f"no bot with id {bot_id}; it appears once it calls the API")
    return world.bots[bot_id]


def _chat_id(request: web.Request) -> int:
    chat_id = _int(request, "chat_id")
    if not _world(request).chat_exists(chat_id):
        raise ApiError(404, f"no persona or group with id {chat_id}")
    return chat_id


def _sender(request: web.Request, params: Params) -> int:
    """Who acts: `user_id`, or in a private chat the chat's own persona."""
    return params.integer("user_id") or _chat_id(request)


def _result(world: World, bot: BotState, msg: StoredMessage, update_id: int | None) -> Any:
    return {
        "message": message_view(world, bot, msg),
        "update_id": update_id,
        "accepted": update_id is not None,
    }


UserAction = Callable[[Actions, int, int, Params], tuple[StoredMessage, int | None]]


def user_action(act: UserAction) -> Endpoint:
    """An endpoint for something a person does in a chat: `act(actions, chat_id, sender,
    params)` does it; the answer is the message and the update the bot is sent."""

    async def handler(request: web.Request) -> Any:
        world, bot, chat_id = _world(request), _bot(request), _chat_id(request)
        p = await Params.from_request(request)
        msg, update_id = act(Actions(world, bot), chat_id, _sender(request, p), p)
        return _result(world, bot, msg, update_id)

    return handler


# Bots, personas, statistics -------------------------------------------------------------


@endpoint
async def list_bots(request: web.Request) -> Any:
    return [bot.as_dict() for bot in _world(request).bots.values()]


@endpoint
async def register_bot(request: web.Request) -> Any:
    p = await Params.from_request(request)
    token = p.string("token", required=True) or ""
    try:
        bot = _world(request).add_bot(token, p.string("username"), p.string("first_name"))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return bot.as_dict()


@endpoint
async def list_users(request: web.Request) -> Any:
    return [persona.as_dict() for persona in _world(request).personas.values()]


@endpoint
async def create_user(request: web.Request) -> Any:
    p = await Params.from_request(request)
    first_name = (p.string("first_name", required=True) or "").strip()
    if not first_name or len(first_name) > MAX_NAME:
        raise ApiError(400, f"first_name must have 1-{MAX_NAME} characters")
    persona = _world(request).add_persona(
        first_name,
        user_id=p.integer("user_id"),
        **{field: p.string(field) for field in PERSONA_FIELDS},
    )
    return persona.as_dict()


@endpoint
async def stats(request: web.Request) -> Any:
    world = _world(request)
    return {
        "violations": world.violations.as_dict(),
        "bots": len(world.bots),
        "users": len(world.personas),
    }


@endpoint
async def pending_updates(request: web.Request) -> Any:
    """How many updates the bot has not yet confirmed (polling: the next offset; webhook: a
    200). With `timeout`, answers as soon as there are none: every update is handled."""
    world, bot = _world(request), _bot(request)
    timeout = min(MAX_POLL_SECONDS, max(0.0, float(request.query.get("timeout", 0))))
    await bot.updates_signal.wait_until(lambda: not bot.updates or world.closing, timeout)
    return {"pending": len(bot.updates), "delivered_through": bot.delivered_through}


@endpoint
async def create_group(request: web.Request) -> Any:
    p = await Params.from_request(request)
    title = p.string("title", required=True) or ""
    members = [int(m) for m in p.json("member_ids") or []]
    return Actions(_world(request), _bot(request)).add_group(title, members).as_dict()


@endpoint
async def commands(request: web.Request) -> Any:
    return menu_commands(_bot(request), request.query.get("language_code"))


# Chats ---------------------------------------------------------------------------------


def _chat_state(world: World, bot: BotState, chat_id: int) -> dict[str, Any]:
    chat = bot.chat(chat_id)
    keyboard = chat.reply_keyboard
    return {
        "seq": chat.seq,
        "reply_keyboard": keyboard.to_dict() if keyboard is not None else None,
        "blocked": chat_id in bot.blocked_by,
    }


@endpoint
async def chat_history(request: web.Request) -> Any:
    world, bot, chat_id = _world(request), _bot(request), _chat_id(request)
    messages = [message_view(world, bot, m) for m in bot.chat(chat_id).visible()]
    return {**_chat_state(world, bot, chat_id), "messages": messages}


@endpoint
async def chat_events(request: web.Request) -> Any:
    """Events after `after`; waits up to `timeout` seconds for the first one."""
    world, bot, chat_id = _world(request), _bot(request), _chat_id(request)
    p = Params(dict(request.query), {})
    after = p.integer("after") or 0
    timeout = min(MAX_POLL_SECONDS, max(0.0, p.number("timeout") or 0.0))
    chat = bot.chat(chat_id)
    # `!=` rather than `>`: a client ahead of the chat (the simulator restarted) gets the
    # current seq back at once instead of waiting for events that will never come.
    await chat.signal.wait_until(lambda: chat.seq != after or world.closing, timeout)
    return {**_chat_state(world, bot, chat_id), "events": chat.events_after(after)}


@endpoint
@user_action
def send_text(
    do: Actions, chat_id: int, sender: int, p: Params
) -> tuple[StoredMessage, int | None]:
    return do.text(chat_id, sender, p.string("text", required=True) or "")


@endpoint
@user_action
def send_contact(
    do: Actions, chat_id: int, sender: int, p: Params
) -> tuple[StoredMessage, int | None]:
    return do.contact(
        chat_id,
        sender,
        own=p.flag("own") if p.has("own") else True,
        phone_number=p.string("phone_number"),
        contact_user_id=p.integer("contact_user_id"),
        first_name=p.string("first_name"),
    )


@endpoint
@user_action
def send_location(
    do: Actions, chat_id: int, sender: int, p: Params
) -> tuple[StoredMessage, int | None]:
    latitude = p.number("latitude", required=True) or 0.0
    return do.location(chat_id, sender, latitude, p.number("longitude", required=True) or 0.0)


def _required_upload(params: Params, name: str) -> Upload:
    upload = params.upload(name)
    if not isinstance(upload, Upload) or not upload.data:
        raise ApiError(400, f"attach the file as multipart field {name!r}")
    return upload


@endpoint
@user_action
def send_photo(
    do: Actions, chat_id: int, sender: int, p: Params
) -> tuple[StoredMessage, int | None]:
    return do.photo(chat_id, sender, _required_upload(p, "photo"), p.string("caption"))


@endpoint
@user_action
def send_voice(
    do: Actions, chat_id: int, sender: int, p: Params
) -> tuple[StoredMessage, int | None]:
    return do.voice(chat_id, sender, _required_upload(p, "voice"), p.integer("duration") or 1)


@endpoint
@user_action
def tap(do: Actions, chat_id: int, sender: int, p: Params) -> tuple[StoredMessage, int | None]:
    text = p.string("text", required=True) or ""
    latitude, longitude = p.number("latitude"), p.number("longitude")
    where = (latitude, longitude) if latitude is not None and longitude is not None else None
    return do.tap(chat_id, sender, text, where)


@endpoint
async def press(request: web.Request) -> Any:
    """Press an inline button; with `wait`, return once the bot has received the query."""
    world, bot, chat_id = _world(request), _bot(request), _chat_id(request)
    p = await Params.from_request(request)
    record, update_id = Actions(world, bot).press(
        chat_id,
        _sender(request, p),
        text=p.string("text"),
        message_id=p.integer("message_id"),
        data=p.string("callback_data"),
    )
    wait = min(MAX_POLL_SECONDS, max(0.0, p.number("wait") or 0.0))
    delivered = False
    if update_id is not None:
        delivered = await bot.updates_signal.wait_until(
            lambda: bot.delivered_through >= update_id or world.closing, wait
        )
    return {
        "callback_query_id": record.query_id,
        "message_id": record.message_id,
        "update_id": update_id,
        "accepted": update_id is not None,
        "delivered": delivered and not world.closing,
    }


@endpoint
async def callback_answer(request: web.Request) -> Any:
    world, bot = _world(request), _bot(request)
    record = bot.callbacks.get(request.match_info["query_id"])
    if record is None:
        raise ApiError(404, "no such callback query")
    timeout = min(MAX_POLL_SECONDS, max(0.0, float(request.query.get("timeout", 0))))
    chat = bot.chat(record.chat_id)
    await chat.signal.wait_until(lambda: record.answer is not None or world.closing, timeout)
    return {"answered": record.answer is not None, "answer": record.answer}


async def _set_blocked(request: web.Request, blocked: bool) -> Any:
    world, bot = _world(request), _bot(request)
    update_id = Actions(world, bot).set_blocked(_int(request, "user_id"), blocked)
    return {"blocked": blocked, "update_id": update_id}


@endpoint
async def block(request: web.Request) -> Any:
    return await _set_blocked(request, True)


@endpoint
async def unblock(request: web.Request) -> Any:
    return await _set_blocked(request, False)


async def download(request: web.Request) -> web.StreamResponse:
    """File bytes for the web page (no token needed: the page is a local dev tool)."""
    stored = _world(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    return web.Response(body=stored.data, content_type=stored.mime_type)


def add_routes(app: web.Application) -> None:
    chat = "/sim/api/bots/{bot_id}/chats/{chat_id}"
    app.router.add_get("/sim/api/bots", list_bots)
    app.router.add_post("/sim/api/bots", register_bot)
    app.router.add_get("/sim/api/users", list_users)
    app.router.add_post("/sim/api/users", create_user)
    app.router.add_get("/sim/api/stats", stats)
    app.router.add_get("/sim/api/bots/{bot_id}/updates", pending_updates)
    app.router.add_post("/sim/api/bots/{bot_id}/groups", create_group)
    app.router.add_get("/sim/api/bots/{bot_id}/commands", commands)
    app.router.add_get(chat, chat_history)
    app.router.add_get(f"{chat}/events", chat_events)
    app.router.add_post(f"{chat}/text", send_text)
    app.router.add_post(f"{chat}/contact", send_contact)
    app.router.add_post(f"{chat}/location", send_location)
    app.router.add_post(f"{chat}/photo", send_photo)
    app.router.add_post(f"{chat}/voice", send_voice)
    app.router.add_post(f"{chat}/tap", tap)
    app.router.add_post(f"{chat}/press", press)
    app.router.add_get("/sim/api/bots/{bot_id}/callbacks/{query_id}", callback_answer)
    app.router.add_post("/sim/api/bots/{bot_id}/users/{user_id}/block", block)
    app.router.add_post("/sim/api/bots/{bot_id}/users/{user_id}/unblock", unblock)
    app.router.add_get("/sim/files/{file_id}", download)
