"""派单: a dispatcher of the order's lead unit presses a team on the dispatch card."""

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
from views.dispatch import DispatchTo, dispatched_lines


async def dispatch_chosen(
    query: CallbackQuery,
    callback_data: DispatchTo,
    session: AsyncSession,
    user: User,
    roles: Roles,
    ctx: Ctx,
) -> None:
    # Whether this person may dispatch this order is the service's first check.
    await orders.dispatch(session, ctx, callback_data.order_id, user, roles, callback_data.team_id)
    await query.answer(_("Dispatched."))
    found = await screens.dispatch_facts(session, callback_data.order_id)
    if found is not None:
        await edit_card(query, dispatched_lines(found))


def router() -> Router:
    r = Router(name="dispatch.pick")
    r.callback_query.register(dispatch_chosen, DispatchTo.filter())
    return r
