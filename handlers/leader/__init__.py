"""The team leader's side: the order card (accept, decline, transfer), assigning volunteers
and a slot, confirming hours, an order's history, and the team's and village's orders."""

from __future__ import annotations

from aiogram import Router

from handlers.leader import accept, assign, decline, history, hours, lists, transfer


def router() -> Router:
    r = Router(name="leader")
    r.include_routers(
        accept.router(),
        decline.router(),
        transfer.router(),
        assign.router(),
        hours.router(),
        history.router(),
        lists.router(),
    )
    return r
