"""The team's open orders (leaders and the office) and the village's (station heads)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from services import orders, screens
from services.people import Roles
from views.menu import BTN_TEAM_ORDERS, BTN_VILLAGE_ORDERS
from views.orders import accepted_keyboard, card_keyboard, history_keyboard, order_lines

SHOWN = 10


async def team_orders(message: Message, session: AsyncSession, roles: Roles) -> None:
    if not roles.leads_teams and not roles.is_office:
        await message.answer(_("Only team leaders can see team orders."))
        return
    found = await orders.team_open_orders(session, roles.leads_teams)
    if roles.is_office:
        found += await orders.office_open_orders(session, roles.office_towns)
    await _list(message, session, found, leader=True)


async def village_orders(message: Message, session: AsyncSession, roles: Roles) -> None:
    if not roles.head_of_stations and not roles.is_office:
        await message.answer(_("Only station heads can see village orders."))
        return
    found = await orders.station_orders(session, roles.head_of_stations, open_only=True)
    await _list(message, session, found, leader=False)


async def _list(
    message: Message, session: AsyncSession, found: list[Order], *, leader: bool
) -> None:
    if not found:
        await message.answer(_("No open orders right now."))
        return
    for order in found[:SHOWN]:
        # The phone is for whoever took the order, not for everyone who oversees it.
        lines = order_lines(
            await screens.order_facts(session, order),
            with_phone=leader and order.accepted_at is not None,
        )
        if not leader:
            markup = history_keyboard(order.id)
        elif order.status.value == "routed":
            markup = card_keyboard(order, has_voice=False)
        else:
            markup = accepted_keyboard(order)
        await message.answer("\n".join(lines), reply_markup=markup)
    if len(found) > SHOWN:
        await message.answer(_("… and {n} more.").format(n=len(found) - SHOWN))


def router() -> Router:
    r = Router(name="leader.lists")
    r.message.register(team_orders, F.text == BTN_TEAM_ORDERS)
    r.message.register(village_orders, F.text == BTN_VILLAGE_ORDERS)
    return r
