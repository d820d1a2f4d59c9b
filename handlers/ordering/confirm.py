"""The summary: Confirm sends the order, Edit goes back to one part, Cancel drops it."""

from __future__ import annotations

from datetime import date

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import reply
from handlers.ordering.flow import asks, enter
from handlers.ordering.placed import Placing, placing, told, with_menu
from handlers.ordering.states import OrderForm
from models import Slot, User
from services import order_form, orders
from services.people import Roles
from views.menu import choices_keyboard
from views.order_form import (
    ConfirmOrder,
    DropOrder,
    EditOrder,
    EditPart,
    FormPart,
    edit_keyboard,
    summary_keyboard,
    summary_text,
)

EDITABLE = {
    FormPart.CATEGORY: OrderForm.category,
    FormPart.DESCRIPTION: OrderForm.description,
    FormPart.DAY: OrderForm.day,
    FormPart.PLACE: OrderForm.place,
}


@asks(OrderForm.confirm, hint=lambda: _("Please use the Confirm, Edit or Cancel buttons above."))
async def ask_confirm(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    category = await order_form.category(session, data["category_id"])
    station = await order_form.station(session, data["station_id"])
    almost = [_("Almost done.")]
    if data.get("latitude") is not None and not data.get("address"):
        almost.append(_("To add the way there in words (a house number, a landmark), write it."))
    await message.answer("\n".join(almost), reply_markup=choices_keyboard([], back=True))
    await message.answer(
        summary_text(data, category, station), reply_markup=summary_keyboard(data["token"])
    )


async def confirm(
    query: CallbackQuery, callback_data: ConfirmOrder, state: FSMContext, placing: Placing
) -> None:
    data = await state.get_data()
    if callback_data.token != data.get("token"):
        await stale(query)
        return
    await query.answer()  # before the slow part: the phone spins until it is answered
    order = await placing.order(
        query,
        state,
        data,
        category_id=data["category_id"],
        description=data.get("description", ""),
        preferred_date=date.fromisoformat(data["day"]) if data.get("day") else None,
        preferred_slot=Slot(data["slot"]),
        address=data.get("address"),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
    )
    if order is not None:
        await _received(query, order.number, placing.roles)


async def edit(query: CallbackQuery, callback_data: EditOrder, state: FSMContext) -> None:
    data = await state.get_data()
    if callback_data.token != data.get("token"):
        await stale(query)
        return
    await query.answer()
    await reply(query, _("What would you like to change?"), edit_keyboard(data["token"]))


async def edit_part(
    query: CallbackQuery, callback_data: EditPart, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    if callback_data.token != data.get("token") or not isinstance(query.message, Message):
        await stale(query)
        return
    await query.answer()
    await state.update_data(editing=True)
    await enter(query.message, state, session, EDITABLE[callback_data.part])


async def drop(query: CallbackQuery, state: FSMContext, roles: Roles) -> None:
    await query.answer()
    await state.clear()
    await with_menu(query, _("Cancelled. Nothing was sent."), roles)


async def confirm_again(
    query: CallbackQuery,
    callback_data: ConfirmOrder,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    # Confirm pressed again with the conversation gone: a crash (or restart) between
    # creating the order and saying so, or a double tap. Tell the number of the order this
    # summary made, else the resident orders a second time for one request.
    order = await orders.placed_with_token(session, callback_data.token, user.id)
    if order is None:
        await stale(query)
        return
    await query.answer()
    await _received(query, order.number, roles)


async def stale(query: CallbackQuery) -> None:
    # A summary button from a finished or abandoned conversation (double tap included).
    await query.answer(_("This button is no longer valid."), show_alert=True)


async def _received(query: CallbackQuery, number: str, roles: Roles) -> None:
    text = _(
        "Received! Your order number is {number}. The volunteer team will be told now; "
        "you will get a message here when someone accepts it."
    ).format(number=number)
    await told(query, text, roles)  # then Confirm again is told the same (confirm_again)


def router() -> Router:
    r = Router(name="ordering.confirm")
    cb = r.callback_query
    cb.register(confirm, OrderForm.confirm, ConfirmOrder.filter(), placing)
    cb.register(edit, OrderForm.confirm, EditOrder.filter())
    cb.register(edit_part, OrderForm.confirm, EditPart.filter())
    cb.register(drop, OrderForm.confirm, DropOrder.filter())
    cb.register(confirm_again, ConfirmOrder.filter())
    for summary_button in (EditOrder, EditPart, DropOrder):
        cb.register(stale, summary_button.filter())
    return r
