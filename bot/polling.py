"""Long polling that acknowledges an update to Telegram only after it was handled.

aiogram's own polling confirms an update (the next `offset`) as soon as it is handed to a
task, and drops unfinished tasks on stop: a SIGTERM or a crash loses those updates. Here the
offset sent is the lowest update id still in hand, so an unfinished update is fetched again
after a restart; the inbox (services/inbox.py) makes sure a finished one is not handled twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from pydantic import ValidationError

from bot.logs import mask_phones
from bot.metrics import count_malformed_update
from bot.waiting import first_of

log = logging.getLogger("civic_dispatch.polling")
DRAIN_SECONDS = 25.0
# While updates are in hand Telegram answers getUpdates at once (with them again), so
# fetching back to back would only re-read them: a busy loop that cost more CPU than the
# handlers. Fetch at most this often then; with nothing in hand, long-poll as usual.
REFETCH_GAP = 0.02


def parse_update(raw: Any, bot: Bot) -> Update | None:
    """The update in `raw`, or None (logged, masked, and counted) if it is not one that
    aiogram can parse: such an update is skipped, never allowed to stop the bot."""
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except ValidationError as exc:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:5]
        )
        log.warning("skipped update %s, which is not valid: %s", update_id, mask_phones(problems))
        count_malformed_update()
        return None


class _RawGetUpdates(GetUpdates):
    """getUpdates answered as plain dicts, so that only updates not yet in hand are parsed
    into aiogram's models (re-parsing the ones in hand cost a fifth of the CPU under load)."""

    __returning__ = list[dict[str, Any]]


class SafePoller:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        timeout: int = 25,
        limit: int = 100,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self.dp, self.bot = dp, bot
        self.timeout, self.limit, self.drain_seconds = timeout, limit, drain_seconds
        self.in_hand: dict[int, asyncio.Task[Any]] = {}
        self.highest_started = -1
        self._finished = asyncio.Event()

    def _offset(self) -> int | None:
        """Everything below the lowest unfinished id is done and may be confirmed."""
        if self.in_hand:
            return min(self.in_hand)
        return self.highest_started + 1 if self.highest_started >= 0 else None

    def _start(self, update: Update) -> None:
        if update.update_id in self.in_hand or update.update_id <= self.highest_started:
            return  # fetched again because an earlier one is unfinished: already in hand
        self.highest_started = update.update_id
        task = asyncio.create_task(self._handle(update), name=f"update-{update.update_id}")
        self.in_hand[update.update_id] = task

    async def _handle(self, update: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, update)
        except Exception:  # the error router already answered the user; keep polling
            log.exception("update %s failed", update.update_id)
        finally:
            self.in_hand.pop(update.update_id, None)
            self._finished.set()

    async def _fetch(self, stop: asyncio.Event) -> list[Update | int]:
        call = _RawGetUpdates(
            offset=self._offset(),
            timeout=self.timeout,
            limit=self.limit,
            allowed_updates=self.dp.resolve_used_update_types(),
        )
        fetch = asyncio.ensure_future(self.bot(call, request_timeout=self.timeout + 10))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return []
        updates: list[Update | int] = []
        # `_RawGetUpdates` answers dicts: its type is still GetUpdates' list of Updates.
        for raw in cast("list[Any]", fetch.result()):
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                log.warning("skipped an update without an update_id")
                count_malformed_update()
                continue
            if update_id <= self.highest_started or update_id in self.in_hand:
                continue
            # One that cannot be parsed stands as its id: confirmed in turn, as if handled.
            updates.append(parse_update(raw, self.bot) or update_id)
        return updates

    async def _pace(self, stop: asyncio.Event, last_fetch: float) -> None:
        """Wait out REFETCH_GAP since the last fetch, unless everything in hand finishes."""
        loop = asyncio.get_running_loop()
        while self.in_hand and not stop.is_set():
            gap = last_fetch + REFETCH_GAP - loop.time()
            if gap <= 0:
                return
            self._finished.clear()
            await first_of(stop, self._finished, timeout=gap)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 1.0
        loop = asyncio.get_running_loop()
        last_fetch = -REFETCH_GAP
        while not stop.is_set():
            await self._pace(stop, last_fetch)
            if stop.is_set():
                break
            last_fetch = loop.time()
            try:
                updates = await self._fetch(stop)
            except (TelegramNetworkError, TelegramAPIError, OSError) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            backoff = 1.0
            for update in updates:
                if isinstance(update, int):
                    self.highest_started = max(self.highest_started, update)
                else:
                    self._start(update)
        await self._drain()

    async def _drain(self) -> None:
        """Finish what is in hand, then confirm it, so a restart starts after it."""
        if self.in_hand:
            log.info("finishing %d update(s) in hand before stopping", len(self.in_hand))
            await asyncio.wait(list(self.in_hand.values()), timeout=self.drain_seconds)
        offset = self._offset()
        if offset is None:
            return
        with contextlib.suppress(TelegramNetworkError, TelegramAPIError, OSError):
            await self.bot(GetUpdates(offset=offset, timeout=0, limit=1), request_timeout=10)


async def run_polling(dp: Dispatcher, bot: Bot, stop: asyncio.Event, **kwargs: Any) -> None:
    """Start-up hooks, safe polling until `stop`, shutdown hooks: like dp.start_polling."""
    workflow = {k: v for k, v in {**dp.workflow_data, **kwargs}.items() if k != "bot"}
    await dp.emit_startup(bot=bot, **workflow)
    log.info("polling for updates")
    try:
        await SafePoller(dp, bot).run(stop)
    finally:
        await dp.emit_shutdown(bot=bot, **workflow)
