"""The institute office sorts a «其他需求» order: an area, then a service; then it is
received and routed like any other order."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import edit_card
from models import User
from services import orders, screens
from services.context import Ctx
from services.people import Roles
from views.dispatch import (
    TriageArea,
    TriageTo,
    areas_keyboard,
    categories_keyboard,
    triage_lines,
    triaged_line,
)


async def area_opened(
    query: CallbackQuery,
    callback_data: TriageArea,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    """Show the services of the pressed area (area 0: the areas again). Only the office
    sees the order (the service refuses anyone else); nothing changes until a service is
    picked."""
    order = await orders.need_to_triage(session, callback_data.order_id, user, roles)
    found = await screens.triage_facts(session, order.id)
    if found is None:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    lines = triage_lines(found.facts)
    opened = await screens.area_categories(session, order.id, callback_data.area_id)
    if opened is None:  # area 0, or not one of the town's: the areas again
        await edit_card(query, lines, areas_keyboard(found))
        return
    await edit_card(query, lines, categories_keyboard(order.id, opened))


async def category_chosen(
    query: CallbackQuery,
    callback_data: TriageTo,
    session: AsyncSession,
    user: User,
    roles: Roles,
    ctx: Ctx,
) -> None:
    order = await orders.triage(
        session, ctx, callback_data.order_id, user, roles, callback_data.category_id
    )
    await query.answer(_("Sorted."))
    found = await screens.triage_facts(session, order.id)
    if found is not None:
        await edit_card(query, [*triage_lines(found.facts), triaged_line(found.facts.category)])


def router() -> Router:
    r = Router(name="dispatch.triage")
    r.callback_query.register(area_opened, TriageArea.filter())
    r.callback_query.register(category_chosen, TriageTo.filter())
    return r
