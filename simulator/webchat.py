"""The web chat: a phone-like page where a person chats with the bot as any persona."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from aiohttp import web

from simulator.appkeys import WORLD
from simulator.state import Persona

HERE = Path(__file__).resolve().parent
TEMPLATE = Template((HERE / "templates" / "index.html").read_text(encoding="utf-8"))


def avatar_hue(persona_id: int) -> int:
    """A stable colour per persona, so people are easy to tell apart in the list."""
    return (persona_id * 47) % 360


def persona_item(persona: Persona) -> str:
    name = html.escape(persona.full_name)
    label = html.escape(persona.label or "")
    initial = html.escape(persona.first_name[:1])
    return (
        f'<li><a class="persona" href="#user={persona.id}" data-user="{persona.id}">'
        f'<span class="avatar" style="--hue:{avatar_hue(persona.id)}">{initial}</span>'
        f'<span class="who"><b>{name}</b><small>{label}</small></span></a></li>'
    )


async def index(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    items = "\n".join(persona_item(p) for p in world.personas.values())
    bot = next(iter(world.bots.values()), None)
    page = TEMPLATE.substitute(
        persona_items=items,
        bot_name=html.escape(bot.first_name if bot else "Bot"),
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_static("/static", HERE / "static")
