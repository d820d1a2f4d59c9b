"""What every Bot API method shares: the call, the method registry, and Telegram's checks of
chats, texts, captions, files and flood limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import (
    Document,
    MessageEntity,
    PhotoSize,
    Voice,
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
    World,
    utc_now,
)
from simulator.webhook import WebhookManager
from simulator.wire import message_dict, message_view, parse_markup

MAX_TEXT = 4096
MAX_CAPTION = 1024


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


def message_text(call: Call) -> tuple[str, list[MessageEntity]]:
    text, entities = _formatted(call, "text", "entities", MAX_TEXT, required=True)
    return text or "", entities


def message_caption(call: Call) -> tuple[str | None, list[MessageEntity]]:
    return _formatted(call, "caption", "caption_entities", MAX_CAPTION, required=False)


def chat_id_of(call: Call, field: str = "chat_id") -> int:
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


def take_slots(call: Call, chat_id: int, count: int = 1) -> None:
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


def post(call: Call, chat_id: int, **content: Any) -> StoredMessage:
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


def stored_file(call: Call, ref: Upload | str | None, kind: str) -> StoredFile:
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


def reply_markup(call: Call) -> Markup | None:
    return parse_markup(call.params.json("reply_markup"))
