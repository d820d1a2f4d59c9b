"""A leader's team (and the office's, for every team of the town): the members with their
hours this year, and 🚫 Remove → are you sure → removed (they are told)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings, reply, spend
from models import User, utcnow
from services import points, volunteers
from services.people import Roles
from views.me import (
    MeItem,
    MeMenu,
    RemoveMember,
    TeamRoster,
    chunks,
    confirm_remove_keyboard,
    remove_keyboard,
    roster_lines,
    teams_keyboard,
)


async def town_teams(query: CallbackQuery, session: AsyncSession, roles: Roles) -> None:
    if not roles.is_office:
        await query.answer(_("Only the team's leader can do this."), show_alert=True)
        return
    await query.answer()
    teams = await volunteers.manageable_teams(session, roles)
    await reply(query, _("Which team?"), teams_keyboard(teams))


async def team_list(
    query: CallbackQuery,
    callback_data: TeamRoster,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
) -> None:
    team = await volunteers.managed_team(session, roles, callback_data.team_id)
    await query.answer()
    year = utcnow().astimezone(settings.tz).year
    roster = await volunteers.team_roster(session, team.id)
    sums = await points.totals_by_user(session, [u.id for _m, u in roster], year, settings.tz)
    hours = {user_id: figures[0] for user_id, figures in sums.items()}
    if isinstance(query.message, Message):
        for chunk in chunks(roster_lines(team, roster, hours)):
            await query.message.answer(chunk)
        if roster:
            await query.message.answer(
                _("To take someone off the team, tap their name."),
                reply_markup=remove_keyboard(roster, roles.user_id),
            )


async def confirm_remove(
    query: CallbackQuery, callback_data: RemoveMember, session: AsyncSession, roles: Roles
) -> None:
    name = await volunteers.removable_member_name(session, callback_data.member_id, roles)
    await query.answer()
    await reply(
        query,
        _("Take {name} off the team? They will be told.").format(name=name),
        confirm_remove_keyboard(callback_data.member_id),
    )


async def remove(
    query: CallbackQuery,
    callback_data: RemoveMember,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    await volunteers.deactivate(session, callback_data.member_id, user, roles)
    await query.answer(_("Done. They are no longer in the team."))
    await spend(query)


def router() -> Router:
    r = Router(name="me.team")
    r.callback_query.register(town_teams, MeMenu.filter(F.item == MeItem.TOWN_TEAMS))
    r.callback_query.register(team_list, TeamRoster.filter())
    r.callback_query.register(confirm_remove, RemoveMember.filter(~F.sure))
    r.callback_query.register(remove, RemoveMember.filter(F.sure))
    return r
