"""What people do in their Telegram app: send, tap, press, share, block.

Each action stores the message a Telegram client would show and queues the update the bot
would receive. The web page and the test driver both come through here.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from telegram import (
    CallbackQuery,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    KeyboardButton,
    Location,
    Update,
)

from simulator.botapi.call import photo_sizes, voice_of
from simulator.entities import command_entities
from simulator.errors import ApiError
from simulator.media import guess_mime
from simulator.params import Upload
from simulator.state import BotState, CallbackRecord, ChatLog, Group, StoredMessage, World, utc_now
from simulator.wire import bot_user, chat_object, message_object, message_view, persona_user

# A phone contact that belongs to nobody among the personas ("someone else's card").
STRANGER_ID = 999_000_001
# Where a request_location button puts you when no coordinates are given: 陶乐镇.
DEFAULT_LOCATION = (38.80, 106.69)
_FOREVER = datetime.fromtimestamp(0, UTC)


class Actions:
    """The people-side operations on one bot's chats."""

    def __init__(self, world: World, bot: BotState) -> None:
        self.world = world
        self.bot = bot

    # Messages ------------------------------------------------------------------------------

    def _check_sender(self, chat_id: int, user_id: int) -> None:
        self.world.persona(user_id)
        if self.world.is_group(chat_id):
            if user_id not in self.world.groups[chat_id].member_ids:
                raise ApiError(403, f"persona {user_id} is not a member of group {chat_id}")
        elif chat_id != user_id:
            raise ApiError(400, "in a private chat only its own persona can write")
        if user_id in self.bot.blocked_by and not self.world.is_group(chat_id):
            raise ApiError(409, "this persona has blocked the bot; unblock it first")

    def post(self, chat_id: int, user_id: int, **content: Any) -> tuple[StoredMessage, int | None]:
        """Store a message from a person and queue the `message` update for the bot."""
        self._check_sender(chat_id, user_id)
        chat = self.bot.chat(chat_id)
        msg = StoredMessage(
            message_id=chat.next_message_id(),
            chat_id=chat_id,
            sender_id=user_id,
            from_bot=False,
            date=utc_now(),
            **content,
        )
        chat.add(msg)
        chat.record("message", view=message_view(self.world, self.bot, msg))
        wire = message_object(self.world, self.bot, msg)
        return msg, self.bot.enqueue("message", lambda uid: Update(uid, message=wire))

    def text(self, chat_id: int, user_id: int, text: str) -> tuple[StoredMessage, int | None]:
        if not text.strip():
            raise ApiError(400, "empty message")
        if len(text) > 4096:
            raise ApiError(400, "a message can have at most 4096 characters")
        return self.post(chat_id, user_id, text=text, entities=command_entities(text))

    def contact(
        self,
        chat_id: int,
        user_id: int,
        *,
        own: bool = True,
        phone_number: str | None = None,
        contact_user_id: int | None = None,
        first_name: str | None = None,
    ) -> tuple[StoredMessage, int | None]:
        persona = self.world.persona(user_id)
        if own:
            card = Contact(
                phone_number or persona.phone_number,
                persona.first_name,
                last_name=persona.last_name,
                user_id=persona.id,
            )
        else:
            if not phone_number:
                raise ApiError(400, "someone else's contact needs a phone_number")
            card = Contact(
                phone_number, first_name or "联系人", user_id=contact_user_id or STRANGER_ID
            )
        return self.post(chat_id, user_id, contact=card)

    def location(
        self, chat_id: int, user_id: int, latitude: float, longitude: float
    ) -> tuple[StoredMessage, int | None]:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ApiError(400, "latitude must be within ±90 and longitude within ±180")
        return self.post(chat_id, user_id, location=Location(longitude, latitude))

    def photo(
        self, chat_id: int, user_id: int, upload: Upload, caption: str | None
    ) -> tuple[StoredMessage, int | None]:
        if guess_mime(upload.data) not in ("image/jpeg", "image/png"):
            raise ApiError(400, "a photo must be a JPEG or PNG image")
        stored = self.world.files.add(upload.data, "photo", None, upload.filename)
        return self.post(chat_id, user_id, photo=photo_sizes(stored), caption=caption or None)

    def voice(
        self, chat_id: int, user_id: int, upload: Upload, duration: int
    ) -> tuple[StoredMessage, int | None]:
        stored = self.world.files.add(upload.data, "voice", "audio/ogg", upload.filename)
        return self.post(chat_id, user_id, voice=voice_of(stored, duration))

    # Keyboards -----------------------------------------------------------------------------

    def tap(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        location: tuple[float, float] | None = None,
    ) -> tuple[StoredMessage, int | None]:
        """Tap a button of the chat's current reply keyboard."""
        self._check_sender(chat_id, user_id)
        chat = self.bot.chat(chat_id)
        button = _reply_button(chat, text)
        if chat.reply_keyboard is not None and chat.reply_keyboard.one_time_keyboard:
            chat.reply_keyboard = None
        if button.request_contact:
            return self.contact(chat_id, user_id, own=True)
        if button.request_location:
            return self.location(chat_id, user_id, *(location or DEFAULT_LOCATION))
        return self.text(chat_id, user_id, text)

    def press(
        self,
        chat_id: int,
        user_id: int,
        *,
        text: str | None = None,
        message_id: int | None = None,
        data: str | None = None,
    ) -> tuple[CallbackRecord, int | None]:
        """Press an inline button by its text, or send arbitrary data as if from a button."""
        self._check_sender(chat_id, user_id)
        chat = self.bot.chat(chat_id)
        if data is None:
            msg, data = _inline_button(chat, text or "", message_id)
        else:
            pressed = chat.messages.get(message_id or 0)
            if pressed is None or pressed.deleted or not pressed.from_bot:
                raise ApiError(404, f"no bot message {message_id} in chat {chat_id}")
            msg = pressed
        record = CallbackRecord(
            str(secrets.randbits(63)), chat_id, msg.message_id, time.monotonic()
        )
        self.bot.callbacks[record.query_id] = record
        query = CallbackQuery(
            record.query_id,
            persona_user(self.world.persona(user_id)),
            chat_instance=str((self.bot.id * 1_000_003 + chat_id) % 2**63),
            message=message_object(self.world, self.bot, msg),
            data=data,
        )
        return record, self.bot.enqueue("callback_query", lambda u: Update(u, callback_query=query))

    # Membership ----------------------------------------------------------------------------

    def set_blocked(self, user_id: int, blocked: bool) -> int | None:
        """Block or unblock the bot; the bot hears of it through `my_chat_member`."""
        persona = self.world.persona(user_id)
        if (user_id in self.bot.blocked_by) == blocked:
            return None
        me = bot_user(self.bot)
        member, banned = ChatMemberMember(me), ChatMemberBanned(me, until_date=_FOREVER)
        old, new = (member, banned) if blocked else (banned, member)
        if blocked:
            self.bot.blocked_by.add(user_id)
        else:
            self.bot.blocked_by.discard(user_id)
        self.bot.chat(user_id).record("blocked" if blocked else "unblocked")
        change = ChatMemberUpdated(
            chat_object(self.world, user_id), persona_user(persona), utc_now(), old, new
        )
        return self.bot.enqueue("my_chat_member", lambda u: Update(u, my_chat_member=change))

    def add_group(self, title: str, member_ids: list[int]) -> Group:
        """Create a group with the bot in it, added by the first member."""
        if not member_ids:
            raise ApiError(400, "a group needs at least one member")
        group = self.world.add_group(title, member_ids)
        me = bot_user(self.bot)
        change = ChatMemberUpdated(
            chat_object(self.world, group.id),
            persona_user(self.world.persona(member_ids[0])),
            utc_now(),
            ChatMemberLeft(me),
            ChatMemberMember(me),
        )
        self.bot.enqueue("my_chat_member", lambda u: Update(u, my_chat_member=change))
        return group


def _reply_button(chat: ChatLog, text: str) -> KeyboardButton:
    keyboard = chat.reply_keyboard
    rows = keyboard.keyboard if keyboard is not None else ()
    for button in (b for row in rows for b in row):
        if button.text == text:
            return button
    shown = " ".join(f"[{b.text}]" for row in rows for b in row) or "(no reply keyboard)"
    raise ApiError(400, f"no button {text!r} on the current reply keyboard; it shows: {shown}")


def _inline_button(chat: ChatLog, text: str, message_id: int | None) -> tuple[StoredMessage, str]:
    """The latest bot message with an inline button labelled `text`, and its data."""
    candidates = [m for m in chat.visible() if m.from_bot and m.inline_markup is not None]
    if message_id is not None:
        candidates = [m for m in candidates if m.message_id == message_id]
    for msg in sorted(candidates, key=lambda m: m.message_id, reverse=True):
        markup = msg.inline_markup
        buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
        for button in buttons:
            if button.text != text:
                continue
            if button.callback_data is None:
                target = button.url or "a non-callback action"
                raise ApiError(400, f"button {text!r} has no callback data; it opens {target}")
            return msg, str(button.callback_data)
    raise ApiError(400, f"no inline button {text!r}; {_visible_buttons(candidates)}")


def _visible_buttons(candidates: list[StoredMessage]) -> str:
    if not candidates:
        return "no bot message in this chat has inline buttons"
    latest = max(candidates, key=lambda m: m.message_id)
    markup = latest.inline_markup
    rows = markup.inline_keyboard if markup else ()
    shown = " ".join(f"[{b.text}]" for row in rows for b in row)
    return f"the latest inline keyboard (message {latest.message_id}) shows: {shown}"
