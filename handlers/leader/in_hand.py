"""Whether the person pressing holds the order."""

from __future__ import annotations

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import Order
from services import orders
from services.people import Roles


async def order_in_hand(
    query: CallbackQuery,
    session: AsyncSession,
    order_id: int,
    roles: Roles,
    *,
    office_may: bool = False,
) -> Order | None:
    """The order, if this person holds it (or, with `office_may`, oversees it as the town
    office); otherwise a refusal pop-up. The callback is answered either way."""
    order = await session.get(Order, order_id)
    allowed = order is not None and (
        orders.can_handle(roles, order) or (office_may and order.town_id in roles.office_towns)
    )
    if not allowed:
        await query.answer(_("This is not your team's order."), show_alert=True)
        return None
    await query.answer()
    return order
