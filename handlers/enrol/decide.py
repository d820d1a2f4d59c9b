"""The team's leader approves or rejects an application, on its card in the chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from services import screens, volunteers
from services.people import Roles
from views.enrol import EnrolDecision, Verdict, application_lines


async def decide(
    query: CallbackQuery,
    callback_data: EnrolDecision,
    session: AsyncSession,
    user: User,
    roles: Roles,
) -> None:
    approve = callback_data.action == Verdict.APPROVE
    member = await volunteers.decide(session, callback_data.member_id, user, roles, approve=approve)
    await query.answer(_("Approved. Welcome them!") if approve else _("Rejected."))
    found = await screens.application(session, member)
    if not isinstance(query.message, Message) or found is None:
        return
    applicant, team = found
    verdict = _("✅ Approved by you.") if approve else _("❌ Rejected by you.")
    await query.message.edit_text(
        "\n".join([*application_lines(applicant, team), verdict]), reply_markup=None
    )


def router() -> Router:
    r = Router(name="enrol.decide")
    r.callback_query.register(decide, EnrolDecision.filter())
    return r
