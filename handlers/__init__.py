"""aiogram Routers, one file per conversation. Built fresh by `get_routers()` every time,
because a module-level router can be attached to only one Dispatcher."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        errors,
        language,
        leader,
        menu,
        my_orders,
        ordering,
        staff,
        start,
        volunteer,
    )

    # Order matters: /start (with its deep links) first; the menu's fall-backs last.
    return [
        errors.router(),
        start.router(),
        menu.cancel_router(),
        language.router(),
        ordering.router(),
        leader.router(),
        volunteer.router(),
        my_orders.router(),
        staff.router(),
        menu.router(),
    ]
