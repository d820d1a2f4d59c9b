"""aiogram Routers, one file per conversation. Built fresh by `get_routers()` every time,
because a module-level router can be attached to only one Dispatcher."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        activities,
        broadcast,
        chat_member,
        dispatch,
        enrol,
        errors,
        language,
        leader,
        leftovers,
        me,
        menu,
        my_orders,
        ordering,
        people,
        privacy,
        reports,
        staff,
        start,
        volunteer,
    )

    # Order matters: /start (with its deep links) first; the menu's fall-backs last.
    return [
        errors.router(),
        menu.cancel_router(),  # /cancel works in every step of every conversation
        start.router(),
        language.router(),
        privacy.router(),
        ordering.router(),
        leader.router(),
        volunteer.router(),
        my_orders.router(),
        staff.router(),
        broadcast.router(),
        chat_member.router(),
        enrol.router(),
        activities.router(),
        me.router(),
        reports.router(),
        dispatch.router(),
        people.router(),
        leftovers.router(),  # a step's button from a keyboard left over: the menu again
        ordering.heard.menu_router(),  # words, voice or a photo at the menu: a need
        menu.router(),
    ]
