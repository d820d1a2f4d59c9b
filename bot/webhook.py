"""Webhook mode: Telegram (or a self-hosted Bot API server) POSTs updates to us.

Used when WEBHOOK_URL is set, typically with several workers behind a load balancer. The
secret-token header is checked (401 otherwise); an update is answered only after it was
handled, so a crash mid-handler makes Telegram deliver it again, and the inbox keeps a
redelivery from being handled twice. Health, readiness and counters are served beside it.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.metrics import METRICS
from bot.settings import Settings

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

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text=METRICS.render(), content_type="text/plain")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def webhook_app(
    dp: Dispatcher, bot: Bot, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> web.Application:
    app = web.Application()
    SimpleRequestHandler(
        dp, bot, secret_token=settings.webhook_secret, handle_in_background=False
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
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
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
