"""The end of a form that makes an order: say the number, or why not, with the menu back."""

from __future__ import annotations

from collections.abc import Awaitable

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from models import Order
from services.errors import DomainError
from services.people import Roles
from views.menu import main_menu


async def placed(
    query: CallbackQuery, state: FSMContext, roles: Roles, making: Awaitable[Order]
) -> Order | None:
    """The order `making` makes; None, having said why, when it is refused. Not left to
    handlers/errors.py: the query is answered already, and a refusal (too many open orders)
    ends the conversation, with the menu back."""
    try:
        order = await making
    except DomainError as exc:
        await state.clear()
        await reply(query, _(exc.message).format(**exc.params), roles)
        return None
    await state.clear()
    return order


async def told(query: CallbackQuery, text: str, roles: Roles) -> None:
    """Say `text` (the order number), then take the buttons away: killed in between, the
    person can still press again and be told; buttons gone and no number would leave them
    not knowing their order exists."""
    await reply(query, text, roles)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


async def reply(query: CallbackQuery, text: str, roles: Roles) -> None:
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=main_menu(roles))
