"""Activities as people see them: when and where, places left, the sign-up and check-in
buttons, and the queued notices about them (services/activities.py, services/kpi.py)."""

from __future__ import annotations

from datetime import tzinfo
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from models import Activity, ActivityStatus, NoticeKind, SignupStatus
from services import screens
from services.activities import AttendanceLine
from services.i18n import local_name
from services.screens import ActivityFacts
from views.format import locale, moment, num_text
from views.menu import BTN_CANCEL, BTN_SKIP, inline_keyboard
from views.notices import Note, Rendered, message, renders


class Act(StrEnum):
    """What a button on an activity does (its value is what the button carries)."""

    SIGNUP = "signup"
    CANCEL = "cancel"
    CHECKIN = "checkin"
    ATTENDANCE = "attendance"
    CODE = "code"
    PHOTOS = "photos"
    FINISH = "finish"
    CALL_OFF = "calloff"
    CALL_OFF_YES = "calloff_yes"


class ActivityAction(CallbackData, prefix="ac"):
    """A button on an activity: sign up, cancel, check in, attendance, code, photos, …
    (one class with an enum, so the sign-up buttons of notices already sent keep working)."""

    action: Act
    activity_id: int


class NewActivity(CallbackData, prefix="acn"):
    """Start publishing an activity."""


class PublishChoice(CallbackData, prefix="acp"):
    """The organiser's answer to the preview: publish it, or stop."""

    publish: bool


class Attend(CallbackData, prefix="at"):
    """Tick or untick one person on an activity's attendance list."""

    activity_id: int
    user_id: int


def when_text(activity: Activity, tz: tzinfo) -> str:
    start, end = activity.starts_at.astimezone(tz), activity.ends_at.astimezone(tz)
    return f"{moment(start, tz)}–{end:%H:%M}"


def activity_lines(facts: ActivityFacts, tz: tzinfo) -> list[str]:
    """The facts of an activity, as a notice and in the list."""
    activity, seats = facts.activity, facts.seats
    lines = [
        f"«{activity.title}»",
        _("Time: {when}").format(when=when_text(activity, tz)),
        _("Place: {place}").format(place=activity.place),
    ]
    if activity.content:
        lines.append(activity.content)
    organiser = local_name(facts.organiser, locale()) if facts.organiser else "-"
    lines.append(_("Organised by: {who}").format(who=organiser))
    if activity.recurrence and activity.recurrence.startswith("weekly:"):
        nth, _sep, total = activity.recurrence.removeprefix("weekly:").partition("/")
        lines.append(_("Every week ({nth} of {total})").format(nth=nth, total=total))
    if seats.capacity is None:
        lines.append(_("Places: no limit ({n} signed up)").format(n=seats.signed))
    elif seats.left:
        lines.append(
            _("Places: {left} of {capacity} left").format(left=seats.left, capacity=seats.capacity)
        )
    else:
        lines.append(_("Full: {n} on the waitlist").format(n=seats.waiting))
    if activity.status == ActivityStatus.CANCELLED:
        lines.append(_("❌ Called off"))
    elif activity.status == ActivityStatus.DONE:
        lines.append(_("✔ Finished"))
    return lines


def signup_keyboard(activity_id: int, *, signed: bool) -> InlineKeyboardMarkup:
    if signed:
        label, action = _("✖ Cancel my sign-up"), Act.CANCEL
    else:
        label, action = _("✋ Sign up"), Act.SIGNUP
    return inline_keyboard([(label, ActivityAction(action=action, activity_id=activity_id))])


def checkin_keyboard(activity_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(_("✅ Check in"), ActivityAction(action=Act.CHECKIN, activity_id=activity_id))]
    )


def attendance_button(activity_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(_("📋 Attendance"), ActivityAction(action=Act.ATTENDANCE, activity_id=activity_id))]
    )


def organiser_keyboard(activity: Activity, *, may_call_off: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for action, label in (
        (Act.ATTENDANCE, _("📋 Attendance")),
        (Act.CODE, _("🔢 Check-in code")),
        (Act.PHOTOS, _("📷 Add photos")),
    ):
        kb.button(text=label, callback_data=ActivityAction(action=action, activity_id=activity.id))
    if may_call_off:
        kb.button(
            text=_("🚫 Call off"),
            callback_data=ActivityAction(action=Act.CALL_OFF, activity_id=activity.id),
        )
    kb.adjust(2)
    return kb.as_markup()


def publish_button() -> InlineKeyboardMarkup:
    return inline_keyboard([(_("➕ Publish an activity"), NewActivity())])


def publish_confirm_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("✅ Publish"), PublishChoice(publish=True)),
            (str(BTN_CANCEL), PublishChoice(publish=False)),
        ],
        columns=2,
    )


def call_off_keyboard(activity_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (
                _("Yes, call it off"),
                ActivityAction(action=Act.CALL_OFF_YES, activity_id=activity_id),
            ),
        ]
    )


def attendance_text(title: str, lines: list[AttendanceLine]) -> str:
    came = sum(1 for line in lines if line.attended)
    text = _("📋 «{title}»: {came} of {total} checked in. Tap names to tick who came.").format(
        title=title, came=came, total=len(lines)
    )
    if any(line.unverified and line.attended for line in lines):
        text += "\n" + _(
            "📍? checked in by a location that was not live: please make sure they came."
        )
    return text


def attendance_keyboard(activity_id: int, lines: list[AttendanceLine]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for line in lines:
        mark = "✔" if line.booked else ("☑" if line.attended else "☐")
        waiting = _(" (waitlist)") if line.status == SignupStatus.WAITLIST else ""
        unverified = " 📍?" if line.unverified and line.attended else ""
        kb.button(
            text=f"{mark} {line.name}{waiting}{unverified}",
            callback_data=Attend(activity_id=activity_id, user_id=line.user_id),
        )
    kb.button(
        text=_("✅ Finish and record hours"),
        callback_data=ActivityAction(action=Act.FINISH, activity_id=activity_id),
    )
    kb.adjust(1)
    return kb.as_markup()


def location_keyboard(*, skip: bool) -> ReplyKeyboardMarkup:
    """Send my location (the place of an activity, or where I am to check in)."""
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("📍 Send my location"), request_location=True)
    if skip:
        kb.button(text=str(BTN_SKIP))
    kb.button(text=str(BTN_CANCEL))
    kb.adjust(1)
    return kb.as_markup(resize_keyboard=True)


# --- queued notices (those about something that moved on render as None: dropped) ----------


@renders(NoticeKind.ACTIVITY, reads=screens.activity_notice)
def new_activity(note: Note, facts: ActivityFacts) -> Rendered:
    lines = [_("🗓 New activity"), *activity_lines(facts, note.tz)]
    return message(note.chat_id, lines, signup_keyboard(facts.activity.id, signed=facts.signed))


@renders(NoticeKind.ACTIVITY_REMINDER, reads=screens.published_activity_notice)
def reminder(note: Note, activity: Activity) -> Rendered:
    if note.payload.get("which") == "evening":
        head = _("⏰ Tomorrow: «{title}», {when}.")
    else:
        head = _("⏰ Starting soon: «{title}», {when}.")
    lines = [
        head.format(title=activity.title, when=when_text(activity, note.tz)),
        _("Place: {place}").format(place=activity.place),
    ]
    if note.user_id == activity.created_by_id:
        lines.append(_("Check-in code: {code}").format(code=activity.checkin_code))
        return message(note.chat_id, lines, attendance_button(activity.id))
    if note.payload.get("which") == "evening":
        lines.append(_("Can't come after all? Cancel, so someone on the waitlist can go."))
        return message(note.chat_id, lines, signup_keyboard(activity.id, signed=True))
    lines.append(_("At the place, tap «✅ Check in»."))
    return message(note.chat_id, lines, checkin_keyboard(activity.id))


@renders(NoticeKind.ACTIVITY_UPDATE, reads=screens.activity_update_notice)
def update(note: Note, activity: Activity) -> Rendered | None:
    p = note.payload
    when = when_text(activity, note.tz)
    event = p.get("event")
    if event == "promoted":
        if activity.status != ActivityStatus.PUBLISHED:
            return None
        lines = [
            _("🎉 A place came free: you are now signed up for «{title}», {when}.").format(
                title=activity.title, when=when
            )
        ]
        return message(note.chat_id, lines, signup_keyboard(activity.id, signed=True))
    if event == "cancelled":
        lines = [_("«{title}», {when}, is called off.").format(title=activity.title, when=when)]
        if p.get("reason"):
            lines.append(_("Reason: {reason}").format(reason=p["reason"]))
        return message(note.chat_id, lines)
    if event == "hours":
        text = _(
            "Thank you for taking part in «{title}»! {hours} h and {points} points are recorded."
        ).format(
            title=activity.title,
            hours=num_text(p.get("hours")),
            points=num_text(p.get("points")),
        )
        return message(note.chat_id, [text])
    return None


@renders(NoticeKind.KPI_NUDGE)
def kpi_nudge(note: Note, _facts: None) -> Rendered:
    p = note.payload
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
    return message(note.chat_id, [text])
