"""The simulated Telegram world: bots, people, chats, messages and pending updates.

Pure in-memory state with no HTTP in it. Both the Bot API side (`botapi/`) and the
people side (`people.py`, driven by the web page and the test driver) change it through
the methods here, and anyone waiting for a change is woken through a `Signal`.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Contact,
    Document,
    ForceReply,
    InlineKeyboardMarkup,
    Location,
    MessageEntity,
    MessageOrigin,
    PhotoSize,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    Voice,
)

from simulator.errors import ApiError
from simulator.limits import Limits, RateLimiter, Violations
from simulator.media import FileStore

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

TOKEN_RE = re.compile(r"^(\d{1,20}):[A-Za-z0-9_-]{1,100}$")

# Telegram's default when a bot never named the update types it wants.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

FIRST_PERSONA_ID = 1_000_001


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Signal:
    """Wakes every waiter on `notify()`; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """True as soon as `predicate()` holds, False if `timeout` seconds pass first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            # Take the event before checking, so a notify in between is not missed.
            event = self._event
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            # asyncio.wait, not wait_for: in Python 3.11 wait_for can swallow a cancel that
            # races the event being set, and the waiting task would never stop.
            waiter = asyncio.ensure_future(event.wait())
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                waiter.cancel()


@dataclass
class Persona:
    """A Telegram user played by a person on the web page or by a test."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    label: str | None = None
    phone_number: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
            "label": self.label,
            "phone_number": self.phone_number,
            "full_name": self.full_name,
        }


@dataclass
class Group:
    id: int
    title: str
    member_ids: list[int]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "member_ids": self.member_ids}


@dataclass
class StoredMessage:
    """One message in a chat, in either direction; `entities` belong to text or caption."""

    message_id: int
    chat_id: int
    sender_id: int
    from_bot: bool
    date: datetime
    text: str | None = None
    caption: str | None = None
    entities: list[MessageEntity] = field(default_factory=list)
    photo: list[PhotoSize] | None = None
    document: Document | None = None
    voice: Voice | None = None
    location: Location | None = None
    contact: Contact | None = None
    reply_markup: Markup | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None
    forward_origin: MessageOrigin | None = None
    edit_date: datetime | None = None
    deleted: bool = False
    # When it arrived (monotonic seconds; `date` has whole seconds only): for benchmarks.
    stored_at: float = field(default_factory=time.monotonic, compare=False, repr=False)

    @property
    def inline_markup(self) -> InlineKeyboardMarkup | None:
        markup = self.reply_markup
        return markup if isinstance(markup, InlineKeyboardMarkup) else None


class ChatLog:
    """One chat as seen from one bot: its messages, current reply keyboard and event feed."""

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self.messages: dict[int, StoredMessage] = {}
        self.reply_keyboard: ReplyKeyboardMarkup | None = None
        self.events: list[dict[str, Any]] = []
        self.signal = Signal()
        self._ids = itertools.count(1)

    @property
    def seq(self) -> int:
        return len(self.events)

    def next_message_id(self) -> int:
        return next(self._ids)

    def add(self, message: StoredMessage) -> None:
        self.messages[message.message_id] = message
        self._track_keyboard(message.reply_markup)

    def _track_keyboard(self, markup: Markup | None) -> None:
        # A reply keyboard stays until the bot replaces or removes it.
        if isinstance(markup, ReplyKeyboardMarkup):
            self.reply_keyboard = markup
        elif isinstance(markup, ReplyKeyboardRemove):
            self.reply_keyboard = None

    def record(self, kind: str, **payload: Any) -> None:
        """Append to the event feed the web page and driver read, and wake their polls."""
        self.events.append({"seq": len(self.events) + 1, "type": kind, **payload})
        self.signal.notify()

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        return self.events[max(0, seq) :]

    def visible(self) -> list[StoredMessage]:
        return [m for m in self.messages.values() if not m.deleted]


@dataclass
class PendingUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: datetime | None = None
    last_error_message: str | None = None


@dataclass
class CallbackRecord:
    query_id: str
    chat_id: int
    message_id: int
    created: float
    answer: dict[str, Any] | None = None


class BotState:
    """Everything the simulator keeps for one bot token."""

    def __init__(self, bot_id: int, token: str, username: str, first_name: str, limits: Limits):
        self.id = bot_id
        self.token = token
        self.username = username
        self.first_name = first_name
        self.limiter = RateLimiter(limits)
        self.updates: list[PendingUpdate] = []
        self.updates_signal = Signal()
        self.delivered_through = 0
        self.poll_generation = 0
        self.allowed_updates: frozenset[str] | None = None
        self.webhook: WebhookConfig | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.chats: dict[int, ChatLog] = {}
        self.blocked_by: set[int] = set()
        self.callbacks: dict[str, CallbackRecord] = {}
        self._update_ids = itertools.count(1)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "first_name": self.first_name}

    def chat(self, chat_id: int) -> ChatLog:
        if chat_id not in self.chats:
            self.chats[chat_id] = ChatLog(chat_id)
        return self.chats[chat_id]

    def wants(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self.allowed_updates

    def enqueue(self, kind: str, build: Callable[[int], Update]) -> int | None:
        """Queue an update for getUpdates or the webhook; None if the bot opted out of it."""
        if not self.wants(kind):
            return None
        update_id = next(self._update_ids)
        self.updates.append(PendingUpdate(update_id, kind, build(update_id).to_dict()))
        self.updates_signal.notify()
        return update_id

    def enqueue_raw(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue an update exactly as given (plus its id), even one no Bot API server would
        send: for tests of what the bot does with an update it cannot parse."""
        update_id = next(self._update_ids)
        self.updates.append(PendingUpdate(update_id, kind, {"update_id": update_id, **payload}))
        self.updates_signal.notify()
        return update_id

    def acknowledge(self, offset: int) -> None:
        """Forget updates before `offset`; a negative offset keeps only the last -offset."""
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u.update_id >= offset]

    def mark_delivered(self, update_id: int) -> None:
        self.delivered_through = max(self.delivered_through, update_id)
        self.updates_signal.notify()


class World:
    """All bots, personas and groups of one simulator instance."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.files = FileStore()
        self.violations = Violations()
        self.bots: dict[int, BotState] = {}
        self.personas: dict[int, Persona] = {}
        self.groups: dict[int, Group] = {}
        self.bots_signal = Signal()
        self.closing = False
        self._persona_ids = itertools.count(FIRST_PERSONA_ID)
        self._group_ids = itertools.count(1_000_000_001)

    # Bots ----------------------------------------------------------------------------------

    def add_bot(
        self, token: str, username: str | None = None, first_name: str | None = None
    ) -> BotState:
        match = TOKEN_RE.match(token)
        if not match:
            raise ValueError(f"not a bot token (digits:secret): {token!r}")
        bot_id = int(match.group(1))
        bot = self.bots.get(bot_id)
        if bot is None or bot.token != token:
            bot = BotState(
                bot_id, token, username or f"sim{bot_id}_bot", first_name or "Bot", self.limits
            )
            self.bots[bot_id] = bot
        bot.username = username or bot.username
        bot.first_name = first_name or bot.first_name
        self.bots_signal.notify()
        return bot

    def bot_for_token(self, token: str) -> BotState:
        """The bot a request's token names; any well-formed token registers a new bot."""
        match = TOKEN_RE.match(token)
        if not match:
            raise ApiError.not_found()
        bot = self.bots.get(int(match.group(1)))
        if bot is not None and bot.token != token:
            raise ApiError(401, "Unauthorized")
        return bot or self.add_bot(token)

    # People --------------------------------------------------------------------------------

    def add_persona(self, first_name: str, user_id: int | None = None, **fields: Any) -> Persona:
        """Create a persona, or update the one with `user_id` (so seeding is repeatable)."""
        if user_id is not None and user_id in self.personas:
            persona = self.personas[user_id]
            persona.first_name = first_name
            for key, value in fields.items():
                if value is not None:
                    setattr(persona, key, value)
            return persona
        if user_id is None:
            user_id = next(self._persona_ids)
            while user_id in self.personas or user_id in self.bots:
                user_id = next(self._persona_ids)
        if user_id <= 0 or user_id in self.bots:
            raise ApiError.bad_request(f"user_id {user_id} is not available")
        phone = fields.pop("phone_number", None) or f"+86138{user_id % 100_000_000:08d}"
        persona = Persona(id=user_id, first_name=first_name, phone_number=phone, **fields)
        self.personas[user_id] = persona
        return persona

    def persona(self, user_id: int) -> Persona:
        if user_id not in self.personas:
            raise ApiError(404, f"no persona with id {user_id}")
        return self.personas[user_id]

    def add_group(self, title: str, member_ids: list[int]) -> Group:
        for member in member_ids:
            self.persona(member)
        group = Group(id=-next(self._group_ids), title=title, member_ids=list(member_ids))
        self.groups[group.id] = group
        return group

    def is_group(self, chat_id: int) -> bool:
        return chat_id in self.groups

    def chat_exists(self, chat_id: int) -> bool:
        return chat_id in self.personas or chat_id in self.groups

    def close(self) -> None:
        """Release every long poll so the server can stop promptly."""
        self.closing = True
        self.bots_signal.notify()
        for bot in self.bots.values():
            bot.updates_signal.notify()
            for chat in bot.chats.values():
                chat.signal.notify()
