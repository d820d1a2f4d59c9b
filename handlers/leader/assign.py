"""Assign volunteers to an accepted order: tap the names, then pick a day and a slot."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from handlers.leader.states import Assign
from models import User, utcnow
from services import orders
from services.people import Roles
from views.menu import Pick
from views.orders import OrderAction

SLOT_HOURS = {"morning": (time(9), time(12)), "afternoon": (time(14), time(17))}


def _roster_keyboard(order_id: int, people: list[User], chosen: set[int]) -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    for person in people:
        mark = "☑" if person.id in chosen else "☐"
        kb.button(
            text=f"{mark} {person.name or '?'}",
            callback_data=Pick(what="vol", value=f"{order_id}.{person.id}"),
        )
    kb.button(text=_("Next ➡"), callback_data=Pick(what="vol_done", value=str(order_id)))
    kb.adjust(1)
    return kb


async def assign(
    query: CallbackQuery,
    callback_data: OrderAction,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    order = await orders.order_in_hand(session, callback_data.order_id, roles)
    await query.answer()
    await state.set_state(Assign.volunteers)
    await state.update_data(order_id=order.id, number=order.number, chosen=[])
    people = await orders.order_roster(session, order.id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Who will go? Tap names to choose, then «Next»."),
            reply_markup=_roster_keyboard(order.id, people, set()).as_markup(),
        )


async def toggle(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    order_id, _sep, person = callback_data.value.partition(".")
    if not person.isdigit() or int(order_id or 0) != data.get("order_id"):
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    chosen = set(data.get("chosen", [])) ^ {int(person)}
    await state.update_data(chosen=sorted(chosen))
    if isinstance(query.message, Message):
        people = await orders.order_roster(session, data["order_id"])
        await query.message.edit_reply_markup(
            reply_markup=_roster_keyboard(data["order_id"], people, chosen).as_markup()
        )


async def roster_done(query: CallbackQuery, state: FSMContext, settings: Settings) -> None:
    data = await state.get_data()
    if not data.get("chosen"):
        await query.answer(_("Choose at least one person."), show_alert=True)
        return
    await query.answer()
    await state.set_state(Assign.day)
    now = utcnow().astimezone(settings.tz)
    kb = InlineKeyboardBuilder()
    for offset in range(7):
        day = now.date() + timedelta(days=offset)
        for slot, label in (("morning", _("Morning")), ("afternoon", _("Afternoon"))):
            if datetime.combine(day, SLOT_HOURS[slot][1], tzinfo=settings.tz) <= now:
                continue  # a slot already over today is no choice
            kb.button(
                text=f"{day.month}/{day.day} {label}",
                callback_data=Pick(what="slot", value=f"{day.isoformat()}.{slot}"),
            )
    kb.adjust(2)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("When will they go?"), reply_markup=kb.as_markup())


async def slot_chosen(
    query: CallbackQuery,
    callback_data: Pick,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
) -> None:
    day_text, _sep, slot = callback_data.value.partition(".")
    if slot not in SLOT_HOURS:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    data = await state.get_data()
    start_t, end_t = SLOT_HOURS[slot]
    day = datetime.fromisoformat(day_text).date()
    start = datetime.combine(day, start_t, tzinfo=settings.tz)
    end = datetime.combine(day, end_t, tzinfo=settings.tz)
    await state.clear()
    await orders.assign(session, data["order_id"], user, roles, data["chosen"], start, end)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("Done. The volunteers and the resident have been told (order {number}).").format(
                number=data.get("number", "")
            )
        )


def router() -> Router:
    r = Router(name="leader.assign")
    r.callback_query.register(assign, OrderAction.filter(F.action == "assign"))
    r.callback_query.register(toggle, Assign.volunteers, Pick.filter(F.what == "vol"))
    r.callback_query.register(roster_done, Assign.volunteers, Pick.filter(F.what == "vol_done"))
    r.callback_query.register(slot_chosen, Assign.day, Pick.filter(F.what == "slot"))
    return r
