"""The end of a form that makes an order: say the number, or why not, with the menu back."""

from __future__ import annotations

from collections.abc import Awaitable

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.common import reply, spend
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
        await with_menu(query, _(exc.message).format(**exc.params), roles)
        return None
    await state.clear()
    return order


async def told(query: CallbackQuery, text: str, roles: Roles) -> None:
    """Say `text` (the order number), then take the buttons away: killed in between, the
    person can still press again and be told; buttons gone and no number would leave them
    not knowing their order exists."""
    await with_menu(query, text, roles)
    await spend(query)


async def with_menu(query: CallbackQuery, text: str, roles: Roles) -> None:
    """Say `text` below the tapped message, with the main menu back."""
    await reply(query, text, main_menu(roles))
