"""Direct replies wait out a short flood-control pause instead of failing.

aiogram raises TelegramRetryAfter on a 429 and never retries. A reply to the person who
just tapped should still arrive, so short pauses are waited out here; a long one is raised
(the outbox sender reschedules its own rows).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import Response

log = logging.getLogger("civic_dispatch.retry")
EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)
# pydantic caches parametrised generic models only weakly, and aiogram asks for Response[T]
# on every call: once the garbage collector has taken the class, the next call builds it
# again (~4 ms for Response[list[Update]], a schema of every update type; under load this
# was a fifth of the bot's CPU). One strong reference per result type keeps each built once.
_RESPONSE_TYPES: dict[Any, Any] = {}


def _keep_response_type(method: TelegramMethod[Any]) -> None:
    returning = method.__returning__
    if returning not in _RESPONSE_TYPES:
        # A type known only at run time: no static type to check it against.
        _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, max_wait: float = 5.0, attempts: int = 3) -> None:
        self.max_wait, self.attempts = max_wait, attempts

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Response[Any]:
        _keep_response_type(method)  # every request passes here first
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if exc.retry_after > self.max_wait or attempt == self.attempts:
                    raise
                log.info("flood control on %s: waiting %ss", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")  # the loop returns or raises


class IgnoreNotModifiedMiddleware(BaseRequestMiddleware):
    """Editing a message into what it already is (a double tap that removes buttons twice)
    is not an error for the person: Telegram says "message is not modified"; we move on."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[Any],
        bot: Bot,
        method: TelegramMethod[Any],
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if "message is not modified" not in exc.message or not isinstance(method, EDITS):
                raise
            return True
