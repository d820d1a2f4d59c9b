"""Registration, step one: the resident's village or community."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import ask_choice, picked
from handlers.start.name import ask_name
from handlers.start.states import Registration
from models import User
from services import profile
from services.org import station_choices
from views.format import by_name


async def ask_village(message: Message, state: FSMContext, session: AsyncSession) -> None:
    stations = by_name(await station_choices(session))
    await state.set_state(Registration.village)
    await ask_choice(message, _("Which village or community do you live in?"), stations)


async def village_chosen(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    if station := await picked(message, by_name(await station_choices(session))):
        await profile.set_village(session, user, station)
        await ask_name(message, state)


def router() -> Router:
    r = Router(name="start.village")
    r.message.register(village_chosen, Registration.village, F.text)
    return r
