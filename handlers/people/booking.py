"""The office books an hours correction or a commendation bonus: how much, then why."""

from __future__ import annotations

from decimal import Decimal

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import too_long
from handlers.people.states import PeopleForm
from models import User
from services import residents
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.format import num
from views.menu import choices_keyboard, main_menu
from views.people import PersonBooking

REASON_MAX = 200


def _ask_amount(bonus: bool) -> str:
    if bonus:
        return _("How many points for the commendation? (e.g. 10)")
    return _("How many hours to add? Write a minus to take hours away (e.g. 1.5 or -2).")


async def start(
    query: CallbackQuery,
    callback_data: PersonBooking,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    await residents.check_booking(session, roles, callback_data.user_id)
    await query.answer()
    await state.set_state(PeopleForm.amount)
    await state.update_data(person=callback_data.user_id, bonus=callback_data.bonus)
    if isinstance(query.message, Message):
        await query.message.answer(
            _ask_amount(callback_data.bonus), reply_markup=choices_keyboard([], back=False)
        )


async def amount(message: Message, state: FSMContext) -> None:
    bonus = bool((await state.get_data()).get("bonus"))
    if not message.text:
        await message.answer(_ask_amount(bonus))
        return
    value = residents.parse_correction(message.text, bonus=bonus)
    await state.update_data(amount=str(value))
    await state.set_state(PeopleForm.reason)
    await message.answer(_("Why? One line; it is kept with the entry."))


async def reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    policy: Policy,
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("Why? One line; it is kept with the entry."))
        return
    if await too_long(message, text, REASON_MAX):
        return
    data = await state.get_data()
    value, bonus = Decimal(data["amount"]), bool(data["bonus"])
    entry = await residents.book(
        session,
        roles,
        user,
        int(data["person"]),
        amount=value,
        reason=text,
        bonus=bonus,
        rules=PointsRules.from_policy(policy.points),
    )
    await state.clear()
    said = (
        _("Booked: {points} points.").format(points=num(entry.points))
        if bonus
        else _("Booked: {hours} hours, {points} points.").format(
            hours=num(entry.hours), points=num(entry.points)
        )
    )
    await message.answer(said, reply_markup=main_menu(roles))


def router() -> Router:
    r = Router(name="people.booking")
    r.callback_query.register(start, PersonBooking.filter())
    r.message.register(amount, PeopleForm.amount)
    r.message.register(reason, PeopleForm.reason)
    return r
