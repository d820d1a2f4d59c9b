"""Shared pieces of the aiohttp application: where the world lives, how errors look."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from simulator.errors import ApiError
from simulator.state import World
from simulator.webhook import WebhookManager

WORLD = web.AppKey("world", World)
WEBHOOKS = web.AppKey("webhooks", WebhookManager)

# Chinese stays readable in responses and logs; Telegram also answers in raw UTF-8.
dumps = functools.partial(json.dumps, ensure_ascii=False)


def ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=dumps)


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.as_json(), status=error.status, dumps=dumps)
