"""Editing and deleting the bot's messages, and answering callback queries."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from telegram import InlineKeyboardMarkup

from simulator.botapi.call import (
    Call,
    chat_id_of,
    message_caption,
    message_text,
    method,
    reply_markup,
)
from simulator.errors import ApiError
from simulator.state import ChatLog, StoredMessage, utc_now

MAX_ALERT = 200
CALLBACK_QUERY_TTL = 15.0  # seconds; later answers get "query is too old"
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _message(call: Call, missing: str) -> tuple[ChatLog, StoredMessage]:
    """The chat and the message `chat_id` and `message_id` name; `missing` if it is gone."""
    chat_id = chat_id_of(call)
    message_id = call.params.integer("message_id", required=True) or 0
    chat = call.bot.chat(chat_id)
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ApiError.bad_request(missing)
    return chat, msg


def _editable(call: Call) -> tuple[ChatLog, StoredMessage]:
    if call.params.has("inline_message_id"):
        raise ApiError.bad_request("MESSAGE_ID_INVALID")
    chat, msg = _message(call, "message to edit not found")
    if not msg.from_bot:
        raise ApiError.bad_request("message can't be edited")
    return chat, msg


def _inline_markup(call: Call) -> InlineKeyboardMarkup | None:
    markup = reply_markup(call)
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
    text, entities = message_text(call)
    markup = _inline_markup(call)
    if msg.text is None:
        raise ApiError.bad_request("there is no text in the message to edit")
    return _apply_edit(call, chat, msg, text=text, entities=entities, reply_markup=markup)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> Any:
    chat, msg = _editable(call)
    caption, entities = message_caption(call)
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
    chat, msg = _message(call, "message to delete not found")
    msg.deleted = True
    chat.record("delete", message_id=msg.message_id)
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
