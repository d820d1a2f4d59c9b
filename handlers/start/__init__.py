"""/start: greet, register a new resident (village → name → phone), or open an invite."""

from __future__ import annotations

from aiogram import Router

from handlers.start import greet, name, phone, unexpected, village


def router() -> Router:
    r = Router(name="start")
    r.include_routers(
        greet.router(), village.router(), name.router(), phone.router(), unexpected.router()
    )
    return r
