"""The Bot API methods the product uses, with Telegram's validation and error texts."""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    BotCommand,
    Document,
    File,
    InlineKeyboardMarkup,
    Location,
    MessageEntity,
    MessageId,
    MessageOriginUser,
    PhotoSize,
    Voice,
    WebhookInfo,
)

from simulator.entities import parse_formatted
from simulator.errors import ApiError
from simulator.media import StoredFile, guess_mime, image_size
from simulator.params import Params, Upload
from simulator.state import (
    BotState,
    ChatLog,
    Markup,
    StoredMessage,
    WebhookConfig,
    World,
    utc_now,
)
from simulator.webhook import WebhookManager
from simulator.wire import bot_user, message_dict, message_view, parse_markup, persona_user

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_ALERT = 200
CALLBACK_QUERY_TTL = 15.0  # seconds; later answers get "query is too old"
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@dataclass
class Call:
    """One Bot API request: who is calling, with what, and where the world lives."""

    world: World
    bot: BotState
    params: Params
    webhooks: WebhookManager

    def record(self, chat: ChatLog, kind: str, msg: StoredMessage) -> None:
        chat.record(kind, view=message_view(self.world, self.bot, msg))

    def wire(self, msg: StoredMessage) -> dict[str, Any]:
        return message_dict(self.world, self.bot, msg)


Handler = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler; Telegram method names are case-insensitive."""

    def register(handler: Handler) -> Handler:
        for name in names:
            METHODS[name.lower()] = handler
        return handler

    return register


# Shared checks -------------------------------------------------------------------------


def _formatted(
    call: Call, field: str, entities_field: str, limit: int, *, required: bool
) -> tuple[str | None, list[MessageEntity]]:
    """Text or caption after entity parsing, checked against Telegram's length limits."""
    p = call.params
    raw = p.string(field)
    if raw is None:
        if required:
            raise ApiError.bad_request("message text is empty")
        return None, []
    text, entities = parse_formatted(raw, p.string("parse_mode"))
    explicit = p.json(entities_field)
    if explicit:
        entities = [MessageEntity.de_json(e) for e in explicit]
    if required and not text.strip():
        raise ApiError.bad_request("message text is empty")
    if len(text) > limit:
        what = "message is too long" if field == "text" else "message caption is too long"
        raise ApiError.bad_request(what)
    return text, entities


def _text(call: Call) -> tuple[str, list[MessageEntity]]:
    text, entities = _formatted(call, "text", "entities", MAX_TEXT, required=True)
    return text or "", entities


def _caption(call: Call) -> tuple[str | None, list[MessageEntity]]:
    return _formatted(call, "caption", "caption_entities", MAX_CAPTION, required=False)


def _chat_id(call: Call, field: str = "chat_id") -> int:
    raw = call.params.string(field, required=True) or ""
    try:
        chat_id = int(raw)
    except ValueError:
        raise ApiError.bad_request("chat not found") from None
    if not call.world.chat_exists(chat_id):
        raise ApiError.bad_request("chat not found")
    if chat_id in call.bot.blocked_by:
        raise ApiError.forbidden("bot was blocked by the user")
    return chat_id


def _take_slots(call: Call, chat_id: int, count: int = 1) -> None:
    retry_after = call.bot.limiter.acquire(chat_id, call.world.is_group(chat_id), count)
    if retry_after is not None:
        call.world.violations.record(chat_id)
        raise ApiError.too_many_requests(retry_after)


def _reply_to(call: Call, chat: ChatLog) -> int | None:
    p = call.params
    reply = p.json("reply_parameters") or {}
    message_id = reply.get("message_id") or p.integer("reply_to_message_id")
    if message_id is None:
        return None
    original = chat.messages.get(int(message_id))
    if original is None or original.deleted:
        if reply.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply"):
            return None
        raise ApiError.bad_request("message to be replied not found")
    return original.message_id


def _post(call: Call, chat_id: int, **content: Any) -> StoredMessage:
    chat = call.bot.chat(chat_id)
    msg = StoredMessage(
        message_id=chat.next_message_id(),
        chat_id=chat_id,
        sender_id=call.bot.id,
        from_bot=True,
        date=utc_now(),
        reply_to_message_id=_reply_to(call, chat),
        **content,
    )
    chat.add(msg)
    call.record(chat, "message", msg)
    return msg


def _stored_file(call: Call, ref: Upload | str | None, kind: str) -> StoredFile:
    if ref is None:
        raise ApiError.bad_request(f"there is no {kind} in the request")
    if isinstance(ref, Upload):
        content_type = ref.content_type
        if content_type in (None, "application/octet-stream"):
            content_type = guess_mime(ref.data)
        return call.world.files.add(ref.data, kind, content_type, ref.filename)
    stored = call.world.files.get(ref)
    if stored is None:
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
    return stored


def photo_sizes(stored: StoredFile) -> list[PhotoSize]:
    width, height = image_size(stored.data)
    return [PhotoSize(stored.file_id, stored.file_unique_id, width, height, stored.size)]


def document_of(stored: StoredFile) -> Document:
    return Document(
        stored.file_id,
        stored.file_unique_id,
        file_name=stored.file_name,
        mime_type=stored.mime_type,
        file_size=stored.size,
    )


def voice_of(stored: StoredFile, duration: int) -> Voice:
    return Voice(
        stored.file_id,
        stored.file_unique_id,
        duration,
        mime_type="audio/ogg",
        file_size=stored.size,
    )


def _markup(call: Call) -> Markup | None:
    return parse_markup(call.params.json("reply_markup"))


# Identity and updates ------------------------------------------------------------------


@method("getMe")
async def get_me(call: Call) -> Any:
    return bot_user(call.bot).to_dict()


def _refuse_while_webhook(bot: BotState) -> None:
    if bot.webhook is not None:
        raise ApiError.conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to "
            "delete the webhook first"
        )


def _set_allowed_updates(bot: BotState, value: Any) -> None:
    if value is not None:
        # An empty list means "back to the default set", as in Telegram.
        bot.allowed_updates = frozenset(value) if value else None


@method("getUpdates")
async def get_updates(call: Call) -> Any:
    bot, p = call.bot, call.params
    _refuse_while_webhook(bot)
    _set_allowed_updates(bot, p.json("allowed_updates"))
    offset = p.integer("offset")
    if offset is not None:
        bot.acknowledge(offset)
    limit = min(100, max(1, p.integer("limit") or 100))
    timeout = max(0.0, p.number("timeout") or 0.0)
    # Only one poller at a time: a newer getUpdates terminates the one still waiting.
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.updates_signal.notify()
    await bot.updates_signal.wait_until(
        lambda: (
            bool(bot.updates)
            or bot.poll_generation != generation
            or bot.webhook is not None
            or call.world.closing
        ),
        timeout,
    )
    if bot.poll_generation != generation:
        raise ApiError.conflict(
            "terminated by other getUpdates request; make sure that only one bot instance "
            "is running"
        )
    _refuse_while_webhook(bot)
    batch = bot.updates[:limit]
    if batch:
        bot.mark_delivered(batch[-1].update_id)
    return [u.payload for u in batch]


@method("setWebhook")
async def set_webhook(call: Call) -> Any:
    bot, p = call.bot, call.params
    url = p.string("url")
    if not url:
        return await delete_webhook(call)
    if not url.startswith(("https://", "http://")):
        raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.string("secret_token")
    if secret is not None and not _SECRET_RE.match(secret):
        raise ApiError.bad_request("secret token contains unallowed characters")
    if p.flag("drop_pending_updates"):
        bot.updates.clear()
    _set_allowed_updates(bot, p.json("allowed_updates"))
    bot.webhook = WebhookConfig(url, secret, p.integer("max_connections") or 40)
    await call.webhooks.activate(bot)
    bot.updates_signal.notify()  # a waiting getUpdates now ends with a conflict
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> Any:
    bot = call.bot
    bot.webhook = None
    await call.webhooks.deactivate(bot.id)
    if call.params.flag("drop_pending_updates"):
        bot.updates.clear()
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> Any:
    bot, hook = call.bot, call.bot.webhook
    allowed = sorted(bot.allowed_updates) if bot.allowed_updates else None
    return WebhookInfo(
        url=hook.url if hook else "",
        has_custom_certificate=False,
        pending_update_count=len(bot.updates),
        last_error_date=hook.last_error_date if hook else None,
        last_error_message=hook.last_error_message if hook else None,
        max_connections=hook.max_connections if hook else None,
        allowed_updates=allowed,
    ).to_dict()


# Sending -------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(call: Call) -> Any:
    text, entities = _text(call)
    markup = _markup(call)
    chat_id = _chat_id(call)
    _take_slots(call, chat_id)
    return call.wire(_post(call, chat_id, text=text, entities=entities, reply_markup=markup))


@method("sendPhoto")
async def send_photo(call: Call) -> Any:
    caption, entities = _caption(call)
    markup = _markup(call)
    chat_id = _chat_id(call)
    stored = _stored_file(call, call.params.upload("photo"), "photo")
    _take_slots(call, chat_id)
    msg = _post(
        call,
        chat_id,
        photo=photo_sizes(stored),
        caption=caption,
        entities=entities,
        reply_markup=markup,
    )
    return call.wire(msg)


@method("sendDocument")
async def send_document(call: Call) -> Any:
    caption, entities = _caption(call)
    markup = _markup(call)
    chat_id = _chat_id(call)
    stored = _stored_file(call, call.params.upload("document"), "document")
    _take_slots(call, chat_id)
    msg = _post(
        call,
        chat_id,
        document=document_of(stored),
        caption=caption,
        entities=entities,
        reply_markup=markup,
    )
    return call.wire(msg)


@method("sendVoice")
async def send_voice(call: Call) -> Any:
    caption, entities = _caption(call)
    markup = _markup(call)
    chat_id = _chat_id(call)
    stored = _stored_file(call, call.params.upload("voice"), "voice")
    duration = call.params.integer("duration") or 0
    _take_slots(call, chat_id)
    msg = _post(
        call,
        chat_id,
        voice=voice_of(stored, duration),
        caption=caption,
        entities=entities,
        reply_markup=markup,
    )
    return call.wire(msg)


@method("sendLocation")
async def send_location(call: Call) -> Any:
    p = call.params
    latitude = p.number("latitude", required=True) or 0.0
    longitude = p.number("longitude", required=True) or 0.0
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ApiError.bad_request("wrong coordinates specified")
    markup = _markup(call)
    chat_id = _chat_id(call)
    _take_slots(call, chat_id)
    msg = _post(call, chat_id, location=Location(longitude, latitude), reply_markup=markup)
    return call.wire(msg)


def _album_item(call: Call, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
        raise ApiError.bad_request("unsupported media type in the album (photo or document)")
    kind = item["type"]
    stored = _stored_file(call, call.params.reference(item.get("media")), kind)
    caption, parse_mode = item.get("caption"), item.get("parse_mode")
    text, entities = parse_formatted(caption, parse_mode) if caption else (None, [])
    if text is not None and len(text) > MAX_CAPTION:
        raise ApiError.bad_request("message caption is too long")
    media = {"photo": photo_sizes(stored)} if kind == "photo" else {"document": document_of(stored)}
    return {**media, "caption": text, "entities": entities}


@method("sendMediaGroup")
async def send_media_group(call: Call) -> Any:
    media = call.params.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise ApiError.bad_request("wrong number of media in the album: 2-10 expected")
    chat_id = _chat_id(call)
    items = [_album_item(call, item) for item in media]
    _take_slots(call, chat_id, count=len(items))
    group_id = secrets.token_hex(8)
    return [call.wire(_post(call, chat_id, media_group_id=group_id, **item)) for item in items]


@method("sendChatAction")
async def send_chat_action(call: Call) -> Any:
    # Not a message: Telegram does not count chat actions against the flood limits.
    action = call.params.string("action", required=True)
    chat_id = _chat_id(call)
    call.bot.chat(chat_id).record("chat_action", action=action)
    return True


def _source_message(call: Call) -> StoredMessage:
    source_chat = call.params.integer("from_chat_id", required=True) or 0
    message_id = call.params.integer("message_id", required=True) or 0
    chat = call.bot.chats.get(source_chat)
    msg = chat.messages.get(message_id) if chat is not None else None
    if msg is None or msg.deleted:
        raise ApiError.bad_request("message to copy not found")
    return msg


def _repost(call: Call, source: StoredMessage, chat_id: int, **changes: Any) -> StoredMessage:
    chat = call.bot.chat(chat_id)
    copy = dataclasses.replace(
        source,
        message_id=chat.next_message_id(),
        chat_id=chat_id,
        sender_id=call.bot.id,
        from_bot=True,
        date=utc_now(),
        reply_to_message_id=None,
        edit_date=None,
        **changes,
    )
    chat.add(copy)
    call.record(chat, "message", copy)
    return copy


@method("copyMessage")
async def copy_message(call: Call) -> Any:
    source = _source_message(call)
    markup = _markup(call)
    chat_id = _chat_id(call)
    _take_slots(call, chat_id)
    copy = _repost(call, source, chat_id, reply_markup=markup, forward_origin=None)
    return MessageId(copy.message_id).to_dict()


@method("forwardMessage")
async def forward_message(call: Call) -> Any:
    source = _source_message(call)
    chat_id = _chat_id(call)
    _take_slots(call, chat_id)
    if source.from_bot:
        sender = bot_user(call.bot)
    else:
        sender = persona_user(call.world.persona(source.sender_id))
    origin = MessageOriginUser(source.date, sender)
    forwarded = _repost(call, source, chat_id, reply_markup=None, forward_origin=origin)
    return call.wire(forwarded)


# Editing -------------------------------------------------------------------------------


def _editable(call: Call) -> tuple[ChatLog, StoredMessage]:
    if call.params.has("inline_message_id"):
        raise ApiError.bad_request("MESSAGE_ID_INVALID")
    chat_id = _chat_id(call)
    message_id = call.params.integer("message_id", required=True) or 0
    chat = call.bot.chat(chat_id)
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ApiError.bad_request("message to edit not found")
    if not msg.from_bot:
        raise ApiError.bad_request("message can't be edited")
    return chat, msg


def _inline_markup(call: Call) -> InlineKeyboardMarkup | None:
    markup = _markup(call)
    if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
        raise ApiError.bad_request("inline keyboard expected")
    return markup


def _snapshot(msg: StoredMessage) -> tuple[Any, ...]:
    markup = msg.inline_markup
    return (
        msg.text,
        msg.caption,
        [e.to_dict() for e in msg.entities],
        markup.to_dict() if markup else None,
    )


def _apply_edit(call: Call, chat: ChatLog, msg: StoredMessage, **changes: Any) -> Any:
    before = _snapshot(msg)
    candidate = dataclasses.replace(msg, **changes)
    if _snapshot(candidate) == before:
        raise ApiError.bad_request(_NOT_MODIFIED)
    for key, value in changes.items():
        setattr(msg, key, value)
    msg.edit_date = utc_now()
    call.record(chat, "edit", msg)
    return call.wire(msg)


@method("editMessageText")
async def edit_message_text(call: Call) -> Any:
    chat, msg = _editable(call)
    text, entities = _text(call)
    markup = _inline_markup(call)
    if msg.text is None:
        raise ApiError.bad_request("there is no text in the message to edit")
    return _apply_edit(call, chat, msg, text=text, entities=entities, reply_markup=markup)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> Any:
    chat, msg = _editable(call)
    caption, entities = _caption(call)
    markup = _inline_markup(call)
    if msg.text is not None:
        raise ApiError.bad_request("there is no caption in the message to edit")
    return _apply_edit(call, chat, msg, caption=caption, entities=entities, reply_markup=markup)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> Any:
    chat, msg = _editable(call)
    return _apply_edit(call, chat, msg, reply_markup=_inline_markup(call))


@method("deleteMessage")
async def delete_message(call: Call) -> Any:
    chat_id = _chat_id(call)
    message_id = call.params.integer("message_id", required=True) or 0
    chat = call.bot.chat(chat_id)
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ApiError.bad_request("message to delete not found")
    msg.deleted = True
    chat.record("delete", message_id=message_id)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> Any:
    p = call.params
    query_id = p.string("callback_query_id", required=True) or ""
    record = call.bot.callbacks.get(query_id)
    expired = record is None or time.monotonic() - record.created > CALLBACK_QUERY_TTL
    if record is None or expired or record.answer is not None:
        raise ApiError.bad_request(
            "query is too old and response timeout expired or query ID is invalid"
        )
    text = p.string("text")
    if text is not None and len(text) > MAX_ALERT:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    record.answer = {"text": text, "show_alert": p.flag("show_alert"), "url": p.string("url")}
    call.bot.chat(record.chat_id).record(
        "callback_answer",
        callback_query_id=query_id,
        message_id=record.message_id,
        answer=record.answer,
    )
    return True


# Files ---------------------------------------------------------------------------------


@method("getFile")
async def get_file(call: Call) -> Any:
    file_id = call.params.string("file_id", required=True) or ""
    stored = call.world.files.get(file_id)
    if stored is None:
        raise ApiError.bad_request("invalid file_id")
    return File(stored.file_id, stored.file_unique_id, stored.size, stored.file_path).to_dict()


# Commands and settings -----------------------------------------------------------------


def _commands_key(call: Call) -> str:
    return commands_key(call.params.json("scope"), call.params.string("language_code"))


def commands_key(scope: dict[str, Any] | None, language_code: str | None) -> str:
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


def menu_commands(bot: BotState, language_code: str | None) -> list[dict[str, Any]]:
    """The command menu a private chat shows: the user's language first, then the default."""
    for language in ((language_code or "")[:2], ""):
        found = bot.commands.get(commands_key(None, language))
        if found:
            return found
    return []


@method("setMyCommands")
async def set_my_commands(call: Call) -> Any:
    commands = call.params.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError.bad_request("commands must be a list of at most 100 BotCommand")
    parsed = [BotCommand.de_json(c) for c in commands]
    for command in parsed:
        if not _COMMAND_RE.match(command.command):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command.description) <= 256:
            raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    call.bot.commands[_commands_key(call)] = [c.to_dict() for c in parsed]
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> Any:
    return call.bot.commands.get(_commands_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> Any:
    call.bot.commands.pop(_commands_key(call), None)
    return True


@method(
    "setChatMenuButton",
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setMyDefaultAdministratorRights",
)
async def accept_setting(call: Call) -> Any:
    # Settings that only change how Telegram's own apps decorate the bot.
    return True
