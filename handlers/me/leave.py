"""🚪 Leave a team: which team → are you sure → left (hours and points stay)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import reply
from models import User
from services import volunteers
from views.me import (
    LeaveTeam,
    MeItem,
    MeMenu,
    confirm_leave_keyboard,
    leave_keyboard,
)


async def pick_team_to_leave(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    teams = await volunteers.leavable(session, user)
    await query.answer()
    await reply(query, _("Which team do you want to leave?"), leave_keyboard(teams))


async def confirm_leave(
    query: CallbackQuery, callback_data: LeaveTeam, session: AsyncSession, user: User
) -> None:
    await volunteers.leavable(session, user, callback_data.team_id)
    await query.answer()
    await reply(
        query,
        _("Leave the team? Your hours and points stay yours."),
        confirm_leave_keyboard(callback_data.team_id),
        edit=True,
    )


async def leave(
    query: CallbackQuery, callback_data: LeaveTeam, session: AsyncSession, user: User
) -> None:
    await volunteers.leave(session, user, callback_data.team_id)
    await query.answer()
    await reply(query, _("You have left the team. Thank you for your service!"), edit=True)


def router() -> Router:
    r = Router(name="me.leave")
    r.callback_query.register(pick_team_to_leave, MeMenu.filter(F.item == MeItem.LEAVE))
    r.callback_query.register(confirm_leave, LeaveTeam.filter(~F.sure))
    r.callback_query.register(leave, LeaveTeam.filter(F.sure))
    return r
