"""Webhook delivery: push each queued update to the bot's URL, in order, as Telegram does."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from simulator.state import BotState, PendingUpdate, World, utc_now

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Telegram retries for hours with growing pauses; the simulator for about 15 s (long enough
# for a crashed worker's claim to go stale in tests), then drops the update so one poisoned
# update cannot block the queue forever. The error stays in getWebhookInfo.
RETRY_DELAYS = (0.1, 0.3, 1.0, 2.0, 4.0, 8.0)
REQUEST_TIMEOUT = 10.0


class WebhookManager:
    """One delivery task per bot that has a webhook set."""

    def __init__(self, world: World, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self._world = world
        self._retry_delays = retry_delays
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        # A fresh connection per delivery, as from Telegram's many front ends: workers that
        # share a port (SO_REUSEPORT) each get their part of the updates.
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(force_close=True),
        )

    async def close(self) -> None:
        for bot_id in list(self._tasks):
            await self.deactivate(bot_id)
        if self._session is not None:
            await self._session.close()

    async def activate(self, bot: BotState) -> None:
        await self.deactivate(bot.id)
        self._tasks[bot.id] = asyncio.create_task(self._deliver_forever(bot))

    async def deactivate(self, bot_id: int) -> None:
        task = self._tasks.pop(bot_id, None)
        if task is not None:
            bot = self._world.bots.get(bot_id)
            if bot is not None:
                bot.updates_signal.notify()  # a webhook just removed ends the loop by itself
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_forever(self, bot: BotState) -> None:
        def stopping() -> bool:
            return bot.webhook is None or self._world.closing

        while not stopping():
            # Woken for closing too, so stopping never depends on a cancel alone.
            await bot.updates_signal.wait_until(
                lambda: bool(bot.updates) or stopping(), timeout=3600
            )
            if not bot.updates or stopping():
                continue
            update = bot.updates[0]
            delivered = await self._deliver(bot, update)
            # The queue may have been cleared meanwhile (drop_pending_updates).
            if bot.updates and bot.updates[0] is update:
                bot.updates.pop(0)
            if delivered:
                bot.mark_delivered(update.update_id)

    async def _deliver(self, bot: BotState, update: PendingUpdate) -> bool:
        for delay in (*self._retry_delays, None):
            error = await self._post(bot, update)
            if error is None:
                return True
            if bot.webhook is not None:
                bot.webhook.last_error_date = utc_now()
                bot.webhook.last_error_message = error
            if delay is None:
                return False
            await asyncio.sleep(delay)
        return False

    async def _post(self, bot: BotState, update: PendingUpdate) -> str | None:
        """POST one update; None on a 2xx answer, else the error as getWebhookInfo shows it."""
        hook = bot.webhook
        if hook is None or self._session is None:
            return "Webhook was removed"
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with self._session.post(hook.url, json=update.payload, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    return None
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"Connection failed: {type(exc).__name__}"
