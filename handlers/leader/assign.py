"""Assign volunteers to an accepted order: tick the names, then pick a day and a slot."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings, reply
from handlers.leader.states import Assign, answers_for, begin, in_hand
from models import Order, Slot, User, utcnow
from services import orders
from services.context import Ctx
from services.people import Roles
from views.orders import (
    AssignVolunteer,
    OrderAction,
    PickSlot,
    RosterDone,
    roster_keyboard,
    slots_keyboard,
)

SLOT_HOURS = {Slot.MORNING: (time(9), time(12)), Slot.AFTERNOON: (time(14), time(17))}
DAYS_AHEAD = 7


def slot_choices(now: datetime, tz: tzinfo) -> list[tuple[date, Slot]]:
    """The half-days of the coming week, without those already over."""
    today = now.astimezone(tz).date()
    return [
        (day, slot)
        for day in (today + timedelta(days=n) for n in range(DAYS_AHEAD))
        for slot, (_start, end) in SLOT_HOURS.items()
        if datetime.combine(day, end, tzinfo=tz) > now
    ]


async def assign(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, order: Order
) -> None:
    await begin(query, state, Assign.volunteers, order, chosen=[])
    people = await orders.order_roster(session, order.id)
    await reply(
        query,
        _("Who will go? Tap names to choose, then «Next»."),
        roster_keyboard(order.id, people, set()),
    )


async def toggle(
    query: CallbackQuery, callback_data: AssignVolunteer, state: FSMContext, session: AsyncSession
) -> None:
    data = await answers_for(query, state, callback_data.order_id)
    if data is None:
        return
    await query.answer()
    chosen = set(data.get("chosen", [])) ^ {callback_data.user_id}
    await state.update_data(chosen=sorted(chosen))
    if isinstance(query.message, Message):
        people = await orders.order_roster(session, callback_data.order_id)
        await query.message.edit_reply_markup(
            reply_markup=roster_keyboard(callback_data.order_id, people, chosen)
        )


async def roster_done(
    query: CallbackQuery, callback_data: RosterDone, state: FSMContext, settings: Settings
) -> None:
    data = await answers_for(query, state, callback_data.order_id)
    if data is None:
        return
    if not data.get("chosen"):
        await query.answer(_("Choose at least one person."), show_alert=True)
        return
    await query.answer()
    await state.set_state(Assign.day)
    choices = slot_choices(utcnow(), settings.tz)
    await reply(
        query, _("When will they go?"), slots_keyboard(callback_data.order_id, choices), spent=True
    )


async def slot_chosen(
    query: CallbackQuery,
    callback_data: PickSlot,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    settings: Settings,
    ctx: Ctx,
) -> None:
    data = await answers_for(query, state, callback_data.order_id)
    if data is None:
        return
    if callback_data.slot not in SLOT_HOURS:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    start_t, end_t = SLOT_HOURS[callback_data.slot]
    start = datetime.combine(callback_data.day, start_t, tzinfo=settings.tz)
    end = datetime.combine(callback_data.day, end_t, tzinfo=settings.tz)
    await state.clear()
    await orders.assign(session, ctx, data["order_id"], user, roles, data["chosen"], start, end)
    await reply(
        query,
        _("Done. The volunteers and the resident have been told (order {number}).").format(
            number=data.get("number", "")
        ),
        spent=True,
    )


def router() -> Router:
    r = Router(name="leader.assign")
    r.callback_query.register(assign, OrderAction.filter(F.action == "assign"), in_hand)
    r.callback_query.register(toggle, Assign.volunteers, AssignVolunteer.filter())
    r.callback_query.register(roster_done, Assign.volunteers, RosterDone.filter())
    r.callback_query.register(slot_chosen, Assign.day, PickSlot.filter())
    return r
