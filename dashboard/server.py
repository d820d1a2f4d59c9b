"""Serving the dashboard in the bot's process (the runner starts it beside polling)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from dashboard.app import build_app
from services.org import Policy

SHUTDOWN_SECONDS = 2.0


@contextlib.asynccontextmanager
async def run_dashboard(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: Policy,
    *,
    port: int | None = None,
    secret: bytes | None = None,
) -> AsyncIterator[str]:
    """Serve the dashboard for the duration of the block; yields its base URL."""
    app = build_app(settings, sessionmaker, policy, secret=secret)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS, access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, settings.dashboard_host, settings.dashboard_port if port is None else port
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    host, bound = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{bound}"
    finally:
        await runner.cleanup()
