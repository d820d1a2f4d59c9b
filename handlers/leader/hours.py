"""Confirm the hours the volunteers reported: they are booked as points."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import spend
from models import User
from services import orders
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.orders import OrderAction


async def confirm_hours(
    query: CallbackQuery,
    callback_data: OrderAction,
    session: AsyncSession,
    user: User,
    roles: Roles,
    policy: Policy,
) -> None:
    rules = PointsRules.from_policy(policy.points)
    await orders.confirm_hours(session, callback_data.order_id, user, roles, rules=rules)
    await query.answer(_("Hours confirmed. Points have been added."))
    await spend(query)


def router() -> Router:
    r = Router(name="leader.hours")
    r.callback_query.register(confirm_hours, OrderAction.filter(F.action == "confirm_hours"))
    return r
