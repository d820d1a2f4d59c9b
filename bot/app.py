"""Factories for the Bot and the Dispatcher; every process (and every test) builds its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.logs import LogContextMiddleware
from bot.media import MediaStore
from bot.middlewares import (
    DbSessionMiddleware,
    InboxMiddleware,
    PrivateChatOnlyMiddleware,
    ThrottleMiddleware,
    UserLocaleMiddleware,
    UserMiddleware,
)
from bot.notices import make_renderer
from bot.retry import IgnoreNotModifiedMiddleware, RetryAfterMiddleware
from bot.send_limits import RateLimits
from bot.sender import Sender
from bot.settings import Settings
from bot.shared_limits import SharedLimits
from scheduler import Clock, Jobs, Scheduler
from services.context import Ctx
from services.i18n import LOCALES_DIR, compile_catalogs
from services.org import Policy
from services.quiet import QuietHours


def build_bot(token: str, api_base: str = "") -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    )
    session.middleware(RetryAfterMiddleware())
    session.middleware(IgnoreNotModifiedMiddleware())
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=None))


def build_i18n(default_locale: str) -> I18n:
    compile_catalogs()
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def _storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    # Several workers share conversations through Redis; one process keeps them in memory.
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url)
        # A worker that died holding a chat's lock must not hold that chat up for aiogram's
        # default minute: the lock lasts as long as the inbox waits for a dead worker.
        lock = {"timeout": settings.inbox_stale_after}
        return storage, RedisEventIsolation(storage.redis, lock_kwargs=lock)
    return MemoryStorage(), SimpleEventIsolation()


def build_dispatcher(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], policy: Policy
) -> Dispatcher:
    from handlers import get_routers

    storage, isolation = _storage(settings)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    # Outermost of ours, so every log line of an update names the update and its user.
    dp.update.outer_middleware(LogContextMiddleware())
    dp["settings"] = settings
    dp["policy"] = policy
    # What services need besides the database, built once; handlers and jobs pass it on.
    dp["ctx"] = Ctx(policy=policy, tz=settings.tz)
    dp["media"] = MediaStore(settings.media_dir)
    dp["sessionmaker"] = sessionmaker
    # One poller per bot (Telegram allows no more): it records updates once handled and
    # redoes whatever a dead predecessor left unfinished. Webhook workers claim each update
    # first and wait `inbox_stale_after` for one another.
    polling = not settings.webhook_url
    stale = timedelta(seconds=settings.inbox_stale_after)
    dp.update.outer_middleware(
        InboxMiddleware(sessionmaker, settings.worker_name, stale, exclusive=polling)
    )
    # Several workers count a flood together, in the Redis that holds the conversations.
    redis = getattr(storage, "redis", None)
    dp.update.outer_middleware(
        ThrottleMiddleware(settings.flood_limit, settings.flood_window, redis=redis)
    )
    # Groups get a brief "write to me privately" and nothing else, before any query.
    dp.update.outer_middleware(PrivateChatOnlyMiddleware())
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(UserMiddleware(frozenset(settings.admin_ids)))
    i18n = build_i18n(settings.default_locale)
    dp["i18n"] = i18n
    UserLocaleMiddleware(i18n).setup(dp)
    dp.include_routers(*get_routers())
    return dp


SHUTDOWN_GRACE = 10.0


def attach_sender(
    dp: Dispatcher,
    bot: Bot,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    limits: RateLimits | None = None,
) -> Sender:
    """Run the outbox sender beside the dispatcher: started and stopped with it."""
    quiet = QuietHours(settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
    limits = limits or RateLimits(
        global_per_second=settings.send_rate,
        per_chat_per_second=settings.send_rate_per_chat,
        per_chat_burst=settings.send_burst_per_chat,
    )
    # With Redis there may be several workers: Telegram's limits are the bot's, shared.
    shared = SharedLimits.from_url(settings.redis_url, limits) if settings.redis_url else None
    sender = Sender(
        bot,
        sessionmaker,
        make_renderer(dp["i18n"], settings.tz),
        limits=limits,
        quiet=quiet,
        worker=settings.worker_name,
        single_instance=settings.is_sqlite,
        shared=shared,
    )
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def on_startup() -> None:
        stop.clear()
        tasks.append(asyncio.create_task(sender.run(stop), name="outbox-sender"))

    async def on_shutdown() -> None:
        # Let the batch in hand finish (a row left in `sending` is retried after a restart),
        # but never hold shutdown hostage to a long `retry_after`.
        stop.set()
        sender.poke()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
        tasks.clear()
        if shared is not None:
            await shared.close()

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    dp["sender"] = sender
    return sender


def attach_scheduler(
    dp: Dispatcher,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    clock: Clock | None = None,
    interval: float | None = None,
) -> Scheduler:
    """Run the scheduler (reminders, escalation, digests, broadcasts) beside the dispatcher:
    started inside the running loop on start-up, stopped on shutdown. Queued notices wake
    the sender, if one is attached."""

    def wake_sender() -> None:
        sender = dp.workflow_data.get("sender")
        if sender is not None:
            sender.poke()

    jobs = Jobs(
        sessionmaker,
        ctx=dp["ctx"],
        clock=clock,
        digest_time=settings.digest_time,
        weekly_day=settings.weekly_summary_weekday,
        worker=settings.worker_name,
        single_instance=settings.is_sqlite,
        on_queued=wake_sender,
    )
    scheduler = Scheduler(jobs, interval=interval or settings.scheduler_interval)

    async def on_startup() -> None:
        await scheduler.start()

    async def on_shutdown() -> None:
        await scheduler.stop(SHUTDOWN_GRACE)

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    dp["scheduler"] = scheduler
    return scheduler
