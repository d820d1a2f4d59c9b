"""Appointing people: an admin or the office names office staff, station heads and team
leaders; a leader adds volunteers. Either by a one-use invite link or by picking someone
who already uses the bot."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import reply
from models import User
from services import appointments, people
from services.i18n import local_name
from services.people import Roles
from views.format import ROLE_LABELS, locale
from views.menu import BTN_ADD_VOLUNTEER, BTN_APPOINT, BTN_CANCEL
from views.staff import (
    AppointAt,
    AppointByLink,
    AppointByPick,
    AppointRole,
    AppointUser,
    how_keyboard,
    people_keyboard,
    places_keyboard,
    roles_keyboard,
)

NAME_QUERY_MAX = 32


class Appoint(StatesGroup):
    find = State()


async def begin(message: Message, roles: Roles) -> None:
    offered = appointments.roles_offered(roles)
    if not offered:
        await message.answer(_("Only the office can appoint staff."))
        return
    await message.answer(_("Whom do you want to appoint?"), reply_markup=roles_keyboard(offered))


async def role_chosen(
    query: CallbackQuery, callback_data: AppointRole, session: AsyncSession, roles: Roles
) -> None:
    role = appointments.offered(roles, callback_data.role)
    places = await appointments.places_for(session, role, roles)
    await query.answer()
    await reply(query, _("For which station or team?"), places_keyboard(role, places), edit=True)


async def where_chosen(
    query: CallbackQuery, callback_data: AppointAt, session: AsyncSession, roles: Roles
) -> None:
    at = callback_data
    await appointments.checked_place(
        session, roles, at.role, region_id=at.region_id, team_id=at.team_id
    )
    await query.answer()
    await reply(query, _("How?"), how_keyboard(callback_data), edit=True)


async def make_link(
    query: CallbackQuery,
    callback_data: AppointByLink,
    session: AsyncSession,
    user: User,
    roles: Roles,
    bot: Bot,
) -> None:
    at = callback_data
    invite = await appointments.invite(
        session, roles, at.role, by=user, region_id=at.region_id, team_id=at.team_id
    )
    await query.answer()
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={invite.code}"
    await reply(
        query,
        _("Send this link to the person. It works once and expires in 3 days:\n{link}").format(
            link=link
        ),
        edit=True,
    )


async def pick(
    query: CallbackQuery,
    callback_data: AppointByPick,
    state: FSMContext,
    session: AsyncSession,
    roles: Roles,
) -> None:
    at = callback_data
    await appointments.checked_place(
        session, roles, at.role, region_id=at.region_id, team_id=at.team_id
    )
    await query.answer()
    await state.set_state(Appoint.find)
    await state.update_data(appoint=[at.role.value, at.region_id, at.team_id])
    await reply(query, _("Write part of the person's name."))


async def find(message: Message, state: FSMContext, session: AsyncSession) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > NAME_QUERY_MAX:
        await message.answer(_("Write part of the person's name."))
        return
    found = await people.find_registered(session, text)
    if not found:
        await message.answer(
            _(
                "Nobody with that name uses the bot yet. Try again, or "
                "make an invitation link instead."
            )
        )
        return
    role, region_id, team_id = (await state.get_data())["appoint"]
    at = AppointAt(role=role, region_id=region_id, team_id=team_id)
    await message.answer(_("Tap the person:"), reply_markup=people_keyboard(at, found))


async def chosen(
    query: CallbackQuery,
    callback_data: AppointUser,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    person, place = await appointments.appoint(
        session,
        roles,
        callback_data.role,
        by=user,
        region_id=callback_data.region_id,
        team_id=callback_data.team_id,
        user_id=callback_data.user_id,
    )
    await state.clear()
    await query.answer()
    await reply(
        query,
        _("{name} is now {role} of {where}.").format(
            name=person.name,
            role=_(ROLE_LABELS[callback_data.role]),
            where=local_name(place, locale()),
        ),
        edit=True,
    )


def router() -> Router:
    r = Router(name="staff")
    r.message.register(begin, F.text == BTN_APPOINT)
    r.message.register(begin, F.text == BTN_ADD_VOLUNTEER)
    r.callback_query.register(role_chosen, AppointRole.filter())
    r.callback_query.register(where_chosen, AppointAt.filter())
    r.callback_query.register(make_link, AppointByLink.filter())
    r.callback_query.register(pick, AppointByPick.filter())
    r.message.register(find, Appoint.find, F.text, F.text != BTN_CANCEL)
    r.callback_query.register(chosen, AppointUser.filter())
    return r
