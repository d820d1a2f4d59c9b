"""🚪 Leave a team: which team → are you sure → left (hours and points stay)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from services import volunteers
from views.me import (
    LeaveConfirmed,
    LeaveTeam,
    LeaveWhich,
    confirm_leave_keyboard,
    leave_keyboard,
)


async def pick_team_to_leave(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    teams = await volunteers.leavable(session, user)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Which team do you want to leave?"), reply_markup=leave_keyboard(teams)
        )


async def confirm_leave(
    query: CallbackQuery, callback_data: LeaveTeam, session: AsyncSession, user: User
) -> None:
    await volunteers.leavable(session, user, callback_data.team_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("Leave the team? Your hours and points stay yours."),
            reply_markup=confirm_leave_keyboard(callback_data.team_id),
        )


async def leave(
    query: CallbackQuery, callback_data: LeaveConfirmed, session: AsyncSession, user: User
) -> None:
    await volunteers.leave(session, user, callback_data.team_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("You have left the team. Thank you for your service!"), reply_markup=None
        )


def router() -> Router:
    r = Router(name="me.leave")
    r.callback_query.register(pick_team_to_leave, LeaveWhich.filter())
    r.callback_query.register(confirm_leave, LeaveTeam.filter())
    r.callback_query.register(leave, LeaveConfirmed.filter())
    return r
