"""Where: at home in the village, a shared location, or a written address."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import too_long
from handlers.ordering.flow import advance, asks, enter, unexpected
from handlers.ordering.states import OrderForm
from services import order_form
from views.menu import BTN_BACK
from views.order_form import place_keyboard

ADDRESS_MAX = 200


@asks(
    OrderForm.place,
    hint=lambda: _("Please tap a button, share your location, or write the address."),
)
async def ask_place(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    station = await order_form.station(session, data["station_id"])
    await message.answer(
        _("Where should the volunteers come? Tap a button, or write the address."),
        reply_markup=place_keyboard(station, proxy=bool(data.get("proxy"))),
    )


async def got_location(message: Message, state: FSMContext, session: AsyncSession) -> None:
    assert message.location is not None
    # The pin itself goes to the leader and the volunteer (services/outbox.py); words for
    # the way (a house number) can be added at the summary.
    await state.update_data(
        latitude=message.location.latitude, longitude=message.location.longitude, address=None
    )
    await advance(message, state, session, OrderForm.place)


async def got_address(message: Message, state: FSMContext, session: AsyncSession) -> None:
    text = (message.text or "").strip()
    if await too_long(message, text, ADDRESS_MAX):
        return
    home = text.startswith("🏠")
    await state.update_data(address=None if home else text, latitude=None, longitude=None)
    await advance(message, state, session, OrderForm.place)


async def got_way(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Words written at the summary after a shared location: the way there (a house number,
    a landmark), shown beside the pin."""
    data = await state.get_data()
    if data.get("latitude") is None:
        await unexpected(message, state)
        return
    text = (message.text or "").strip()
    if await too_long(message, text, ADDRESS_MAX):
        return
    await state.update_data(address=text or None)
    await enter(message, state, session, OrderForm.confirm)


def router() -> Router:
    r = Router(name="ordering.place")
    r.message.register(got_location, OrderForm.place, F.location)
    r.message.register(got_address, OrderForm.place, F.text, F.text != BTN_BACK)
    r.message.register(got_way, OrderForm.confirm, F.text, F.text != BTN_BACK)
    return r
