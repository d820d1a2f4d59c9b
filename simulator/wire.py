"""Wire objects built with python-telegram-bot, and the bot's reply markup parsed with it.

Building the JSON with an implementation other than aiogram means the bot under test parses
what a second, independent reading of the Bot API spec produces.
"""

from __future__ import annotations

import json
from typing import Any

from telegram import (
    Chat,
    ForceReply,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    User,
)

from simulator.errors import ApiError
from simulator.state import BotState, Markup, Persona, StoredMessage, World

MAX_CALLBACK_DATA_BYTES = 64


def bot_user(bot: BotState) -> User:
    return User(
        id=bot.id,
        first_name=bot.first_name,
        is_bot=True,
        username=bot.username,
        can_join_groups=True,
        can_read_all_group_messages=False,
        supports_inline_queries=False,
    )


def persona_user(persona: Persona) -> User:
    return User(
        id=persona.id,
        first_name=persona.first_name,
        is_bot=False,
        last_name=persona.last_name,
        username=persona.username,
        language_code=persona.language_code,
    )


def chat_object(world: World, chat_id: int) -> Chat:
    if world.is_group(chat_id):
        return Chat(id=chat_id, type=Chat.GROUP, title=world.groups[chat_id].title)
    persona = world.persona(chat_id)
    return Chat(
        id=chat_id,
        type=Chat.PRIVATE,
        first_name=persona.first_name,
        last_name=persona.last_name,
        username=persona.username,
    )


# The fields a stored message keeps under the Bot API's own names.
_MESSAGE_FIELDS = (
    "message_id",
    "date",
    "text",
    "caption",
    "photo",
    "document",
    "voice",
    "location",
    "contact",
    "media_group_id",
    "forward_origin",
    "edit_date",
)


def message_object(world: World, bot: BotState, msg: StoredMessage, nested: bool = True) -> Message:
    """The Telegram Message for a stored message (Telegram echoes only inline markup)."""
    sender = bot_user(bot) if msg.from_bot else persona_user(world.persona(msg.sender_id))
    entities = msg.entities or None
    reply_to = None
    if nested and msg.reply_to_message_id:
        original = bot.chat(msg.chat_id).messages.get(msg.reply_to_message_id)
        if original is not None:
            reply_to = message_object(world, bot, original, nested=False)
    return Message(
        chat=chat_object(world, msg.chat_id),
        from_user=sender,
        entities=entities if msg.text is not None else None,
        caption_entities=entities if msg.caption is not None else None,
        reply_markup=msg.inline_markup,
        reply_to_message=reply_to,
        **{field: getattr(msg, field) for field in _MESSAGE_FIELDS},
    )


def message_dict(world: World, bot: BotState, msg: StoredMessage) -> dict[str, Any]:
    return message_object(world, bot, msg).to_dict()


def message_view(world: World, bot: BotState, msg: StoredMessage) -> dict[str, Any]:
    """What the web page and the driver see: the wire message plus what a client shows."""
    markup = msg.reply_markup
    sender = None if msg.from_bot else world.persona(msg.sender_id)
    return {
        "message_id": msg.message_id,
        "chat_id": msg.chat_id,
        "outgoing": msg.from_bot,
        "sender": bot.first_name if sender is None else sender.full_name,
        "edited": msg.edit_date is not None,
        "deleted": msg.deleted,
        "message": message_dict(world, bot, msg),
        "reply_keyboard": markup.to_dict() if isinstance(markup, ReplyKeyboardMarkup) else None,
        "remove_keyboard": isinstance(markup, ReplyKeyboardRemove),
        "force_reply": isinstance(markup, ForceReply),
    }


def decode_json(value: Any, what: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError.bad_request(f"can't parse {what} JSON object") from None


def parse_markup(value: Any) -> Markup | None:
    """Parse `reply_markup` as Telegram would, rejecting what Telegram rejects."""
    if value is None or value == "":
        return None
    data = decode_json(value, "reply keyboard markup")
    if not isinstance(data, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in data:
        _check_inline_keyboard(data["inline_keyboard"])
        return InlineKeyboardMarkup.de_json(data)
    if "keyboard" in data:
        return _reply_keyboard(data)
    if data.get("remove_keyboard"):
        return ReplyKeyboardRemove.de_json(data)
    if data.get("force_reply"):
        return ForceReply.de_json(data)
    raise ApiError.bad_request("can't parse reply keyboard markup JSON object")


def _reply_keyboard(data: dict[str, Any]) -> ReplyKeyboardMarkup:
    # PTB's de_json keeps the buttons as dicts; Telegram also allows bare strings.
    rows = data["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request("keyboard must be an Array of Arrays")
    buttons = [
        [KeyboardButton.de_json(b) if isinstance(b, dict) else KeyboardButton(str(b)) for b in row]
        for row in rows
    ]
    return ReplyKeyboardMarkup(
        buttons,
        resize_keyboard=data.get("resize_keyboard"),
        one_time_keyboard=data.get("one_time_keyboard"),
        selective=data.get("selective"),
        input_field_placeholder=data.get("input_field_placeholder"),
        is_persistent=data.get("is_persistent"),
    )


_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError.bad_request("BUTTON_TEXT_INVALID")
        if not any(key in button for key in _BUTTON_ACTIONS):
            raise ApiError.bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")
