"""The simulator's HTTP server: the Bot API, the control API and the web chat on one port.

    async with run_simulator(limits=Limits(), port=0) as sim:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(sim.base_url)))

Any well-formed token (`<digits>:<secret>`) is accepted; its digits become the bot's id, and
`sim.add_bot(token, username=..., first_name=...)` names it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from simulator import control, webchat
from simulator.appkeys import WEBHOOKS, WORLD, error_response, ok
from simulator.botapi import METHODS, Call
from simulator.errors import ApiError
from simulator.limits import Limits, Violations
from simulator.params import Params
from simulator.state import BotState, Persona, World
from simulator.webhook import WebhookManager

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 50 * 1024 * 1024  # Telegram's upload limit for bots
SHUTDOWN_SECONDS = 2.0


async def bot_method(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    name = request.match_info["method"]
    try:
        bot = world.bot_for_token(request.match_info["token"])
        handler = METHODS.get(name.lower())
        if handler is None:
            raise ApiError.not_found()
        params = await Params.from_request(request)
        result = await handler(Call(world, bot, params, request.app[WEBHOOKS]))
    except ApiError as error:
        if error.status >= 500 or error.status == 404:
            log.info("bot API %s -> %s %s", name, error.status, error.description)
        return error_response(error)
    return ok(result)


async def bot_file(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    try:
        world.bot_for_token(request.match_info["token"])
    except ApiError as error:
        return error_response(error)
    stored = world.files.by_path(request.match_info["path"])
    if stored is None:
        return error_response(ApiError.not_found())
    return web.Response(body=stored.data, content_type=stored.mime_type)


def build_app(world: World, webhooks: WebhookManager) -> web.Application:
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[WORLD] = world
    app[WEBHOOKS] = webhooks
    app.router.add_route("*", "/bot{token}/{method}", bot_method)
    app.router.add_get("/file/bot{token}/{path:.+}", bot_file)
    control.add_routes(app)
    webchat.add_routes(app)

    async def start_webhooks(_: web.Application) -> None:
        await webhooks.start()

    async def release_waiters(_: web.Application) -> None:
        world.close()

    async def stop_webhooks(_: web.Application) -> None:
        await webhooks.close()

    app.on_startup.append(start_webhooks)
    app.on_shutdown.append(release_waiters)
    app.on_cleanup.append(stop_webhooks)
    return app


class Simulator:
    """One running simulator; `world` is its state, `base_url` where the bot points."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.world = World(limits)
        self.webhooks = WebhookManager(self.world)
        self.app = build_app(self.world, self.webhooks)
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        # handler_cancellation: a long poll whose client went away stops waiting at once.
        self._runner = web.AppRunner(
            self.app, handler_cancellation=True, shutdown_timeout=SHUTDOWN_SECONDS
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def violations(self) -> Violations:
        return self.world.violations

    def add_bot(
        self, token: str, username: str | None = None, first_name: str | None = None
    ) -> BotState:
        return self.world.add_bot(token, username, first_name)

    def add_persona(self, first_name: str, **fields: Any) -> Persona:
        return self.world.add_persona(first_name, **fields)


@contextlib.asynccontextmanager
async def run_simulator(
    *, limits: Limits | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[Simulator]:
    """Run a simulator in this event loop for the duration of the block."""
    sim = Simulator(limits)
    await sim.start(host, port)
    try:
        yield sim
    finally:
        await sim.stop()
