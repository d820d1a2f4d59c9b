"""Ordering on a resident's behalf: their name, phone and village, then the order form."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import picked, typed_answers
from handlers.ordering.flow import advance, asks, enter
from handlers.ordering.states import OrderForm, ProxyForm
from models import User
from services import orders
from services.order_form import proxy_stations
from services.people import Roles
from views.format import by_name
from views.menu import BTN_BACK, choices_keyboard
from views.order_form import BTN_NO_PHONE

NAME_MAX = 32


@asks(ProxyForm.name)
async def ask_name(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await message.answer(_("The resident's name?"))


async def got_name(message: Message, state: FSMContext, session: AsyncSession) -> None:
    name = (message.text or "").strip()
    if not name or len(name) > NAME_MAX:
        await message.answer(
            _("Please write the name in at most {n} characters.").format(n=NAME_MAX)
        )
        return
    await state.update_data(proxy_name=name)
    await advance(message, state, session, ProxyForm.name)


@asks(ProxyForm.phone)
async def ask_phone(message: Message, state: FSMContext, session: AsyncSession) -> None:
    await message.answer(
        _("The resident's phone number (digits). No phone? Tap “No phone”: you are the contact."),
        reply_markup=choices_keyboard([str(BTN_NO_PHONE)], back=True),
    )


async def got_phone(
    message: Message, state: FSMContext, session: AsyncSession, roles: Roles
) -> None:
    phone: str | None = None
    if message.text != BTN_NO_PHONE:  # without one, the card names the staff who ordered
        phone = "".join(ch for ch in (message.text or "") if ch.isdigit() or ch == "+")
        if not 5 <= len(phone) <= 20:
            await message.answer(
                _("That does not look like a phone number. Digits only, or tap “No phone”.")
            )
            return
    await state.update_data(proxy_phone=phone)
    # The villages offered depend on who asks (`roles`), so this step is asked here rather
    # than through `asks`; no step goes back to it (Back from the order form cancels).
    await state.set_state(ProxyForm.village)
    stations = await proxy_stations(session, roles)
    await message.answer(
        _("Which village does the resident live in?"),
        reply_markup=choices_keyboard(by_name(stations)),
    )


async def got_village(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    station = await picked(message, by_name(await proxy_stations(session, roles)))
    if station is None:
        return
    data = await state.get_data()
    resident = await orders.create_proxy_resident(
        session,
        name=data["proxy_name"],
        phone=data["proxy_phone"],
        station_id=station.id,
        placed_by=user,
        roles=roles,
    )  # one unit of work: the resident is saved
    await state.update_data(
        resident_id=resident.id, station_id=station.id, town_id=station.parent_id, proxy=True
    )
    await enter(message, state, session, OrderForm.area)


def router() -> Router:
    answers = {ProxyForm.name: got_name, ProxyForm.phone: got_phone, ProxyForm.village: got_village}
    return typed_answers("ordering.proxy", answers, BTN_BACK)
