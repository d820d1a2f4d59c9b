"""Where an update's CPU time goes, phase by phase: for the benchmark of the ordering
conversation's steps (`python -m bench.steps`), off unless the bot is started with
`STEP_COSTS=<file>`.

Each update is metered on its own (a context variable follows its task): the inbox, the
user and their roles, the conversation state (FSM), the handler's own work (its queries,
writes and views), its replies to Telegram, the filters tried in finding the handler, the
closing of the update's database session, and the rest (aiogram's dispatch, the other
middlewares). The outbox sender's batches are metered the same way. One JSON
line per update or batch is appended to the file: `{"kind", "update", "phases": {name: s}}`.
Times are process CPU seconds (`time.process_time`, the database driver's thread included),
so they mean something only when updates do not overlap: the benchmark sends one at a time.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.middlewares import Handler, InboxMiddleware, UserMiddleware

P = ParamSpec("P")
T = TypeVar("T")
OTHER = "aiogram and the rest"


class Meter:
    """The exclusive CPU time of each phase of one update (a phase inside another is not
    counted twice)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.kept = True
        self._inner: list[float] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.process_time()
        self._inner.append(0.0)
        try:
            yield
        finally:
            took = time.process_time() - began
            inner = self._inner.pop()
            self.phases[name] = self.phases.get(name, 0.0) + took - inner
            if self._inner:
                self._inner[-1] += took


_meter: ContextVar[Meter | None] = ContextVar("step_cost_meter", default=None)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Count what runs inside as `name` in the current update's meter, if any."""
    meter = _meter.get()
    if meter is None:
        yield
        return
    with meter.phase(name):
        yield


def metered(name: str, fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with phase(name):
            return await fn(*args, **kwargs)

    return wrapper


class CostLog:
    """The file the meters are written to, one JSON line each."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def meter(self, kind: str, update: int | None = None) -> Iterator[Meter]:
        """Meter what runs inside; written unless `meter.kept` is set False (an idle turn)."""
        meter = Meter()
        token = _meter.set(meter)
        try:
            with meter.phase(OTHER):
                yield meter
        finally:
            _meter.reset(token)
            if meter.kept:
                line = {"kind": kind, "update": update, "phases": meter.phases}
                with self.path.open("a") as out:
                    out.write(json.dumps(line) + "\n")


class CostMiddleware(BaseMiddleware):
    """With `log`, outermost: one meter per update. Without, inner, around the handler
    alone: its own queries, writes and views."""

    def __init__(self, log: CostLog | None = None) -> None:
        self.log = log

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self.log is None:
            with phase("handler: queries, writes, views"):
                return await handler(event, data)
        with self.log.meter("update", getattr(event, "update_id", None)):
            return await handler(event, data)


class RequestCostMiddleware(BaseRequestMiddleware):
    """Every Bot API call made inside an update: the reply."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        with phase("reply (Bot API)"):
            return await make_request(bot, method)


FSM_METHODS = ("set_state", "get_state", "set_data", "get_data", "update_data")


def install_from_env(dp: Dispatcher, bot: Bot, sender: Any) -> None:
    """With STEP_COSTS set, meter every update and every outbox batch into that file."""
    path = os.environ.get("STEP_COSTS")
    if not path:
        return
    log = CostLog(Path(path))
    # Outermost of all, before aiogram's own FSM middleware.
    dp.update.outer_middleware._middlewares.insert(0, CostMiddleware(log))
    for observer in (dp.message, dp.callback_query):
        observer.middleware(CostMiddleware())
    bot.session.middleware(RequestCostMiddleware())
    storage = dp.fsm.storage
    for name in FSM_METHODS:
        if hasattr(storage, name):
            setattr(storage, name, metered("FSM", getattr(storage, name)))
    isolation = dp.fsm.events_isolation
    isolation.lock = _metered_lock(isolation.lock)  # type: ignore[method-assign]
    for m in dp.update.outer_middleware:
        if isinstance(m, InboxMiddleware):
            m._ours = metered("inbox", m._ours)  # type: ignore[method-assign]
            m._record = metered("inbox", m._record)  # type: ignore[method-assign]
        elif isinstance(m, UserMiddleware):
            m.load = metered("user and roles", m.load)  # type: ignore[method-assign]
    # Two parts of "the rest": finding the handler (every filter tried on the way), and
    # opening and closing the update's database session.
    HandlerObject.check = metered("routing: filters", HandlerObject.check)  # type: ignore[method-assign]
    AsyncSession.close = metered("DB session close", AsyncSession.close)  # type: ignore[method-assign]
    drain = sender.drain_once

    async def drain_metered() -> int:
        with log.meter("outbox") as meter:
            done = int(await drain())
            meter.kept = done > 0
            return done

    sender.drain_once = drain_metered


def _metered_lock(lock: Callable[..., Any]) -> Callable[..., Any]:
    """The per-chat lock around each update counts as FSM."""

    @functools.wraps(lock)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        inner = lock(*args, **kwargs)

        class Metered:
            async def __aenter__(self) -> Any:
                with phase("FSM"):
                    return await inner.__aenter__()

            async def __aexit__(self, *exc: Any) -> Any:
                with phase("FSM"):
                    return await inner.__aexit__(*exc)

        return Metered()

    return wrapper
