"""Per-update plumbing: one DB session, the user and their roles, their language."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.enums import ChatType
from aiogram.types import Chat, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot import metrics
from models import User
from services.errors import DomainError
from services.i18n import N_, gettext, normalise_locale
from services.inbox import (
    Claim,
    claim_update,
    highest_recorded,
    is_handled,
    mark_handled,
    record_handled,
)
from services.people import Roles, RolesCache, get_or_create_user
from views.menu import large_print

log = logging.getLogger("civic_dispatch.updates")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DbSessionMiddleware(BaseMiddleware):
    """One session per update. Services commit their own transactions; whatever a handler
    leaves uncommitted (reads) is rolled back when the session closes. A commit that queued
    messages wakes the sender at once, not after the handler's own reply went out: an order
    card then leaves while the resident is still being answered."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessionmaker() as session:
            data["session"] = session
            session.info["sender"] = data.get("sender")
            return await handler(event, data)


@event.listens_for(Session, "after_commit")
def _wake_sender(session: Session) -> None:
    # session.info["outbox_added"] is set by services/outbox.py when it queues a row.
    sender = session.info.get("sender")
    if session.info.pop("outbox_added", False) and sender is not None:
        sender.poke()


class InboxMiddleware(BaseMiddleware):
    """Handle each update id once (see services/inbox.py). A duplicate is acknowledged and
    dropped; an update whose handler failed is still marked, so a poison update cannot loop.

    `exclusive`: the only reader of the bot's updates (long polling). Then an update is
    recorded once, after it was handled, and looked up only if a predecessor may have seen
    it. Otherwise (webhook workers) it is claimed first; the webhook server does that itself
    (it must answer 503 for one in hand elsewhere) and says so with `inbox_claimed`."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        worker: str,
        stale_after: timedelta = timedelta(0),
        *,
        exclusive: bool = False,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.worker = worker
        self.stale_after = stale_after
        self.exclusive = exclusive
        # exclusive: ids up to this may have been handled already (by a predecessor or by
        # this process: a duplicate); ids in hand now are not started twice.
        self._seen_up_to: int | None = None
        self._in_hand: set[int] = set()
        # exclusive: ids handled and waiting to be recorded, and the batch they will be in.
        self._to_record: list[int] = []
        self._recorded: asyncio.Future[None] | None = None
        self._recorder: asyncio.Task[None] | None = None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        update_id = getattr(event, "update_id", None)
        if update_id is None:
            return await handler(event, data)
        if not data.get("inbox_claimed") and not await self._ours(update_id):
            log.info("update %s handled already or in hand elsewhere; skipped", update_id)
            metrics.UPDATES_DUPLICATE.inc()
            return UNHANDLED
        metrics.UPDATES.inc()
        kind, outcome, started = _kind(event), "error", time.perf_counter()
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "handled"
            return result
        except DomainError:
            outcome = "refused"
            raise  # a rule refused: handlers/errors.py tells the person; not a failure
        except Exception:
            metrics.UPDATE_ERRORS.inc()
            raise
        finally:
            metrics.UPDATE_SECONDS.labels(kind, outcome).observe(time.perf_counter() - started)
            await self._record(update_id)

    async def _record(self, update_id: int) -> None:
        """The update is handled (or failed for good): never again. Returns once that is
        committed. Exclusive: the updates that finish while a record is being written are
        recorded together in the next one (one transaction for many, not one each)."""
        if not self.exclusive:
            async with self.sessionmaker() as session:
                await mark_handled(session, update_id)
            return
        try:
            if self._recorded is None:
                self._recorded = asyncio.get_running_loop().create_future()
            self._to_record.append(update_id)
            recorded = self._recorded
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_batches())
            await asyncio.shield(recorded)
        finally:
            self._in_hand.discard(update_id)

    async def _record_batches(self) -> None:
        while self._to_record:
            ids, done = self._to_record, self._recorded
            assert done is not None
            self._to_record, self._recorded = [], asyncio.get_running_loop().create_future()
            try:
                async with self.sessionmaker() as session:
                    await record_handled(session, ids, self.worker)
            except Exception as exc:  # each update waiting on this batch fails with it
                done.set_exception(exc)
                done.exception()  # retrieved: no "never retrieved" warning if none waits
            else:
                done.set_result(None)

    async def _ours(self, update_id: int) -> bool:
        """Whether to handle the update now."""
        if not self.exclusive:
            async with self.sessionmaker() as session:
                claim = await claim_update(session, update_id, self.worker, self.stale_after)
                return claim is Claim.NEW
        if update_id in self._in_hand:
            return False
        # Only an id a predecessor (or this process) may have handled costs a query.
        if self._seen_up_to is None or update_id <= self._seen_up_to:
            async with self.sessionmaker() as session:
                if self._seen_up_to is None:
                    self._seen_up_to = await highest_recorded(session)
                if update_id <= self._seen_up_to and await is_handled(session, update_id):
                    return False
        self._seen_up_to = max(self._seen_up_to, update_id)
        self._in_hand.add(update_id)
        return True


def _kind(event: TelegramObject) -> str:
    """`message`, `callback_query`, … (a label of the update metrics)."""
    try:
        return str(getattr(event, "event_type", "unknown"))
    except LookupError:  # aiogram's UpdateTypeLookupError: a kind it does not know
        return "unknown"


class ThrottleMiddleware(BaseMiddleware):
    """A user who floods (more than `limit` updates in `window` seconds) is told once, politely,
    and their further updates are dropped until the window passes; others are not slowed.

    With `redis` the count is shared by every worker (one key per user and window), so a
    flood spread over several workers is still one flood."""

    def __init__(self, limit: int = 20, window: float = 10.0, redis: Any = None) -> None:
        self.limit, self.window = limit, window
        self.redis = redis
        self.seen: dict[int, deque[float]] = {}
        self.calls = 0

    def _flooding(self, user_id: int) -> tuple[bool, bool]:
        """(over the limit, first time over in this window)."""
        now = time.monotonic()
        stamps = self.seen.setdefault(user_id, deque())
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        stamps.append(now)
        self.calls += 1
        if self.calls % 1000 == 0:  # forget quiet users, so memory stays bounded
            self.seen = {uid: q for uid, q in self.seen.items() if q and q[-1] > now - self.window}
        return len(stamps) > self.limit, len(stamps) == self.limit + 1

    async def _flooding_shared(self, user_id: int) -> tuple[bool, bool]:
        """The same over Redis, in fixed windows (a sliding one would cost a sorted set)."""
        key = f"civic:flood:{user_id}:{int(time.time() // self.window)}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                count, _ = await pipe.incr(key).expire(key, int(self.window) + 1).execute()
        except (RedisError, OSError):  # Redis away: count in this worker rather than not at all
            return self._flooding(user_id)
        return count > self.limit, count == self.limit + 1

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None:
            return await handler(event, data)
        if self.redis is not None:
            over, first = await self._flooding_shared(tg_user.id)
        else:
            over, first = self._flooding(tg_user.id)
        if not over:
            return await handler(event, data)
        metrics.UPDATES_THROTTLED.inc()
        if first:
            await _tell_to_slow_down(event, data)
        return UNHANDLED


async def _tell_to_slow_down(event: TelegramObject, data: dict[str, Any]) -> None:
    text = gettext(
        N_("You are sending messages very fast. Please wait a few seconds."),
        normalise_locale(getattr(data.get("event_from_user"), "language_code", None)),
    )
    await _answer(event, text)


async def _answer(event: TelegramObject, text: str) -> None:
    """A short word from a middleware to whoever sent the update."""
    update = event if isinstance(event, Update) else None
    if update is not None and update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update is not None and update.message is not None:
        await update.message.answer(text)


class PrivateChatOnlyMiddleware(BaseMiddleware):
    """Everything the bot does for people happens in their private chat: staff commands,
    exports, sign-in links, phone numbers, every conversation. An update from a group,
    supergroup or channel goes no further: a command there is answered once per chat (a
    brief "write to me privately"), a button pressed there is refused, anything else is
    ignored. Nothing comes in from groups; the only thing the bot may ever put in one is what
    it sends of its own accord (the outbox), which this does not touch.

    Outer, before the database session: a group's traffic costs no query and creates no
    user row."""

    def __init__(self, remind_every: float = 3600.0) -> None:
        self.remind_every = remind_every
        self.told: dict[int, float] = {}  # group chat id → when it was last told

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update) or event.event_type not in GATED:
            return await handler(event, data)
        chat: Chat | None = data.get("event_chat")
        if chat is not None and chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        metrics.UPDATES_FROM_GROUPS.inc()
        text = gettext(
            N_("I work in private chat only. Please write to me directly."),
            normalise_locale(getattr(data.get("event_from_user"), "language_code", None)),
        )
        if event.callback_query is not None:
            await event.callback_query.answer(text, show_alert=True)
        elif (
            event.message is not None
            and chat is not None
            and (event.message.text or "").startswith("/")
            and self._first_word(chat.id)
        ):
            await event.message.answer(text)
        return UNHANDLED

    def _first_word(self, chat_id: int) -> bool:
        """Whether the chat has not been told within `remind_every` (then it is now)."""
        now = time.monotonic()
        if now - self.told.get(chat_id, -self.remind_every) < self.remind_every:
            return False
        if len(self.told) > 10_000:  # keep memory bounded
            self.told = {c: t for c, t in self.told.items() if now - t < self.remind_every}
        self.told[chat_id] = now
        return True


# Updates that come from a chat and would reach a handler there (my_chat_member is the
# bot's own membership: handlers/chat_member.py keeps to private chats itself).
GATED = frozenset(
    {
        "message",
        "edited_message",
        "callback_query",
        "channel_post",
        "edited_channel_post",
        "business_message",
        "message_reaction",
    }
)


class UserMiddleware(BaseMiddleware):
    """Loads (or creates) our user for the Telegram user and computes their roles."""

    def __init__(self, admin_ids: frozenset[int]) -> None:
        self.admin_ids = admin_ids
        self.roles = RolesCache()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is None or tg_user.is_bot:
            return await handler(event, data)
        user, roles = await self.load(data["session"], tg_user, event)
        if roles is None:
            await _answer(
                event,
                gettext(
                    N_(
                        "Sorry, this account may not use the service. "
                        "Please contact the institute office."
                    ),
                    user.locale,
                ),
            )
            return UNHANDLED
        data["user"] = user
        data["roles"] = roles
        with large_print(user.large_print):
            return await handler(event, data)

    async def load(
        self, session: AsyncSession, tg_user: TgUser, event: TelegramObject
    ) -> tuple[User, Roles | None]:
        """The user (created on first contact; unblocked when they write again) and their
        roles; no roles for a banned user, who may not go on."""
        user = await get_or_create_user(
            session,
            tg_user.id,
            first_name=tg_user.first_name,
            username=tg_user.username,
            locale=normalise_locale(tg_user.language_code),
        )
        if user.blocked and not _is_membership_change(event):
            user.blocked, user.blocked_at = False, None  # writing again means they unblocked us
        if session.new or session.dirty:
            await session.commit()
        if user.banned and tg_user.id not in self.admin_ids:
            return user, None
        return user, await self.roles.roles(session, user, self.admin_ids)


def _is_membership_change(event: TelegramObject) -> bool:
    return isinstance(event, Update) and event.my_chat_member is not None


class UserLocaleMiddleware(I18nMiddleware):
    """The user's saved language, else their Telegram language, else the default.

    aiogram's SimpleI18nMiddleware maps zh-hans to "zh", which never matches zh_CN, and the
    FSM variant forgets the language on state.clear(); we keep it in the database instead.
    """

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("user")
        if user is not None and user.locale in self.i18n.available_locales:
            return user.locale
        tg_user: TgUser | None = data.get("event_from_user")
        code = normalise_locale(tg_user.language_code if tg_user else None)
        return code if code in self.i18n.available_locales else self.i18n.default_locale
