"""Every need is heard: words, a voice note or a photo sent at the main menu, or instead of a
choice in the area or service step, become a «其他需求» order for the institute office to
sort, once the resident says yes to one question (so a stray «你好» orders nothing).

Where the order is for (home), when (as soon as possible) and whom (the resident, or the
resident a station's staff are ordering for) are the defaults; the office asks back if it
needs more.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Attached, photo_need, too_long, voice_need
from handlers.ordering.flow import enter
from handlers.ordering.placed import Placing, placing, told, with_menu
from handlers.ordering.states import OrderForm
from models import Slot, User
from services import order_form, orders
from services.people import Roles
from views.heard import DropNeed, SendNeed, need_question, need_received
from views.menu import is_menu_button

NEED_MAX = 1000  # as the description step allows
_FORM = ("resident_id", "station_id", "town_id", "proxy", "proxy_name")
# The steps a need may interrupt; «No, thanks» goes back to it, with the form as it was.
_STEPS = {s.state: s for s in (OrderForm.area, OrderForm.category)}


class NeedForm(StatesGroup):
    confirm = State()  # «Shall we pass this on to the town?»


async def _ask(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    description: str,
    attachments: Attached,
) -> None:
    """Read back what will be sent and ask once. From inside the order form the form's
    resident is kept (station staff may be ordering for someone); at the menu it is the
    sender."""
    form = await state.get_data()
    if "resident_id" in form:
        data: dict[str, Any] = {k: form[k] for k in _FORM if k in form}
    else:
        data = {"resident_id": user.id, "station_id": user.station_id, "town_id": user.town_id}
    current = await state.get_state()
    back_to = [current, form] if current in _STEPS else form.get("back_to")
    token = secrets.token_hex(8)
    data.update(description=description, attachments=attachments, token=token, back_to=back_to)
    await state.set_state(NeedForm.confirm)
    await state.set_data(data)
    station = await order_form.station(session, data["station_id"])
    kind = attachments[0][0] if attachments else None
    text, keyboard = need_question(description, kind, station, token)
    await message.answer(text, reply_markup=keyboard)


async def heard_text(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    text = (message.text or "").strip()
    if not text or await too_long(message, text, NEED_MAX):
        return
    await _ask(message, state, session, user, text, [])


async def not_a_choice(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """Text in a step that offers buttons and none of them: words are the need in the
    resident's own words; a command or a stray menu button is not."""
    if words(message):
        await heard_text(message, state, session, user)
    else:
        await message.answer(_("Please tap one of the buttons below."))


async def heard_voice(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    description, attachments = voice_need(message)
    await _ask(message, state, session, user, description, attachments)


async def heard_photo(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    got = await photo_need(message, NEED_MAX)
    if got is not None:
        await _ask(message, state, session, user, *got)


async def send(
    query: CallbackQuery, callback_data: SendNeed, state: FSMContext, placing: Placing
) -> None:
    data = await state.get_data()
    if await state.get_state() != NeedForm.confirm.state or callback_data.token != data.get(
        "token"
    ):
        await sent_before(query, callback_data, placing.session, placing.user, placing.roles)
        return
    await query.answer()
    order = await placing.order(
        query,
        state,
        data,
        category_id=None,  # «其他需求»: the office sorts it
        description=data["description"],
        preferred_date=None,  # as soon as possible
        preferred_slot=Slot.ANY,
        address=None,  # at home
    )
    if order is not None:
        await told(query, need_received(order.number), placing.roles)


async def sent_before(
    query: CallbackQuery, callback_data: SendNeed, session: AsyncSession, user: User, roles: Roles
) -> None:
    # «Yes» pressed again (a double tap, or after a restart lost the question): tell the
    # number of the order it made; an older question's button is simply no longer valid.
    order = await orders.placed_with_token(session, callback_data.token, user.id)
    if order is None:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await told(query, need_received(order.number), roles)


async def drop(
    query: CallbackQuery,
    callback_data: DropNeed,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    data = await state.get_data()
    if callback_data.token != data.get("token") or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    if data.get("back_to"):  # asked from inside the order form: back to its step
        step, form = data["back_to"]
        await state.set_data(form)
        await query.message.answer(_("All right, nothing was sent."))
        await enter(query.message, state, session, _STEPS[step])
        return
    await state.clear()
    await with_menu(query, _("All right, nothing was sent."), roles)


def words(message: Message) -> bool:
    """Not a command, not a menu button: something the person said."""
    text = message.text
    return text is None or not (text.startswith("/") or is_menu_button(text))


async def resident_at_menu(message: Message, user: User) -> bool:
    """A registered resident (with a village) saying something in a private chat."""
    registered = user.registered and user.station_id is not None
    return registered and message.chat.type == "private" and words(message)


def router() -> Router:
    """Inside the order form: before ordering.flow, which takes what no step took."""
    r = Router(name="ordering.heard")
    steps = StateFilter(OrderForm.area, OrderForm.category, NeedForm.confirm)
    r.message.register(heard_voice, steps, F.voice)
    r.message.register(heard_photo, steps, F.photo)
    r.message.register(heard_text, NeedForm.confirm, F.text, words)
    r.callback_query.register(send, SendNeed.filter(), placing)
    r.callback_query.register(drop, DropNeed.filter())
    return r


def menu_router() -> Router:
    """At the main menu: after every conversation and menu button, before the menu's
    «did not understand»."""
    r = Router(name="ordering.heard.menu")
    at_menu = (StateFilter(None), resident_at_menu)
    r.message.register(heard_text, *at_menu, F.text)
    r.message.register(heard_voice, *at_menu, F.voice)
    r.message.register(heard_photo, *at_menu, F.photo)
    return r
