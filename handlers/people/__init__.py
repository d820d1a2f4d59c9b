"""👥 Residents: a station head or the office finds a person of their villages, switches
large print on for them, marks their priority group; the office books an hours correction
or a commendation bonus."""

from __future__ import annotations

from aiogram import Router

from handlers.people import booking, card, find


def router() -> Router:
    r = Router(name="people")
    r.include_routers(find.router(), card.router(), booking.router())
    return r
