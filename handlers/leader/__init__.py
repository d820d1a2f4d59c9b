"""The team leader's side: the order card (accept, decline, transfer), assigning volunteers
and a slot, confirming hours, an order's history, and the team's and village's orders."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.leader import accept, assign, decline, history, hours, lists, transfer


def router() -> Router:
    return include("leader", accept, decline, transfer, assign, hours, history, lists)
