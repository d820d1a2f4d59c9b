"""Sending: messages, photos, documents, voice, locations, albums, chat actions, copies and
forwards; and getFile for what was sent."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any

from telegram import File, Location, MessageId, MessageOriginUser

from simulator.botapi.call import (
    MAX_CAPTION,
    Call,
    chat_id_of,
    document_of,
    message_caption,
    message_text,
    method,
    photo_sizes,
    post,
    reply_markup,
    stored_file,
    take_slots,
    voice_of,
)
from simulator.entities import parse_formatted
from simulator.errors import ApiError
from simulator.media import StoredFile
from simulator.state import StoredMessage, utc_now
from simulator.wire import bot_user, persona_user


@method("sendMessage")
async def send_message(call: Call) -> Any:
    text, entities = message_text(call)
    markup = reply_markup(call)
    chat_id = chat_id_of(call)
    take_slots(call, chat_id)
    return call.wire(post(call, chat_id, text=text, entities=entities, reply_markup=markup))


def _send_file(call: Call, kind: str, content: Callable[[StoredFile], dict[str, Any]]) -> Any:
    """sendPhoto, sendDocument and sendVoice: a stored or uploaded file under its caption."""
    caption, entities = message_caption(call)
    markup = reply_markup(call)
    chat_id = chat_id_of(call)
    media = content(stored_file(call, call.params.upload(kind), kind))
    take_slots(call, chat_id)
    msg = post(call, chat_id, caption=caption, entities=entities, reply_markup=markup, **media)
    return call.wire(msg)


@method("sendPhoto")
async def send_photo(call: Call) -> Any:
    return _send_file(call, "photo", lambda stored: {"photo": photo_sizes(stored)})


@method("sendDocument")
async def send_document(call: Call) -> Any:
    return _send_file(call, "document", lambda stored: {"document": document_of(stored)})


@method("sendVoice")
async def send_voice(call: Call) -> Any:
    def voice(stored: StoredFile) -> dict[str, Any]:
        return {"voice": voice_of(stored, call.params.integer("duration") or 0)}

    return _send_file(call, "voice", voice)


@method("sendLocation")
async def send_location(call: Call) -> Any:
    p = call.params
    latitude = p.number("latitude", required=True) or 0.0
    longitude = p.number("longitude", required=True) or 0.0
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ApiError.bad_request("wrong coordinates specified")
    markup = reply_markup(call)
    chat_id = chat_id_of(call)
    take_slots(call, chat_id)
    msg = post(call, chat_id, location=Location(longitude, latitude), reply_markup=markup)
    return call.wire(msg)


def _album_item(call: Call, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
        raise ApiError.bad_request("unsupported media type in the album (photo or document)")
    kind = item["type"]
    stored = stored_file(call, call.params.reference(item.get("media")), kind)
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
    chat_id = chat_id_of(call)
    items = [_album_item(call, item) for item in media]
    take_slots(call, chat_id, count=len(items))
    group_id = secrets.token_hex(8)
    return [call.wire(post(call, chat_id, media_group_id=group_id, **item)) for item in items]


@method("sendChatAction")
async def send_chat_action(call: Call) -> Any:
    # Not a message: Telegram does not count chat actions against the flood limits.
    action = call.params.string("action", required=True)
    chat_id = chat_id_of(call)
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
    markup = reply_markup(call)
    chat_id = chat_id_of(call)
    take_slots(call, chat_id)
    copy = _repost(call, source, chat_id, reply_markup=markup, forward_origin=None)
    return MessageId(copy.message_id).to_dict()


@method("forwardMessage")
async def forward_message(call: Call) -> Any:
    source = _source_message(call)
    chat_id = chat_id_of(call)
    take_slots(call, chat_id)
    if source.from_bot:
        sender = bot_user(call.bot)
    else:
        sender = persona_user(call.world.persona(source.sender_id))
    origin = MessageOriginUser(source.date, sender)
    forwarded = _repost(call, source, chat_id, reply_markup=None, forward_origin=origin)
    return call.wire(forwarded)


# Editing -------------------------------------------------------------------------------


# Files ---------------------------------------------------------------------------------


@method("getFile")
async def get_file(call: Call) -> Any:
    file_id = call.params.string("file_id", required=True) or ""
    stored = call.world.files.get(file_id)
    if stored is None:
        raise ApiError.bad_request("invalid file_id")
    return File(stored.file_id, stored.file_unique_id, stored.size, stored.file_path).to_dict()


# Commands and settings -----------------------------------------------------------------
