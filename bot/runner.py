"""The long-running process: org sync, the simulator (when there is no token), polling."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import costs
from bot.app import attach_scheduler, attach_sender, build_bot, build_dispatcher
from bot.polling import run_polling
from bot.send_limits import RateLimits
from bot.settings import Settings
from bot.webhook import run_webhook
from models.db import make_engine, make_sessionmaker
from services.org import OrgConfig, sync_org

log = logging.getLogger("civic_dispatch")

DEMO_TOKEN = "100000001:SIMULATOR-demo-token-for-local-use-only"


class PortInUse(Exception):
    """A server of ours could not listen: the one line to show, naming the setting."""

    def __init__(self, variable: str, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is in use: set {variable} to a free port "
            f"(or stop the program that holds it)"
        )


@contextmanager
def _listening(variable: str, host: str, port: int) -> Iterator[None]:
    """Turn "address already in use" while a server starts into `PortInUse`."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(variable, host, port) from None


async def set_commands(bot: Bot) -> None:
    from views.menu import bot_commands

    for locale, commands in bot_commands().items():
        language = None if locale == "zh_CN" else locale
        await bot.set_my_commands(
            [BotCommand(command=c, description=d) for c, d in commands], language_code=language
        )


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM and SIGINT ask for a clean stop: updates in hand are finished first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


@asynccontextmanager
async def _dashboard(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], cfg: OrgConfig
) -> AsyncIterator[str | None]:
    """The web dashboard in this process; prints where it is (beside the simulator's).
    Yields its URL, or None when it could not listen (the bot runs on without it)."""
    from dashboard.server import run_dashboard

    async with AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(run_dashboard(settings, sessionmaker, cfg.policy))
        except OSError as exc:  # the port is taken: the bot matters more than the dashboard
            log.error(
                "dashboard not started on %s:%s (%s); set DASHBOARD_PORT",
                settings.dashboard_host,
                settings.dashboard_port,
                exc,
            )
            yield None
            return
        public = settings.dashboard_public_url or url
        log.info("dashboard at %s", public)
        print(
            f"  Dashboard (office staff and station heads): {public}/\n"
            "  Sign in with the link the bot sends for /dashboard (or «📊 Reports»).\n",
            flush=True,
        )
        yield url


async def serve(settings: Settings, cfg: OrgConfig) -> None:
    engine = make_engine(settings.database_url)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        report = await sync_org(session, cfg)
        await session.commit()
    log.info("org config %s loaded: %s", settings.org_config, report)

    async with AsyncExitStack() as stack:
        token, api_base = settings.bot_token, settings.telegram_api_base
        if settings.use_simulator:
            from bot.demo import start_demo

            with _listening("SIMULATOR_PORT", settings.simulator_host, settings.simulator_port):
                token, api_base = await stack.enter_async_context(
                    start_demo(settings, sessionmaker, DEMO_TOKEN)
                )
        bot = build_bot(token, api_base)
        stack.push_async_callback(bot.session.close)
        dp: Dispatcher = build_dispatcher(settings, sessionmaker, cfg.policy)
        sender = attach_sender(
            dp,
            bot,
            settings,
            sessionmaker,
            RateLimits(
                global_per_second=settings.send_rate,
                per_chat_per_second=settings.send_rate_per_chat,
                per_chat_burst=settings.send_burst_per_chat,
            ),
        )
        attach_scheduler(dp, settings, sessionmaker)
        costs.install_from_env(dp, bot, sender)  # the step benchmark's meters, if asked for
        dp["dashboard_url"] = await stack.enter_async_context(
            _dashboard(settings, sessionmaker, cfg)
        )
        await set_commands(bot)
        # Everything built so far (aiogram's ~300k type objects among it) lives as long as
        # the process: out of the collector's sight, a full collection takes well under a
        # millisecond instead of ~200 ms, each of which stalled every update in hand.
        gc.collect()
        gc.freeze()
        if settings.webhook_url:
            with _listening("WEBHOOK_PORT", settings.webhook_host, settings.webhook_port):
                await run_webhook(dp, bot, settings, sessionmaker, _stop_on_signals())
        else:
            await bot.delete_webhook(drop_pending_updates=False)
            await run_polling(dp, bot, _stop_on_signals())
    await engine.dispose()
