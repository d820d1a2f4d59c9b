"""When: today, tomorrow, this week or a date; then morning or afternoon."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings, picked, typed_answers
from handlers.ordering.flow import advance, asks
from handlers.ordering.states import OrderForm
from models import Slot, utcnow
from views.format import slot_label
from views.menu import BTN_BACK, choices_keyboard
from views.order_form import BTN_ASAP, day_label, days_ahead, when_choices


def _today(settings: Settings) -> date:
    return utcnow().astimezone(settings.tz).date()


async def as_soon_as_possible(state: FSMContext, settings: Settings) -> None:
    """«As soon as possible»: today, any time (the team takes the first free slot)."""
    today = _today(settings).isoformat()
    await state.update_data(day=today, this_week=False, slot=Slot.ANY.value, asap=True)


@asks(OrderForm.day)
async def ask_day(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await message.answer(_("When would suit you?"), reply_markup=choices_keyboard(when_choices()))


async def day_chosen(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    today = _today(settings)
    choice = message.text
    if choice == BTN_ASAP:
        await as_soon_as_possible(state, settings)
        await advance(message, state, session, OrderForm.slot)  # the slot is answered too
        return
    await state.update_data(asap=False)
    if choice == _("Pick a date"):
        await state.set_state(OrderForm.pick_day)
        await message.answer(
            _("Pick a date:"),
            reply_markup=choices_keyboard([day_label(d) for d in days_ahead(today)], columns=3),
        )
        return
    days = {_("Today"): today, _("Tomorrow"): today + timedelta(days=1), _("This week"): None}
    if choice not in days:
        await message.answer(_("Please tap one of the buttons below."))
        return
    day = days[choice]
    await state.update_data(day=day.isoformat() if day else None, this_week=day is None)
    await advance(message, state, session, OrderForm.day)


async def date_chosen(
    message: Message, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    labels = {day_label(d): d for d in days_ahead(_today(settings))}
    if day := await picked(message, labels):
        await state.update_data(day=day.isoformat(), this_week=False)
        await advance(message, state, session, OrderForm.pick_day)


@asks(OrderForm.slot)
async def ask_slot(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await message.answer(
        _("Morning or afternoon?"),
        reply_markup=choices_keyboard(
            [slot_label(s) for s in (Slot.MORNING, Slot.AFTERNOON, Slot.ANY)], columns=3
        ),
    )


async def slot_chosen(message: Message, state: FSMContext, session: AsyncSession) -> None:
    if slot := await picked(message, {slot_label(s): s for s in Slot}):
        await state.update_data(slot=slot.value)
        await advance(message, state, session, OrderForm.slot)


def router() -> Router:
    answers = {
        OrderForm.day: day_chosen,
        OrderForm.pick_day: date_chosen,
        OrderForm.slot: slot_chosen,
    }
    return typed_answers("ordering.when", answers, BTN_BACK)
