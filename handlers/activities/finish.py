"""Finishing an activity: how many hours each person who came gets, into the ledger once."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.access import managed
from handlers.activities.parsing import parse_hours
from handlers.activities.states import FinishAttendance
from handlers.common import finished, reply
from models import Activity, User
from services import activities
from services.errors import DomainError
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.activities import Act, ActivityAction
from views.menu import BTN_CANCEL, choices_keyboard, main_menu


async def ask_hours(query: CallbackQuery, state: FSMContext, activity: Activity) -> None:
    await query.answer()
    planned = activities.duration_hours(activity)
    shown = f"{planned.normalize():f}"
    await state.set_state(FinishAttendance.hours)
    await state.update_data(activity_id=activity.id)
    await reply(
        query,
        _(
            "How many hours should each person who came get? The activity was planned "
            "for {hours} h. Tap it, or write another number."
        ).format(hours=shown),
        choices_keyboard(list(dict.fromkeys([shown, "1", "2", "3"])), columns=4, back=False),
    )


async def finish(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
    policy: Policy,
) -> None:
    hours = parse_hours(message.text)
    if hours is None:
        await message.answer(_("Please give a number of hours between 0.5 and 24."))
        return
    data = await finished(state)
    rules = PointsRules.from_policy(policy.points)
    try:
        booked = await activities.finish(
            session, data["activity_id"], user, roles, rules, hours=hours
        )
    except DomainError as exc:  # the form is over: the refusal comes with the menu back
        await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
        return
    await message.answer(
        _("Recorded: hours for {n} people are in the ledger. Thank you!").format(n=len(booked)),
        reply_markup=main_menu(roles),
    )


def router() -> Router:
    r = Router(name="activities.finish")
    r.callback_query.register(ask_hours, ActivityAction.filter(F.action == Act.FINISH), managed)
    r.message.register(finish, FinishAttendance.hours, F.text, F.text != BTN_CANCEL)
    return r
