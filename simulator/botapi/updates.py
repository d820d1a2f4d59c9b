"""Identity and updates: getMe, long polling with getUpdates, and the webhook methods."""

from __future__ import annotations

import re
from typing import Any

from telegram import WebhookInfo

from simulator.botapi.call import (
    Call,
    method,
)
from simulator.errors import ApiError
from simulator.state import BotState, WebhookConfig
from simulator.wire import bot_user

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


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
