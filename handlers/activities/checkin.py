"""A volunteer checks in at the activity: the organiser's 6-digit code, or their location
near the place."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.activities.states import CheckIn
from models import Activity, User
from services import activities
from services.errors import DomainError, NotAllowed
from services.people import Roles
from views.activities import Act, ActivityAction, location_keyboard
from views.menu import BTN_CANCEL, main_menu


async def _ask_code(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(CheckIn.code)
    await state.update_data(wrong=0)
    await message.answer(
        _(
            "Type the 6-digit code the organiser shows you, or send your location "
            "when you are at the place."
        ),
        reply_markup=location_keyboard(skip=False),
    )


async def checkin_command(message: Message, state: FSMContext) -> None:
    await _ask_code(message, state)


async def checkin_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_code(query.message, state)


async def _checked_in(
    message: Message, state: FSMContext, roles: Roles, activity: Activity
) -> None:
    await state.clear()
    await message.answer(
        _("✅ Checked in to «{title}». Thank you for coming!").format(title=activity.title),
        reply_markup=main_menu(roles),
    )


async def checkin_location(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    loc = message.location
    if loc is None:
        return
    if message.forward_origin is not None or message.venue is not None:
        # someone else's location, or a place from the map's list: not where they are
        await message.answer(_("Please send your own location, or type the code."))
        return
    live = loc.live_period is not None
    activity = await activities.check_in_by_location(
        session, user, loc.latitude, loc.longitude, live=live
    )
    await _checked_in(message, state, roles, activity)


async def checkin_code(
    message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
) -> None:
    try:
        activity = await activities.check_in_by_code(session, user, message.text or "")
    except DomainError as exc:
        # The service counts wrong codes per person and activity (a new /checkin does not
        # start over) and refuses once they are spent; the form also gives up after a few.
        wrong = int((await state.get_data()).get("wrong", 0)) + 1
        if isinstance(exc, NotAllowed) or wrong >= activities.WRONG_CODES_MAX:
            await state.clear()
            await message.answer(
                _("That did not work. Please ask the organiser to tick you on the list."),
                reply_markup=main_menu(roles),
            )
            return
        await state.update_data(wrong=wrong)
        await message.answer(_(exc.message).format(**exc.params))
        return
    await _checked_in(message, state, roles, activity)


def router() -> Router:
    r = Router(name="activities.checkin")
    r.message.register(checkin_command, Command("checkin"))
    r.callback_query.register(checkin_button, ActivityAction.filter(F.action == Act.CHECKIN))
    r.message.register(checkin_location, CheckIn.code, F.location)
    r.message.register(checkin_code, CheckIn.code, F.text, F.text != BTN_CANCEL)
    return r
