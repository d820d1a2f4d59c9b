"""Joining a team as people see it: the leader's card for an application and the
applicant's answer (services/volunteers.py queues both)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from models import NoticeKind, Team, User
from services import screens
from services.i18n import local_name
from services.screens import EnrolFacts
from views.format import locale
from views.menu import inline_keyboard, main_menu
from views.notices import Note, Rendered, message, renders


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class EnrolDecision(CallbackData, prefix="en"):
    """The leader's answer to an application to join the team: approve or reject."""

    action: Verdict
    member_id: int


def decision_keyboard(member_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("✅ Approve"), EnrolDecision(action=Verdict.APPROVE, member_id=member_id)),
            (_("❌ Reject"), EnrolDecision(action=Verdict.REJECT, member_id=member_id)),
        ],
        columns=2,
    )


def party_choices() -> dict[str, bool]:
    """The answers to "Are you a party member?" as buttons, and what each means."""
    return {_("Yes, I am a party member"): True, _("No"): False}


def application_lines(applicant: User, team: Team) -> list[str]:
    lines = [
        _("🙌 {name} wants to join {team}.").format(
            name=applicant.name or "?", team=local_name(team, locale())
        ),
        _("Phone: {phone}").format(phone=applicant.phone or "-"),
    ]
    if applicant.skills:
        lines.append(_("Skills: {skills}").format(skills=applicant.skills))
    lines.append(_("Party member: yes") if applicant.is_party_member else _("Party member: no"))
    return lines


@renders(NoticeKind.ENROL_REQUEST, reads=screens.enrol_request_notice)
def enrol_request(note: Note, facts: EnrolFacts) -> Rendered | None:
    if facts.applicant is None or facts.team is None:
        return None
    lines = application_lines(facts.applicant, facts.team)
    return message(note.chat_id, lines, decision_keyboard(facts.member_id))


@renders(NoticeKind.ENROL_RESULT, reads=screens.enrol_result_notice)
def enrol_result(note: Note, facts: EnrolFacts) -> Rendered | None:
    name = local_name(facts.team, locale()) if facts.team else ""
    result = note.payload.get("result")
    reason = note.payload.get("reason")
    markup = None
    if result == "approved":
        lines = [
            _("✅ Welcome to {team}! You will now get the team's tasks and activities.").format(
                team=name
            ),
            _("Tap «👤 Me» to see your hours and points."),
        ]
        if facts.roles is not None:
            markup = main_menu(facts.roles)
    elif result == "rejected":
        lines = [_("Your application to {team} was not accepted this time.").format(team=name)]
    elif result == "removed":
        lines = [_("You are no longer a member of {team}.").format(team=name)]
    elif result == "left":
        who = facts.volunteer
        lines = [_("{name} has left {team}.").format(name=who.name if who else "?", team=name)]
    else:
        return None
    if reason and result in ("rejected", "removed"):
        lines.append(_("Reason: {reason}").format(reason=reason))
    return message(note.chat_id, lines, markup)
