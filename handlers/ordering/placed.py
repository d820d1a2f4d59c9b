"""The end of a form that makes an order: say the number, or why not, with the menu back."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Media, Settings, reply, spend
from models import Order, User
from services import order_form, orders
from services.context import Ctx
from services.errors import DomainError
from services.people import Roles
from views.menu import main_menu


@dataclass(frozen=True)
class Placing:
    """Who places an order, under which rules, and where what came with it is kept."""

    session: AsyncSession
    user: User
    roles: Roles
    settings: Settings
    ctx: Ctx
    bot: Bot
    media: Media

    async def order(
        self, query: CallbackQuery, state: FSMContext, data: dict[str, Any], **fields: Any
    ) -> Order | None:
        """The order a form's answers `data` (its resident, attachments and token) and
        `fields` make; None, having said why, when it is refused."""
        # Downloaded now that the order is made (bot/media.py save_kept), so a photo sent and
        # then gone back over leaves no file behind.
        attachments = data.get("attachments", [])
        kept, fresh = await self.media.save_kept(self.bot, attachments, query.from_user.id)
        making = orders.create_order(
            self.session,
            self.ctx,
            resident=await order_form.resident(self.session, data["resident_id"]),
            placed_by=self.user,
            roles=self.roles,
            attachments=kept,
            client_token=data["token"],
            max_open=self.settings.max_open_orders,
            **fields,
        )
        order = await placed(query, state, self.roles, making)
        if order is None:  # refused: the files downloaded for it go too
            self.media.discard(fresh)
        return order


async def placing(
    query: CallbackQuery,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    ctx: Ctx,
    bot: Bot,
    media: Media,
) -> dict[str, Placing]:
    """A filter that hands the handler that places an order its `placing`."""
    return {"placing": Placing(session, user, roles, settings, ctx, bot, media)}


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
