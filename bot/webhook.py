"""Webhook mode: Telegram (or a self-hosted Bot API server) POSTs updates to us.

Used when WEBHOOK_URL is set, typically with several workers behind a load balancer. The
secret-token header is checked (401 otherwise); an update is answered only after it was
handled, so a crash mid-handler makes Telegram deliver it again, and the inbox keeps a
redelivery from being handled twice: one already handled is acknowledged, one another
worker holds is answered 503 (Telegram tries again later) until that worker finishes it or
its claim goes stale. Workers share one port (SO_REUSEPORT), so N processes on one host
need no balancer of their own. Health, readiness and counters are served beside it.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.polling import parse_update
from bot.settings import Settings
from services.inbox import Claim, claim_update

log = logging.getLogger("civic_dispatch.webhook")


def health_routes(app: web.Application, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_request: web.Request) -> web.Response:
        try:
            async with sessionmaker() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure means "not ready"
            return web.Response(status=503, text=f"database unavailable: {type(exc).__name__}\n")
        return web.Response(text="ready\n")

    async def scrape(_request: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", scrape)


class InboxRequestHandler(SimpleRequestHandler):
    """aiogram's handler, with the inbox claim taken before the update is fed."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        worker: str,
        stale_after: timedelta,
    ) -> None:
        super().__init__(dp, bot, handle_in_background=False, secret_token=secret_token)
        self.sessionmaker, self.worker, self.stale_after = sessionmaker, worker, stale_after

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        # Compared as bytes: compare_digest refuses a str with non-ASCII characters, and a
        # forged header must be a 401 like any other wrong secret, not a 500.
        if not self.secret_token:
            return True
        given = telegram_secret_token.encode("utf-8", "replace")
        return hmac.compare_digest(given, self.secret_token.encode("utf-8"))

    async def _handle_request(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            payload: Any = await request.json(loads=bot.session.json_loads)
        except ValueError:  # not JSON, or not UTF-8
            return web.Response(status=400, text="not JSON\n")
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int):
            return web.Response(status=400, text="not an update\n")
        # Parsed before the inbox claim: one aiogram cannot read is skipped with a 200, so
        # Telegram stops sending it, and no claim is left unfinished.
        update = parse_update(payload, bot)
        if update is None:
            return web.json_response({})
        async with self.sessionmaker() as session:
            claim = await claim_update(session, update_id, self.worker, self.stale_after)
        if claim is Claim.DONE:
            metrics.UPDATES_DUPLICATE.inc()
            return web.json_response({})
        if claim is Claim.IN_HAND:
            metrics.UPDATES_IN_HAND_ELSEWHERE.inc()
            return web.Response(status=503, headers={"Retry-After": "1"}, text="in hand\n")
        result: TelegramMethod[Any] | None = await self.dispatcher.feed_webhook_update(
            bot, update, inbox_claimed=True
        )
        return web.Response(body=self._build_response_writer(bot=bot, result=result))


def webhook_app(
    dp: Dispatcher, bot: Bot, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> web.Application:
    app = web.Application()
    InboxRequestHandler(
        dp,
        bot,
        secret_token=settings.webhook_secret,
        sessionmaker=sessionmaker,
        worker=settings.worker_name,
        stale_after=timedelta(seconds=settings.inbox_stale_after),
    ).register(app, path=webhook_path(settings))
    health_routes(app, sessionmaker)
    setup_application(app, dp, bot=bot)
    return app


def webhook_path(settings: Settings) -> str:
    return urlparse(settings.webhook_url).path or "/webhook"


async def run_webhook(
    dp: Dispatcher,
    bot: Bot,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    stop: asyncio.Event,
) -> None:
    # Keep-alive connections of the Bot API server must not hold a shutdown for a minute.
    runner = web.AppRunner(webhook_app(dp, bot, settings, sessionmaker), shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port, reuse_port=True)
    await site.start()
    try:
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=dp.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        log.info(
            "webhook at %s, listening on %s:%s",
            settings.webhook_url,
            settings.webhook_host,
            settings.webhook_port,
        )
        await stop.wait()
    finally:
        await runner.cleanup()
