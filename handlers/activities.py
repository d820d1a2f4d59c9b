"""Activities: the list, publishing one (leader, station head, office), signing up and
cancelling, checking in by code or location, and the organiser's attendance list, check-in
code, photos, finishing (hours into the ledger) and calling it off."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.media import save_attachment
from bot.settings import Settings
from handlers.common import too_long
from models import Activity, ActivityStatus, SignupStatus, User, utcnow
from services import activities, screens
from services.activities import ActivityDraft
from services.errors import DomainError
from services.i18n import local_name
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.activities import (
    ActivityAction,
    Attend,
    activity_lines,
    checkin_keyboard,
    signup_keyboard,
    weekday_name,
)
from views.format import locale
from views.menu import BTN_ACTIVITIES, BTN_CANCEL, BTN_SKIP, Pick, choices_keyboard, main_menu

BTN_PHOTOS_DONE = "✅"
WRONG_CODES_MAX = 5
DAYS_AHEAD = 14
START_TIMES = ["08:00", "09:00", "10:00", "14:00", "15:00", "19:00"]
LENGTHS = ["1", "1.5", "2", "3", "4"]
CAPACITIES = ["10", "20", "30", "50"]


class PublishActivity(StatesGroup):
    audience = State()
    title = State()
    content = State()
    place = State()
    location = State()
    day = State()
    start = State()
    length = State()
    capacity = State()
    repeat = State()
    confirm = State()


class CheckIn(StatesGroup):
    code = State()


class FinishAttendance(StatesGroup):
    hours = State()


class ActivityPhotos(StatesGroup):
    photos = State()


def organiser_keyboard(activity: Activity) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for action, label in (
        ("attendance", _("📋 Attendance")),
        ("code", _("🔢 Check-in code")),
        ("photos", _("📷 Add photos")),
    ):
        kb.button(text=label, callback_data=ActivityAction(action=action, activity_id=activity.id))
    if activity.status == ActivityStatus.PUBLISHED and activity.starts_at > utcnow():
        kb.button(
            text=_("🚫 Call off"),
            callback_data=ActivityAction(action="calloff", activity_id=activity.id),
        )
    kb.adjust(2)
    return kb.as_markup()


def _attendance_keyboard(
    activity_id: int, lines: list[activities.AttendanceLine]
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for line in lines:
        mark = "✔" if line.booked else ("☑" if line.attended else "☐")
        waiting = _(" (waitlist)") if line.status == SignupStatus.WAITLIST else ""
        kb.button(
            text=f"{mark} {line.name}{waiting}",
            callback_data=Attend(activity_id=activity_id, user_id=line.user_id),
        )
    kb.button(
        text=_("✅ Finish and record hours"),
        callback_data=ActivityAction(action="finish", activity_id=activity_id),
    )
    kb.adjust(1)
    return kb.as_markup()


def _location_keyboard() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("📍 Send my location"), request_location=True)
    kb.button(text=str(BTN_SKIP))
    kb.button(text=str(BTN_CANCEL))
    kb.adjust(1)
    return kb.as_markup(resize_keyboard=True)


def _checkin_location_keyboard() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("📍 Send my location"), request_location=True)
    kb.button(text=str(BTN_CANCEL))
    kb.adjust(1)
    return kb.as_markup(resize_keyboard=True)


def _rules(policy: Policy) -> PointsRules:
    return PointsRules.from_policy(policy.points)


def _parse_hours(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip().replace(",", ".").removesuffix("h").strip())
    except InvalidOperation:
        return None
    return value if Decimal(0) < value <= Decimal(24) else None


def _parse_time(text: str | None) -> time | None:
    raw = (text or "").strip().replace("：", ":")
    hours, _sep, minutes = raw.partition(":")
    if not (hours.isdigit() and (minutes.isdigit() or not minutes)):
        return None
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if h < 24 and m < 60 else None


def router() -> Router:
    r = Router(name="activities")

    # --- the list -------------------------------------------------------------------------
    @r.message(Command("activities"))
    @r.message(F.text == BTN_ACTIVITIES)
    async def show_list(
        message: Message, session: AsyncSession, user: User, roles: Roles, settings: Settings
    ) -> None:
        if not user.registered:
            await message.answer(_("Please send /start first, so we know your village."))
            return
        found = await activities.upcoming_for(session, user, roles)
        teams, stations = await activities.publishable_targets(session, roles)
        if not found:
            await message.answer(_("No activities coming up."))
        now = utcnow()
        for activity in found:
            lines = activity_lines(await screens.activity_facts(session, activity), settings.tz)
            markup: InlineKeyboardMarkup | None
            if activities.may_manage(roles, activity):
                markup = organiser_keyboard(activity)
            else:
                mine = await activities.my_signup(session, activity.id, user.id)
                signed = mine is not None and mine.status != SignupStatus.CANCELLED
                published = activity.status == ActivityStatus.PUBLISHED
                if published and activities.in_checkin_window(activity, now):
                    markup = checkin_keyboard(activity.id)
                elif published and activity.starts_at > now:
                    markup = signup_keyboard(activity.id, signed=signed)
                else:
                    markup = None
                if mine is not None and mine.status == SignupStatus.WAITLIST:
                    lines.append(_("You are on the waitlist."))
                elif signed:
                    lines.append(_("You are signed up."))
            await message.answer("\n".join(lines), reply_markup=markup)
        if teams or stations:
            kb = InlineKeyboardBuilder()
            kb.button(
                text=_("➕ Publish an activity"), callback_data=Pick(what="act_new", value="1")
            )
            await message.answer(
                _("Organisers can publish an activity for their team or village."),
                reply_markup=kb.as_markup(),
            )

    # --- publishing -----------------------------------------------------------------------
    async def _targets(session: AsyncSession, roles: Roles) -> dict[str, str]:
        teams, stations = await activities.publishable_targets(session, roles)
        out = {local_name(t, locale()): f"t{t.id}" for t in teams}
        out |= {local_name(s, locale()): f"s{s.id}" for s in stations}
        return out

    @r.message(Command("publish"))
    @r.callback_query(Pick.filter(F.what == "act_new"))
    async def begin_publish(
        event: Message | CallbackQuery, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        message = event.message if isinstance(event, CallbackQuery) else event
        if isinstance(event, CallbackQuery):
            await event.answer()
        if not isinstance(message, Message):
            return
        targets = await _targets(session, roles)
        if not targets:
            await message.answer(_("Only team leaders and station heads can publish activities."))
            return
        await state.clear()
        await state.update_data(targets=targets)
        if len(targets) == 1:
            await state.update_data(target=next(iter(targets.values())))
            await _ask_title(message, state)
            return
        await state.set_state(PublishActivity.audience)
        await message.answer(
            _("Who is the activity for?"),
            reply_markup=choices_keyboard(list(targets), columns=1, back=False),
        )

    async def _ask_title(message: Message, state: FSMContext) -> None:
        await state.set_state(PublishActivity.title)
        await message.answer(
            _("The title of the activity? (e.g. Free clinic in the village)"),
            reply_markup=choices_keyboard([], back=False),
        )

    @r.message(PublishActivity.audience, F.text, F.text != BTN_CANCEL)
    async def got_audience(message: Message, state: FSMContext) -> None:
        targets = (await state.get_data())["targets"]
        if message.text not in targets:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(target=targets[message.text])
        await _ask_title(message, state)

    @r.message(PublishActivity.title, F.text, F.text != BTN_CANCEL)
    async def got_title(message: Message, state: FSMContext) -> None:
        title = (message.text or "").strip()
        if not title or len(title) > activities.MAX_TITLE or title.startswith("/"):
            await message.answer(
                _("Please write a title of at most {n} characters.").format(n=activities.MAX_TITLE)
            )
            return
        await state.update_data(title=title)
        await state.set_state(PublishActivity.content)
        await message.answer(
            _("What will happen? A few words on the content (or tap «Skip»)."),
            reply_markup=choices_keyboard([str(BTN_SKIP)], back=False),
        )

    @r.message(PublishActivity.content, F.text, F.text != BTN_CANCEL)
    async def got_content(message: Message, state: FSMContext) -> None:
        content = "" if message.text == BTN_SKIP else (message.text or "").strip()
        if await too_long(message, content, activities.MAX_CONTENT):
            return
        await state.update_data(content=content)
        await state.set_state(PublishActivity.place)
        await message.answer(
            _("Where does it take place?"), reply_markup=choices_keyboard([], back=False)
        )

    @r.message(PublishActivity.place, F.text, F.text != BTN_CANCEL)
    async def got_place(message: Message, state: FSMContext) -> None:
        place = (message.text or "").strip()
        if not place or len(place) > activities.MAX_PLACE:
            await message.answer(
                _("Please write the place in at most {n} characters.").format(
                    n=activities.MAX_PLACE
                )
            )
            return
        await state.update_data(place=place)
        await state.set_state(PublishActivity.location)
        await message.answer(
            _(
                "If you are at the place now, send its location: volunteers can then check "
                "in by sending theirs. Otherwise tap «Skip»."
            ),
            reply_markup=_location_keyboard(),
        )

    async def _ask_day(message: Message, state: FSMContext, tz: tzinfo) -> None:
        today = utcnow().astimezone(tz).date()
        days = {
            f"{d.month}/{d.day} {weekday_name(d)}": d.isoformat()
            for d in (today + timedelta(days=i) for i in range(DAYS_AHEAD))
        }
        await state.update_data(days=days)
        await state.set_state(PublishActivity.day)
        await message.answer(
            _("Which day? Tap one, or write a date like 2026-12-31."),
            reply_markup=choices_keyboard(list(days), columns=3, back=False),
        )

    @r.message(PublishActivity.location, F.location)
    async def got_location(message: Message, state: FSMContext, settings: Settings) -> None:
        loc = message.location
        if loc is not None:
            await state.update_data(latitude=loc.latitude, longitude=loc.longitude)
        await _ask_day(message, state, settings.tz)

    @r.message(PublishActivity.location, F.text == BTN_SKIP)
    async def skip_location(message: Message, state: FSMContext, settings: Settings) -> None:
        await _ask_day(message, state, settings.tz)

    @r.message(PublishActivity.day, F.text, F.text != BTN_CANCEL)
    async def got_day(message: Message, state: FSMContext, settings: Settings) -> None:
        days = (await state.get_data())["days"]
        text = (message.text or "").strip()
        picked = days.get(text) or text
        try:
            day = date.fromisoformat(picked)
        except ValueError:
            await message.answer(_("Please tap a day, or write a date like 2026-12-31."))
            return
        if day < utcnow().astimezone(settings.tz).date():
            await message.answer(_("That day has passed. Please choose another."))
            return
        await state.update_data(day=day.isoformat())
        await state.set_state(PublishActivity.start)
        await message.answer(
            _("What time does it start? Tap one, or write a time like 09:30."),
            reply_markup=choices_keyboard(START_TIMES, columns=3, back=False),
        )

    @r.message(PublishActivity.start, F.text, F.text != BTN_CANCEL)
    async def got_start(message: Message, state: FSMContext, settings: Settings) -> None:
        at = _parse_time(message.text)
        data = await state.get_data()
        if at is None:
            await message.answer(_("Please write a time like 09:30."))
            return
        start = datetime.combine(date.fromisoformat(data["day"]), at, tzinfo=settings.tz)
        if start <= utcnow():
            await message.answer(_("That time has passed. Please choose a later one."))
            return
        await state.update_data(start=start.isoformat())
        await state.set_state(PublishActivity.length)
        await message.answer(
            _("How many hours does it last?"),
            reply_markup=choices_keyboard(LENGTHS, columns=5, back=False),
        )

    @r.message(PublishActivity.length, F.text, F.text != BTN_CANCEL)
    async def got_length(message: Message, state: FSMContext) -> None:
        hours = _parse_hours(message.text)
        if hours is None or hours > 12:
            await message.answer(_("Please give a number of hours between 0.5 and 12."))
            return
        await state.update_data(hours=str(hours))
        await state.set_state(PublishActivity.capacity)
        await message.answer(
            _("How many places? Tap one, write a number, or tap «No limit»."),
            reply_markup=choices_keyboard([*CAPACITIES, _("No limit")], columns=5, back=False),
        )

    @r.message(PublishActivity.capacity, F.text, F.text != BTN_CANCEL)
    async def got_capacity(message: Message, state: FSMContext) -> None:
        text = (message.text or "").strip()
        if text == _("No limit"):
            capacity = None
        elif text.isdigit() and 1 <= int(text) <= activities.MAX_CAPACITY:
            capacity = int(text)
        else:
            await message.answer(
                _("Please write a number from 1 to {max}, or tap «No limit».").format(
                    max=activities.MAX_CAPACITY
                )
            )
            return
        await state.update_data(capacity=capacity)
        await state.set_state(PublishActivity.repeat)
        await message.answer(
            _("Once, or every week?"),
            reply_markup=choices_keyboard(list(_repeats()), columns=1, back=False),
        )

    def _repeats() -> dict[str, int]:
        return {
            _("Once"): 1,
            _("Every week, 4 times"): 4,
            _("Every week, 8 times"): 8,
        }

    @r.message(PublishActivity.repeat, F.text, F.text != BTN_CANCEL)
    async def got_repeat(
        message: Message, state: FSMContext, session: AsyncSession, settings: Settings
    ) -> None:
        weeks = _repeats().get(message.text or "")
        if weeks is None:
            await message.answer(_("Please tap one of the buttons below."))
            return
        await state.update_data(weeks=weeks)
        await state.set_state(PublishActivity.confirm)
        data = await state.get_data()
        draft = _draft(data)
        preview = Activity(
            id=0,
            title=draft.title,
            content=draft.content,
            place=draft.place,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            capacity=draft.capacity,
            team_id=draft.team_id,
            station_id=draft.station_id,
            recurrence=f"weekly:1/{weeks}" if weeks > 1 else None,
            status=ActivityStatus.PUBLISHED,
        )
        seats = activities.Places(0, 0, draft.capacity)
        lines = [
            _("Please check the activity:"),
            *activity_lines(
                await screens.activity_facts(session, preview, seats=seats), settings.tz
            ),
        ]
        if draft.latitude is not None:
            lines.append(_("📍 Check-in by location is on."))
        kb = InlineKeyboardBuilder()
        kb.button(text=_("✅ Publish"), callback_data=Pick(what="act_pub", value="yes"))
        kb.button(text=str(BTN_CANCEL), callback_data=Pick(what="act_pub", value="no"))
        await message.answer("\n".join(lines), reply_markup=kb.as_markup())

    def _draft(data: dict[str, Any]) -> ActivityDraft:
        start = datetime.fromisoformat(data["start"])
        target = data["target"]
        return ActivityDraft(
            title=data["title"],
            content=data.get("content", ""),
            place=data["place"],
            starts_at=start,
            ends_at=start + timedelta(hours=float(data["hours"])),
            capacity=data.get("capacity"),
            team_id=int(target[1:]) if target.startswith("t") else None,
            station_id=int(target[1:]) if target.startswith("s") else None,
            weeks=int(data.get("weeks", 1)),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )

    @r.callback_query(PublishActivity.confirm, Pick.filter(F.what == "act_pub"))
    async def confirm_publish(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        policy: Policy,
    ) -> None:
        data = await state.get_data()
        await state.clear()
        message = query.message if isinstance(query.message, Message) else None
        if callback_data.value != "yes":
            await query.answer(_("Stopped. Nothing was saved."))
            if message is not None:
                await message.edit_reply_markup(reply_markup=None)
                await message.answer(
                    _("Stopped. Nothing was saved."), reply_markup=main_menu(roles)
                )
            return
        created = await activities.publish(
            session,
            user,
            roles,
            _draft(data),
            tz=settings.tz,
            evening_at=policy.volunteer_reminders.evening_before,
        )
        await query.answer(_("Published."))
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            first = created[0]
            await message.answer(
                _(
                    "Published: {number}. Its audience is being told. The check-in code "
                    "is {code}; you find it again under «Activities»."
                ).format(number=first.number, code=first.checkin_code),
                reply_markup=main_menu(roles),
            )

    @r.message(PublishActivity.location)
    async def wrong_location(message: Message) -> None:
        await message.answer(_("Please send the location with the button below, or tap «Skip»."))

    # --- signing up -----------------------------------------------------------------------
    @r.callback_query(ActivityAction.filter(F.action == "signup"))
    async def sign_up(
        query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, user: User
    ) -> None:
        result = await activities.sign_up(session, callback_data.activity_id, user)
        if result.status == SignupStatus.WAITLIST:
            text = _(
                "All places are taken. You are number {n} on the waitlist; we will tell you "
                "if a place frees up."
            ).format(n=result.position)
            await query.answer(text, show_alert=True)
        else:
            await query.answer(_("✅ You are signed up. We will remind you before it starts."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(
                reply_markup=signup_keyboard(callback_data.activity_id, signed=True)
            )

    @r.callback_query(ActivityAction.filter(F.action == "cancel"))
    async def cancel_signup(
        query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, user: User
    ) -> None:
        await activities.cancel_signup(session, callback_data.activity_id, user)
        await query.answer(_("Your sign-up is cancelled."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(
                reply_markup=signup_keyboard(callback_data.activity_id, signed=False)
            )

    # --- checking in (volunteers) ---------------------------------------------------------
    async def _ask_code(message: Message, state: FSMContext) -> None:
        await state.clear()
        await state.set_state(CheckIn.code)
        await state.update_data(wrong=0)
        await message.answer(
            _(
                "Type the 6-digit code the organiser shows you, or send your location "
                "when you are at the place."
            ),
            reply_markup=_checkin_location_keyboard(),
        )

    @r.message(Command("checkin"))
    async def checkin_command(message: Message, state: FSMContext) -> None:
        await _ask_code(message, state)

    @r.callback_query(ActivityAction.filter(F.action == "checkin"))
    async def checkin_button(query: CallbackQuery, state: FSMContext) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await _ask_code(query.message, state)

    async def _checked_in(
        message: Message, state: FSMContext, roles: Roles, activity: Activity
    ) -> None:
        await state.clear()
        await message.answer(
            _("✅ Checked in to «{title}». Thank you for coming!").format(title=activity.title),
            reply_markup=main_menu(roles),
        )

    @r.message(CheckIn.code, F.location)
    async def checkin_location(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        loc = message.location
        if loc is None:
            return
        activity = await activities.check_in_by_location(session, user, loc.latitude, loc.longitude)
        await _checked_in(message, state, roles, activity)

    @r.message(CheckIn.code, F.text, F.text != BTN_CANCEL)
    async def checkin_code(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        try:
            activity = await activities.check_in_by_code(session, user, message.text or "")
        except DomainError as exc:
            wrong = int((await state.get_data()).get("wrong", 0)) + 1
            if wrong >= WRONG_CODES_MAX:
                await state.clear()
                await message.answer(
                    _("That did not work. Please ask the organiser to tick you on the list."),
                    reply_markup=main_menu(roles),
                )
                return
            await state.update_data(wrong=wrong)
            await message.answer(_(exc.message).format(**exc.params))
            return
        await _checked_in(message, state, roles, activity)

    # --- the organiser --------------------------------------------------------------------
    async def _managed(
        query: CallbackQuery, session: AsyncSession, roles: Roles, activity_id: int
    ) -> Activity | None:
        activity = await session.get(Activity, activity_id)
        if activity is None or not activities.may_manage(roles, activity):
            await query.answer(_("Only the organiser can do this."), show_alert=True)
            return None
        return activity

    @r.callback_query(ActivityAction.filter(F.action == "code"))
    async def show_code(
        query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, roles: Roles
    ) -> None:
        activity = await _managed(query, session, roles, callback_data.activity_id)
        if activity is None:
            return
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                _(
                    "Check-in code for «{title}»: {code}\nShow it at the activity: volunteers "
                    "tap «✅ Check in» (or send /checkin) and type it."
                ).format(title=activity.title, code=activity.checkin_code)
            )

    async def _send_attendance(
        message: Message, session: AsyncSession, user: User, roles: Roles, activity: Activity
    ) -> None:
        lines = await activities.attendance(session, activity.id, user, roles)
        came = sum(1 for line in lines if line.attended)
        text = _("📋 «{title}»: {came} of {total} checked in. Tap names to tick who came.").format(
            title=activity.title, came=came, total=len(lines)
        )
        await message.answer(text, reply_markup=_attendance_keyboard(activity.id, lines))

    @r.callback_query(ActivityAction.filter(F.action == "attendance"))
    async def show_attendance(
        query: CallbackQuery,
        callback_data: ActivityAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        activity = await _managed(query, session, roles, callback_data.activity_id)
        if activity is None:
            return
        await query.answer()
        if isinstance(query.message, Message):
            await _send_attendance(query.message, session, user, roles, activity)

    @r.callback_query(Attend.filter())
    async def toggle(
        query: CallbackQuery, callback_data: Attend, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        aid = callback_data.activity_id
        lines = await activities.attendance(session, aid, user, roles)
        current = next((x for x in lines if x.user_id == callback_data.user_id), None)
        await activities.set_attended(
            session,
            aid,
            user,
            roles,
            callback_data.user_id,
            not (current.attended if current else False),
        )
        lines = await activities.attendance(session, aid, user, roles)
        await query.answer()
        if isinstance(query.message, Message):
            came = sum(1 for line in lines if line.attended)
            activity = await session.get(Activity, aid)
            await query.message.edit_text(
                _("📋 «{title}»: {came} of {total} checked in. Tap names to tick who came.").format(
                    title=activity.title if activity else "", came=came, total=len(lines)
                ),
                reply_markup=_attendance_keyboard(aid, lines),
            )

    @r.callback_query(ActivityAction.filter(F.action == "finish"))
    async def ask_hours(
        query: CallbackQuery,
        callback_data: ActivityAction,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        activity = await _managed(query, session, roles, callback_data.activity_id)
        if activity is None:
            return
        await query.answer()
        planned = activities.duration_hours(activity)
        shown = f"{planned.normalize():f}"
        await state.set_state(FinishAttendance.hours)
        await state.update_data(activity_id=activity.id)
        if isinstance(query.message, Message):
            await query.message.answer(
                _(
                    "How many hours should each person who came get? The activity was planned "
                    "for {hours} h. Tap it, or write another number."
                ).format(hours=shown),
                reply_markup=choices_keyboard(
                    list(dict.fromkeys([shown, "1", "2", "3"])), columns=4, back=False
                ),
            )

    @r.message(FinishAttendance.hours, F.text, F.text != BTN_CANCEL)
    async def finish(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        policy: Policy,
    ) -> None:
        hours = _parse_hours(message.text)
        if hours is None:
            await message.answer(_("Please give a number of hours between 0.5 and 24."))
            return
        data = await state.get_data()
        await state.clear()
        try:
            booked = await activities.finish(
                session, data["activity_id"], user, roles, _rules(policy), hours=hours
            )
        except DomainError as exc:
            await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
            return
        await message.answer(
            _("Recorded: hours for {n} people are in the ledger. Thank you!").format(n=len(booked)),
            reply_markup=main_menu(roles),
        )

    @r.callback_query(ActivityAction.filter(F.action == "photos"))
    async def ask_photos(
        query: CallbackQuery,
        callback_data: ActivityAction,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        activity = await _managed(query, session, roles, callback_data.activity_id)
        if activity is None:
            return
        await query.answer()
        await state.set_state(ActivityPhotos.photos)
        await state.update_data(activity_id=activity.id, photos=[])
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Send photos of «{title}». Tap ✅ when all are sent.").format(
                    title=activity.title
                ),
                reply_markup=choices_keyboard([BTN_PHOTOS_DONE], back=False),
            )

    @r.message(ActivityPhotos.photos, F.photo)
    async def got_photo(message: Message, state: FSMContext, bot: Bot, settings: Settings) -> None:
        data = await state.get_data()
        photos = data.get("photos", [])
        if len(photos) >= activities.MAX_PHOTOS:
            await message.answer(
                _("That is {n} photos already; tap ✅ to go on.").format(n=activities.MAX_PHOTOS)
            )
            return
        photo = (message.photo or [])[-1]
        path = await save_attachment(
            bot, settings.media_dir, photo.file_id, photo.file_unique_id, "jpg"
        )
        photos.append([photo.file_id, photo.file_unique_id, path])
        await state.update_data(photos=photos)
        await message.answer(_("Photo {n} received.").format(n=len(photos)))

    @r.message(ActivityPhotos.photos, F.text == BTN_PHOTOS_DONE)
    async def photos_done(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        data = await state.get_data()
        if not data.get("photos"):
            await message.answer(_("Please send at least one photo first."))
            return
        await state.clear()
        try:
            added = await activities.add_photos(
                session, data["activity_id"], user, roles, [tuple(p) for p in data["photos"]]
            )
        except DomainError as exc:
            await message.answer(_(exc.message).format(**exc.params), reply_markup=main_menu(roles))
            return
        await message.answer(
            _("{n} photo(s) filed with the activity's record.").format(n=added),
            reply_markup=main_menu(roles),
        )

    @r.message(ActivityPhotos.photos)
    async def wrong_photo_input(message: Message) -> None:
        await message.answer(_("Please send a photo, or tap ✅ when all are sent."))

    @r.callback_query(ActivityAction.filter(F.action == "calloff"))
    async def call_off(
        query: CallbackQuery, callback_data: ActivityAction, session: AsyncSession, roles: Roles
    ) -> None:
        activity = await _managed(query, session, roles, callback_data.activity_id)
        if activity is None:
            return
        await query.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, call it off"),
            callback_data=ActivityAction(action="calloff_yes", activity_id=activity.id),
        )
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Call off «{title}»? Everyone signed up will be told.").format(
                    title=activity.title
                ),
                reply_markup=kb.as_markup(),
            )

    @r.callback_query(ActivityAction.filter(F.action == "calloff_yes"))
    async def call_off_yes(
        query: CallbackQuery,
        callback_data: ActivityAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        await activities.cancel_activity(session, callback_data.activity_id, user, roles)
        await query.answer(_("Called off. Everyone signed up is being told."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)

    @r.message(PublishActivity.confirm)
    async def confirm_with_buttons(message: Message) -> None:
        await message.answer(_("Please use the buttons above: «Publish» or «Cancel»."))

    return r
