"""Factories for the Bot and the Dispatcher; every process (and every test) builds its own."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.i18n import I18n
from services.org import Policy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import DbSessionMiddleware, UserLocaleMiddleware, UserMiddleware
from bot.settings import Settings
from services.i18n import LOCALES_DIR, compile_catalogs


def build_bot(token: str, api_base: str = "") -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else None
    return Bot(token=token, session=session, default=DefaultBotProperties(parse_mode=None))


def build_i18n(default_locale: str) -> I18n:
    compile_catalogs()
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def _storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    # Several workers share conversations through Redis; one process keeps them in memory.
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        storage = RedisStorage.from_url(settings.redis_url)
        return storage, RedisEventIsolation(storage.redis)
    return MemoryStorage(), SimpleEventIsolation()


def build_dispatcher(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], policy: Policy
) -> Dispatcher:
    from handlers import get_routers

    storage, isolation = _storage(settings)
    dp = Dispatcher(storage=storage, events_isolation=isolation)
    dp["settings"] = settings
    dp["policy"] = policy
    dp["sessionmaker"] = sessionmaker
    dp.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    dp.update.outer_middleware(UserMiddleware(frozenset(settings.admin_ids)))
    UserLocaleMiddleware(build_i18n(settings.default_locale)).setup(dp)
    dp.include_routers(*get_routers())
    return dp
