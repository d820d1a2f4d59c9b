"""Assign volunteers to an accepted order: tick the names, then pick a day and a slot."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import reply
from handlers.leader.states import Assign, answers_for, begin, in_hand
from models import Order, Slot, User
from services import orders
from services.context import Ctx
from services.people import Roles
from views.orders import (
    AssignVolunteer,
    OrderAction,
    PickSlot,
    RosterDone,
    assigned_text,
    roster_keyboard,
    slots_keyboard,
)

SLOT_HOURS = {Slot.MORNING: (time(9), time(12)), Slot.AFTERNOON: (time(14), time(17))}
DAYS_AHEAD = 7


def slot_choices(
    now: datetime, tz: tzinfo, requested: date | None = None
) -> list[tuple[date, Slot]]:
    """The half-days of the coming week, without those already over, and the day the
    resident asked for when it is later than that."""
    today = now.astimezone(tz).date()
    days = [today + timedelta(days=n) for n in range(DAYS_AHEAD)]
    if requested is not None and requested > days[-1]:
        days.append(requested)
    return [
        (day, slot)
        for day in days
        for slot, (_start, end) in SLOT_HOURS.items()
        if datetime.combine(day, end, tzinfo=tz) > now
    ]


async def assign(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, order: Order
) -> None:
    asked = order.preferred_date.isoformat() if order.preferred_date else None
    await begin(
        query, state, Assign.volunteers, order, chosen=[], asked=asked, slot=order.preferred_slot
    )
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
    query: CallbackQuery, callback_data: RosterDone, state: FSMContext, ctx: Ctx
) -> None:
    data = await answers_for(query, state, callback_data.order_id)
    if data is None:
        return
    if not data.get("chosen"):
        await query.answer(_("Choose at least one person."), show_alert=True)
        return
    await query.answer()
    await state.set_state(Assign.day)
    asked = date.fromisoformat(data["asked"]) if data.get("asked") else None
    choices = slot_choices(ctx.now(), ctx.tz, asked)
    requested = (asked, Slot(data.get("slot") or Slot.ANY)) if asked else None
    await reply(
        query,
        _("When will they go?"),
        slots_keyboard(callback_data.order_id, choices, requested),
        spent=True,
    )


async def slot_chosen(
    query: CallbackQuery,
    callback_data: PickSlot,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
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
    start = datetime.combine(callback_data.day, start_t, tzinfo=ctx.tz)
    end = datetime.combine(callback_data.day, end_t, tzinfo=ctx.tz)
    await state.clear()
    await orders.assign(session, ctx, data["order_id"], user, roles, data["chosen"], start, end)
    sent = await orders.sent_volunteers(session, data["order_id"])
    await reply(query, assigned_text(sent), spent=True)


def router() -> Router:
    r = Router(name="leader.assign")
    r.callback_query.register(assign, OrderAction.filter(F.action == "assign"), in_hand)
    r.callback_query.register(toggle, Assign.volunteers, AssignVolunteer.filter())
    r.callback_query.register(roster_done, Assign.volunteers, RosterDone.filter())
    r.callback_query.register(slot_chosen, Assign.day, PickSlot.filter())
    return r
