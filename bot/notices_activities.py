"""Renderers for the volunteers-and-activities notices, in the recipient's language at send
time (the same signature as the builders in bot/notices.py; merged into its `BUILDERS`).

A notice about something that moved on meanwhile (an application already decided, an
activity called off or started) renders as None, and the sender drops it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.keyboards import ActivityAction, main_menu
from bot.rendering import Build, Rendered, message
from handlers.activities import activity_lines, checkin_keyboard, signup_keyboard, when_text
from handlers.common import locale
from handlers.enrol import applicant_roles, application_lines, decision_keyboard
from handlers.me import num
from models import (
    Activity,
    ActivityStatus,
    MembershipStatus,
    OutboxMessage,
    SignupStatus,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services import activities
from services.i18n import local_name
from services.outbox import NoticeKind


async def _enrol_request(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    member = await session.get(TeamMember, p.get("member_id"))
    if member is None or member.status != MembershipStatus.PENDING:
        return None  # decided meanwhile (by another leader)
    applicant = await session.get(User, member.user_id)
    team = await session.get(Team, member.team_id)
    if applicant is None or team is None:
        return None
    return message(row.chat_id, application_lines(applicant, team), decision_keyboard(member.id))


async def _enrol_result(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    team = await session.get(Team, p.get("team_id"))
    name = local_name(team, locale()) if team else ""
    result = p.get("result")
    reason = p.get("reason")
    markup = None
    if result == "approved":
        lines = [
            _("✅ Welcome to {team}! You will now get the team's tasks and activities.").format(
                team=name
            ),
            _("Tap «👤 Me» to see your hours and points."),
        ]
        user = await session.get(User, row.user_id) if row.user_id else None
        if user is not None:
            markup = main_menu(await applicant_roles(session, user))
    elif result == "rejected":
        lines = [_("Your application to {team} was not accepted this time.").format(team=name)]
    elif result == "removed":
        lines = [_("You are no longer a member of {team}.").format(team=name)]
    elif result == "left":
        who = await session.get(User, p.get("volunteer_id"))
        lines = [_("{name} has left {team}.").format(name=who.name if who else "?", team=name)]
    else:
        return None
    if reason and result in ("rejected", "removed"):
        lines.append(_("Reason: {reason}").format(reason=reason))
    return message(row.chat_id, lines, markup)


async def _activity(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    activity = await session.get(Activity, p.get("activity_id"))
    if activity is None or activity.status != ActivityStatus.PUBLISHED:
        return None
    if activity.starts_at <= utcnow():
        return None
    lines = [_("🗓 New activity"), *await activity_lines(session, activity, p["_tz"])]
    mine = await activities.my_signup(session, activity.id, row.user_id or 0)
    signed = mine is not None and mine.status != SignupStatus.CANCELLED
    return message(row.chat_id, lines, signup_keyboard(activity.id, signed=signed))


async def _reminder(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    activity = await session.get(Activity, p.get("activity_id"))
    if activity is None or activity.status != ActivityStatus.PUBLISHED:
        return None
    tz = p["_tz"]
    if p.get("which") == "evening":
        head = _("⏰ Tomorrow: «{title}», {when}.")
    else:
        head = _("⏰ Starting soon: «{title}», {when}.")
    lines = [
        head.format(title=activity.title, when=when_text(activity, tz)),
        _("Place: {place}").format(place=activity.place),
    ]
    if row.user_id == activity.created_by_id:
        lines.append(_("Check-in code: {code}").format(code=activity.checkin_code))
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("📋 Attendance"),
            callback_data=ActivityAction(action="attendance", activity_id=activity.id),
        )
        return message(row.chat_id, lines, kb.as_markup())
    if p.get("which") == "evening":
        lines.append(_("Can't come after all? Cancel, so someone on the waitlist can go."))
        return message(row.chat_id, lines, signup_keyboard(activity.id, signed=True))
    lines.append(_("At the place, tap «✅ Check in»."))
    return message(row.chat_id, lines, checkin_keyboard(activity.id))


async def _update(session: AsyncSession, row: OutboxMessage, p: dict[str, Any]) -> Rendered | None:
    activity = await session.get(Activity, p.get("activity_id"))
    if activity is None:
        return None
    when = when_text(activity, p["_tz"])
    event = p.get("event")
    if event == "promoted":
        if activity.status != ActivityStatus.PUBLISHED:
            return None
        lines = [
            _("🎉 A place came free: you are now signed up for «{title}», {when}.").format(
                title=activity.title, when=when
            )
        ]
        return message(row.chat_id, lines, signup_keyboard(activity.id, signed=True))
    if event == "cancelled":
        lines = [_("«{title}», {when}, is called off.").format(title=activity.title, when=when)]
        if p.get("reason"):
            lines.append(_("Reason: {reason}").format(reason=p["reason"]))
        return message(row.chat_id, lines)
    if event == "hours":
        text = _(
            "Thank you for taking part in «{title}»! {hours} h and {points} points are recorded."
        ).format(
            title=activity.title,
            hours=num_text(p.get("hours")),
            points=num_text(p.get("points")),
        )
        return message(row.chat_id, [text])
    return None


def num_text(value: object) -> str:
    try:
        return num(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


async def _kpi_nudge(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    text = _(
        "🌱 You have served {hours} h so far in {year}. At this pace you would reach about "
        "{projected} h by the end of the year; the target is {target} h. Find an activity "
        "under «🗓 Activities»!"
    ).format(
        hours=num_text(p.get("hours")),
        year=p.get("year", ""),
        projected=num_text(p.get("projected")),
        target=num_text(p.get("target")),
    )
    return message(row.chat_id, [text])


ACTIVITY_BUILDERS: dict[str, Build] = {
    NoticeKind.ENROL_REQUEST: _enrol_request,
    NoticeKind.ENROL_RESULT: _enrol_result,
    NoticeKind.ACTIVITY: _activity,
    NoticeKind.ACTIVITY_REMINDER: _reminder,
    NoticeKind.ACTIVITY_UPDATE: _update,
    NoticeKind.KPI_NUDGE: _kpi_nudge,
}
