"""A person's card and its switches: large print, priority group."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from models import utcnow
from services import points, residents
from services.people import Roles
from services.residents import Person
from views.people import (
    NO_GROUP,
    PersonErase,
    PersonGroups,
    PersonGroupSet,
    PersonLargePrint,
    PersonPicked,
    card_keyboard,
    card_text,
    erase_keyboard,
    erase_question,
    groups_keyboard,
)


async def _show(
    query: CallbackQuery, session: AsyncSession, roles: Roles, settings: Settings, who: Person
) -> None:
    hours = score = None
    if roles.is_office:  # the figures a correction or a bonus would change
        year = utcnow().astimezone(settings.tz).year
        hours, score = await points.totals(session, who.user.id, year, settings.tz)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            card_text(who, hours, score), reply_markup=card_keyboard(who, office=roles.is_office)
        )


async def picked(
    query: CallbackQuery,
    callback_data: PersonPicked,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    who = await residents.person(session, roles, callback_data.user_id)
    await _show(query, session, roles, settings, who)


async def large_print(
    query: CallbackQuery,
    callback_data: PersonLargePrint,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    who = await residents.set_large_print(session, roles, callback_data.user_id, callback_data.on)
    await _show(query, session, roles, settings, who)


async def group_choices(
    query: CallbackQuery, callback_data: PersonGroups, session: AsyncSession, roles: Roles
) -> None:
    groups = await residents.groups(session, roles, callback_data.user_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Which priority group?"),
            reply_markup=groups_keyboard(callback_data.user_id, groups),
        )


async def group_chosen(
    query: CallbackQuery,
    callback_data: PersonGroupSet,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    group_id = None if callback_data.group_id == NO_GROUP else callback_data.group_id
    who = await residents.set_group(session, roles, callback_data.user_id, group_id)
    await _show(query, session, roles, settings, who)


async def erase(
    query: CallbackQuery,
    callback_data: PersonErase,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    if not callback_data.sure:
        who = await residents.check_erase(session, roles, callback_data.user_id)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                erase_question(who), reply_markup=erase_keyboard(callback_data.user_id)
            )
        return
    await residents.erase(session, roles, callback_data.user_id, settings.media_dir)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Erased. The figures (orders, hours, ratings) stay, without the person.")
        )


def router() -> Router:
    r = Router(name="people.card")
    r.callback_query.register(picked, PersonPicked.filter())
    r.callback_query.register(large_print, PersonLargePrint.filter())
    r.callback_query.register(group_choices, PersonGroups.filter())
    r.callback_query.register(group_chosen, PersonGroupSet.filter())
    r.callback_query.register(erase, PersonErase.filter())
    return r
