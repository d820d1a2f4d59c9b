"""Notices: office staff and station heads compose a broadcast, choose who gets it and when,
preview it and send it; a station head's goes to the office for approval first. Also the
lists of scheduled notices (with Cancel) and of one's own notices with their delivery.

    📢 Notices → ✍ New notice → text or photo → audience (→ villages / team)
               → when: now / a date and time / repeat (daily, weekly on days, monthly)
               → preview → ✅ Send  (a station head: 📨 Send for approval)
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta, tzinfo

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from handlers.common import too_long
from models import Broadcast, BroadcastStatus, User, utcnow
from scheduler import Scheduler
from services import broadcasts, screens
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import local_name
from services.people import Roles
from services.quiet import QuietHours
from services.reminders import at_local
from views.broadcasts import (
    AUDIENCE_LABELS,
    WEEKDAYS,
    BroadcastAction,
    NoticeStep,
    audience_label,
    notice_text,
    report_lines,
    rule_label,
    status_label,
    when_label,
)
from views.format import local_time, locale
from views.menu import BTN_CANCEL, BTN_NOTICES, choices_keyboard, main_menu

TIME_CHOICES = ("08:00", "10:00", "14:00", "19:00")
DAYS_AHEAD = 7


class NoticeForm(StatesGroup):
    text = State()
    audience = State()
    villages = State()
    team = State()
    when = State()
    day = State()
    time = State()
    repeat = State()
    weekdays = State()
    monthday = State()
    preview = State()


class RejectForm(StatesGroup):
    reason = State()


# --- the conversation ----------------------------------------------------------------------


def _steps(items: list[tuple[str, str, str]], columns: int = 1) -> InlineKeyboardMarkup:
    """Inline buttons from (label, what, value)."""
    kb = InlineKeyboardBuilder()
    for label, what, value in items:
        kb.button(text=label, callback_data=NoticeStep(what=what, value=value))
    kb.adjust(columns)
    return kb.as_markup()


def _toggles(
    items: list[tuple[str, str]], chosen: set[str], what: str, done: str, columns: int = 2
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, value in items:
        mark = "☑" if value in chosen else "☐"
        kb.button(text=f"{mark} {label}", callback_data=NoticeStep(what=what, value=value))
    kb.adjust(columns)
    kb.row()
    kb.button(text=_("Next ➡"), callback_data=NoticeStep(what=done))
    return kb.as_markup()


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def _show(message: Message, text: str, markup: InlineKeyboardMarkup, *, edit: bool) -> None:
    """A step's question: in place of the message that asked before (a button was tapped),
    or as a new one."""
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


def router() -> Router:
    r = Router(name="broadcast")

    # --- entry ----------------------------------------------------------------------------
    @r.message(F.text == BTN_NOTICES)
    async def notices_menu(message: Message, state: FSMContext, roles: Roles) -> None:
        if not broadcasts.may_compose(roles):
            await message.answer(_("Only the office and station heads can send notices."))
            return
        await state.clear()
        await message.answer(
            _("Notices to residents and volunteers. What would you like to do?"),
            reply_markup=_steps(
                [
                    (_("✍ New notice"), "menu", "new"),
                    (_("🗓 Scheduled notices"), "menu", "scheduled"),
                    (_("📊 My notices and reports"), "menu", "mine"),
                ]
            ),
        )

    @r.callback_query(NoticeStep.filter((F.what == "menu") & (F.value == "new")))
    async def new_notice(
        query: CallbackQuery, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        towns = await broadcasts.towns_for(session, roles) if broadcasts.may_compose(roles) else []
        if not towns:
            await query.answer(
                _("Only the office and station heads can send notices."), show_alert=True
            )
            return
        await query.answer()
        await state.clear()
        await state.update_data(town_id=towns[0].id)
        await state.set_state(NoticeForm.text)
        if msg := _message(query):
            await msg.answer(
                _("Write the notice. You can also send a photo with the text as its caption."),
                reply_markup=choices_keyboard([], back=False),
            )

    # --- the text -------------------------------------------------------------------------
    @r.message(NoticeForm.text, F.photo)
    async def got_photo(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        caption = (message.caption or "").strip()
        if await too_long(message, caption, broadcasts.MAX_CAPTION):
            return
        assert message.photo
        await state.update_data(text=caption, photo=message.photo[-1].file_id)
        await _ask_audience(message, state, session, roles)

    @r.message(NoticeForm.text, F.text, F.text != BTN_CANCEL)
    async def got_text(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        text = (message.text or "").strip()
        if await too_long(message, text, broadcasts.MAX_TEXT):
            return
        await state.update_data(text=text, photo=None)
        await _ask_audience(message, state, session, roles)

    # --- the audience ---------------------------------------------------------------------
    async def _ask_audience(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles
    ) -> None:
        town_id = (await state.get_data())["town_id"]
        if broadcasts.needs_approval(roles, town_id):  # a station head: their own villages
            await _ask_villages(message, state, session, roles, edit=False)
            return
        await state.set_state(NoticeForm.audience)
        await message.answer(
            _("Who should get it?"),
            reply_markup=_steps(
                [(_(label), "aud", kind) for kind, label in AUDIENCE_LABELS.items()], columns=2
            ),
        )

    @r.callback_query(NoticeForm.audience, NoticeStep.filter(F.what == "aud"))
    async def audience_chosen(
        query: CallbackQuery,
        callback_data: NoticeStep,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        kind = callback_data.value
        if kind not in broadcasts.AUDIENCE_KINDS:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        msg = _message(query)
        if msg is None:
            return
        if kind == "stations":
            await _ask_villages(msg, state, session, roles, edit=True)
        elif kind == "team":
            town_id = (await state.get_data())["town_id"]
            teams = await broadcasts.teams_in(session, town_id)
            await state.set_state(NoticeForm.team)
            await msg.edit_text(
                _("Which team?"),
                reply_markup=_steps([(local_name(t, locale()), "team", str(t.id)) for t in teams]),
            )
        else:
            await state.update_data(audience={"kind": kind, "ids": []})
            await _ask_when(msg, state, edit=True)

    async def _ask_villages(
        message: Message, state: FSMContext, session: AsyncSession, roles: Roles, *, edit: bool
    ) -> None:
        data = await state.get_data()
        stations = await broadcasts.stations_for(session, roles, data["town_id"])
        chosen = {str(i) for i in data.get("village_ids", [])}
        if len(stations) == 1 and not chosen:
            chosen = {str(stations[0].id)}
            await state.update_data(village_ids=[stations[0].id])
        await state.set_state(NoticeForm.villages)
        items = [(local_name(s, locale()), str(s.id)) for s in stations]
        markup = _toggles(items, chosen, "vil", "vil_done")
        text = _("Which villages? Tap to choose one or more, then «Next».")
        await _show(message, text, markup, edit=edit)

    @r.callback_query(NoticeForm.villages, NoticeStep.filter(F.what == "vil"))
    async def village_toggled(
        query: CallbackQuery,
        callback_data: NoticeStep,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        data = await state.get_data()
        stations = await broadcasts.stations_for(session, roles, data["town_id"])
        allowed = {str(s.id) for s in stations}
        if callback_data.value not in allowed:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        chosen = {str(i) for i in data.get("village_ids", [])} ^ {callback_data.value}
        await state.update_data(village_ids=sorted(int(i) for i in chosen))
        items = [(local_name(s, locale()), str(s.id)) for s in stations]
        if msg := _message(query):
            await msg.edit_reply_markup(reply_markup=_toggles(items, chosen, "vil", "vil_done"))

    @r.callback_query(NoticeForm.villages, NoticeStep.filter(F.what == "vil_done"))
    async def villages_done(query: CallbackQuery, state: FSMContext) -> None:
        ids = (await state.get_data()).get("village_ids") or []
        if not ids:
            await query.answer(_("Please choose at least one village."), show_alert=True)
            return
        await query.answer()
        await state.update_data(audience={"kind": "stations", "ids": ids})
        if msg := _message(query):
            await _ask_when(msg, state, edit=True)

    @r.callback_query(NoticeForm.team, NoticeStep.filter(F.what == "team"))
    async def team_chosen(
        query: CallbackQuery, callback_data: NoticeStep, state: FSMContext, session: AsyncSession
    ) -> None:
        town_id = (await state.get_data())["town_id"]
        teams = {str(t.id) for t in await broadcasts.teams_in(session, town_id)}
        if callback_data.value not in teams:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await state.update_data(audience={"kind": "team", "ids": [int(callback_data.value)]})
        if msg := _message(query):
            await _ask_when(msg, state, edit=True)

    # --- when -----------------------------------------------------------------------------
    async def _ask_when(message: Message, state: FSMContext, *, edit: bool) -> None:
        await state.set_state(NoticeForm.when)
        text = _("When should it go out?")
        markup = _steps(
            [
                (_("▶ Now"), "when", "now"),
                (_("📅 On a date and time"), "when", "at"),
                (_("🔁 Repeat"), "when", "repeat"),
            ]
        )
        await _show(message, text, markup, edit=edit)

    @r.callback_query(NoticeForm.when, NoticeStep.filter(F.what == "when"))
    async def when_chosen(
        query: CallbackQuery,
        callback_data: NoticeStep,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        await query.answer()
        msg = _message(query)
        if msg is None:
            return
        if callback_data.value == "now":
            await state.update_data(mode="now", day=None, rule=None)
            await msg.edit_reply_markup(reply_markup=None)
            await _preview(msg, state, session, roles, settings)
        elif callback_data.value == "at":
            await state.update_data(mode="at", rule=None)
            await state.set_state(NoticeForm.day)
            today = utcnow().astimezone(settings.tz).date()
            days = [today + timedelta(days=i) for i in range(DAYS_AHEAD)]
            await msg.edit_text(
                _("Which day?"),
                reply_markup=_steps(
                    [(_day_label(d), "day", d.isoformat()) for d in days], columns=2
                ),
            )
        else:
            await state.update_data(mode="repeat", day=None)
            await state.set_state(NoticeForm.repeat)
            await msg.edit_text(
                _("How often?"),
                reply_markup=_steps(
                    [
                        (_("Every day"), "rep", "daily"),
                        (_("Every week"), "rep", "weekly"),
                        (_("Every month"), "rep", "monthly"),
                    ]
                ),
            )

    @r.callback_query(NoticeForm.day, NoticeStep.filter(F.what == "day"))
    async def day_chosen(
        query: CallbackQuery, callback_data: NoticeStep, state: FSMContext
    ) -> None:
        try:
            date.fromisoformat(callback_data.value)
        except ValueError:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await state.update_data(day=callback_data.value)
        if msg := _message(query):
            await _ask_time(msg, state)

    @r.callback_query(NoticeForm.repeat, NoticeStep.filter(F.what == "rep"))
    async def repeat_chosen(
        query: CallbackQuery, callback_data: NoticeStep, state: FSMContext
    ) -> None:
        kind = callback_data.value
        if kind not in broadcasts.RECURRENCE_KINDS:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await state.update_data(rule={"kind": kind, "days": []})
        msg = _message(query)
        if msg is None:
            return
        if kind == "weekly":
            await state.set_state(NoticeForm.weekdays)
            await msg.edit_text(
                _("On which days of the week? Tap one or more, then «Next»."),
                reply_markup=_weekday_toggles(set()),
            )
        elif kind == "monthly":
            await state.set_state(NoticeForm.monthday)
            await msg.edit_text(_("On which day of the month? Write a number from 1 to 31."))
        else:
            await _ask_time(msg, state)

    @r.callback_query(NoticeForm.weekdays, NoticeStep.filter(F.what == "wd"))
    async def weekday_toggled(
        query: CallbackQuery, callback_data: NoticeStep, state: FSMContext
    ) -> None:
        if callback_data.value not in {str(i) for i in range(7)}:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        rule = (await state.get_data())["rule"]
        days = {str(d) for d in rule["days"]} ^ {callback_data.value}
        rule["days"] = sorted(int(d) for d in days)
        await state.update_data(rule=rule)
        if msg := _message(query):
            await msg.edit_reply_markup(reply_markup=_weekday_toggles(days))

    @r.callback_query(NoticeForm.weekdays, NoticeStep.filter(F.what == "wd_done"))
    async def weekdays_done(query: CallbackQuery, state: FSMContext) -> None:
        if not (await state.get_data())["rule"]["days"]:
            await query.answer(_("Please choose at least one day of the week."), show_alert=True)
            return
        await query.answer()
        if msg := _message(query):
            await _ask_time(msg, state)

    @r.message(NoticeForm.monthday, F.text, F.text != BTN_CANCEL)
    async def got_monthday(message: Message, state: FSMContext) -> None:
        text = (message.text or "").strip()
        if not text.isdigit() or not 1 <= int(text) <= 31:
            await message.answer(_("Please give a day of the month from 1 to 31."))
            return
        rule = (await state.get_data())["rule"]
        rule["days"] = [int(text)]
        await state.update_data(rule=rule)
        await _ask_time(message, state, edit=False)

    async def _ask_time(message: Message, state: FSMContext, *, edit: bool = True) -> None:
        await state.set_state(NoticeForm.time)
        text = _("At what time? Tap one, or write it like 09:30.")
        # ":" separates callback data fields: "08:00" travels as "0800"
        markup = _steps([(t, "time", t.replace(":", "")) for t in TIME_CHOICES], columns=4)
        await _show(message, text, markup, edit=edit)

    async def _time_chosen(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
        clock: str,
    ) -> None:
        if broadcasts.parse_clock(clock) is None:
            await message.answer(_("Please write the time like 09:30."))
            return
        data = await state.get_data()
        if data.get("mode") == "repeat":
            rule = {**data["rule"], "time": clock}
            await state.update_data(rule=rule)
        else:
            at = _local(data["day"], clock, settings.tz)
            if at <= utcnow():
                await message.answer(_("That time has already passed. Please choose a later one."))
                return
            await state.update_data(clock=clock)
        await _preview(message, state, session, roles, settings)

    @r.callback_query(NoticeForm.time, NoticeStep.filter(F.what == "time"))
    async def time_button(
        query: CallbackQuery,
        callback_data: NoticeStep,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        await query.answer()
        if msg := _message(query):
            await msg.edit_reply_markup(reply_markup=None)
            value = callback_data.value
            await _time_chosen(msg, state, session, roles, settings, f"{value[:2]}:{value[2:]}")

    @r.message(NoticeForm.time, F.text, F.text != BTN_CANCEL)
    async def time_text(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        await _time_chosen(message, state, session, roles, settings, (message.text or "").strip())

    # --- preview and send -----------------------------------------------------------------
    async def _preview(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        data = await state.get_data()
        await state.set_state(NoticeForm.preview)
        body = notice_text(data.get("text") or "")
        if data.get("photo"):
            await message.answer_photo(data["photo"], caption=body[:1024])
        else:
            await message.answer(body)
        audience = data["audience"]
        count = await broadcasts.count_audience(session, data["town_id"], audience)
        if data.get("mode") == "repeat":
            when = rule_label(data["rule"])
        elif data.get("mode") == "at":
            when = local_time(_local(data["day"], data["clock"], settings.tz), settings.tz)
        else:
            when = _("now")
        lines = [
            _("This is how it will look. Please check:"),
            _("To: {audience} ({n} people)").format(
                audience=audience_label(audience, await screens.audience_places(session, audience)),
                n=count,
            ),
            _("When: {when}").format(when=when),
        ]
        approval = broadcasts.needs_approval(roles, data["town_id"])
        if approval:
            lines.append(_("The institute office will approve it before it goes out."))
        first = broadcasts.first_run(
            utcnow(),
            settings.tz,
            _local(data["day"], data["clock"], settings.tz) if data.get("mode") == "at" else None,
            data["rule"] if data.get("mode") == "repeat" else None,
        )
        quiet = QuietHours(settings.quiet_hours_start, settings.quiet_hours_end, settings.tz)
        if quiet.is_quiet(first):
            lines.append(
                _("That is in the quiet hours: it will go out at {time}.").format(
                    time=local_time(quiet.next_allowed(first), settings.tz)
                )
            )
        send = _("📨 Send for approval") if approval else _("✅ Send")
        await message.answer(
            "\n".join(lines),
            reply_markup=_steps(
                [(send, "confirm", "send"), (_("✖ Cancel"), "confirm", "cancel")], columns=2
            ),
        )

    @r.callback_query(NoticeForm.preview, NoticeStep.filter(F.what == "confirm"))
    async def confirmed(
        query: CallbackQuery,
        callback_data: NoticeStep,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        scheduler: Scheduler | None = None,
    ) -> None:
        msg = _message(query)
        if callback_data.value != "send":
            await query.answer()
            await state.clear()
            if msg:
                await msg.edit_reply_markup(reply_markup=None)
                await msg.answer(_("Stopped. Nothing was saved."), reply_markup=main_menu(roles))
            return
        data = await state.get_data()
        at = None
        if data.get("mode") == "at":
            at = _local(data["day"], data["clock"], settings.tz)
        bc = await broadcasts.create(
            session,
            user,
            roles,
            town_id=data["town_id"],
            text=data.get("text") or "",
            photo_file_id=data.get("photo"),
            audience=data["audience"],
            at=at,
            recurrence=data.get("rule") if data.get("mode") == "repeat" else None,
            tz=settings.tz,
        )
        await query.answer()
        await state.clear()
        if bc.status == BroadcastStatus.PENDING_APPROVAL:
            text = _("Notice #{id} was sent to the institute office for approval.").format(id=bc.id)
        elif data.get("mode") == "now":
            text = _("Notice #{id} is going out now. You will get a delivery report.").format(
                id=bc.id
            )
        else:
            text = _("Notice #{id} is scheduled: {when}.").format(
                id=bc.id, when=when_label(bc, settings.tz)
            )
        if msg:
            await msg.edit_reply_markup(reply_markup=None)
            await msg.answer(text, reply_markup=main_menu(roles))
        if scheduler is not None and bc.status == BroadcastStatus.SCHEDULED:
            scheduler.poke()

    # --- approval by the office -------------------------------------------------------------
    @r.callback_query(BroadcastAction.filter(F.action == "approve"))
    async def approve(
        query: CallbackQuery,
        callback_data: BroadcastAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        scheduler: Scheduler | None = None,
    ) -> None:
        bc = await broadcasts.approve(
            session, callback_data.broadcast_id, user, roles, tz=settings.tz
        )
        await query.answer(_("Approved."))
        if msg := _message(query):
            await msg.edit_reply_markup(reply_markup=None)
            await msg.answer(
                _("Approved: notice #{id} goes out {when}.").format(
                    id=bc.id, when=when_label(bc, settings.tz)
                )
            )
        if scheduler is not None:
            scheduler.poke()

    @r.callback_query(BroadcastAction.filter(F.action == "reject"))
    async def reject(
        query: CallbackQuery,
        callback_data: BroadcastAction,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        bc = await session.get(Broadcast, callback_data.broadcast_id)
        if bc is None or not (roles.admin or bc.town_id in roles.office_towns):
            await query.answer(_("Only the office can approve notices."), show_alert=True)
            return
        if bc.status != BroadcastStatus.PENDING_APPROVAL:
            await query.answer(_("This notice was already decided."), show_alert=True)
            return
        await query.answer()
        msg = _message(query)
        await state.set_state(RejectForm.reason)
        await state.update_data(
            broadcast_id=bc.id,
            card_chat=msg.chat.id if msg else None,
            card_id=msg.message_id if msg else None,
        )
        if msg:
            await msg.answer(
                _("Why not? Write the reason for the station head."),
                reply_markup=choices_keyboard([], back=False),
            )

    @r.message(RejectForm.reason, F.text, F.text != BTN_CANCEL)
    async def reject_reason(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        bot: Bot,
    ) -> None:
        data = await state.get_data()
        try:
            bc = await broadcasts.reject(
                session, data["broadcast_id"], user, roles, message.text or ""
            )
        except DomainError as exc:
            await message.answer(_(exc.message).format(**exc.params))
            if isinstance(exc, Conflict | NotAllowed | NotFound):  # decided meanwhile
                await state.clear()
            return
        await state.clear()
        if data.get("card_chat") and data.get("card_id"):
            with contextlib.suppress(TelegramBadRequest):  # deleted or too old: no matter
                await bot.edit_message_reply_markup(
                    chat_id=data["card_chat"], message_id=data["card_id"], reply_markup=None
                )
        await message.answer(
            _("Rejected. The author of notice #{id} has been told why.").format(id=bc.id),
            reply_markup=main_menu(roles),
        )

    # --- lists --------------------------------------------------------------------------------
    @r.callback_query(NoticeStep.filter((F.what == "menu") & (F.value == "scheduled")))
    async def scheduled_list(
        query: CallbackQuery, session: AsyncSession, roles: Roles, settings: Settings
    ) -> None:
        await query.answer()
        msg = _message(query)
        if msg is None:
            return
        found = await broadcasts.scheduled(session, roles)
        if not found:
            await msg.answer(_("No notices are scheduled."))
            return
        lines = [_("Scheduled notices:")]
        kb = InlineKeyboardBuilder()
        for bc in found:
            lines.append(await _summary(session, bc, settings.tz))
            kb.button(
                text=_("✖ Cancel #{id}").format(id=bc.id),
                callback_data=BroadcastAction(action="cancel", broadcast_id=bc.id),
            )
        kb.adjust(2)
        await msg.answer("\n\n".join(lines)[:4096], reply_markup=kb.as_markup())

    @r.callback_query(BroadcastAction.filter(F.action == "cancel"))
    async def cancel_broadcast(
        query: CallbackQuery,
        callback_data: BroadcastAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        bc = await broadcasts.cancel(session, callback_data.broadcast_id, user, roles)
        await query.answer(_("Cancelled."))
        if msg := _message(query):
            await msg.answer(_("Notice #{id} was cancelled.").format(id=bc.id))

    @r.callback_query(NoticeStep.filter((F.what == "menu") & (F.value == "mine")))
    async def my_notices(
        query: CallbackQuery, session: AsyncSession, user: User, settings: Settings
    ) -> None:
        await query.answer()
        msg = _message(query)
        if msg is None:
            return
        found = await broadcasts.authored(session, user.id)
        if not found:
            await msg.answer(_("You have not sent any notices yet."))
            return
        blocks = [_("Your notices:")]
        for bc in found:
            block = [await _summary(session, bc, settings.tz)]
            if bc.runs:
                result = await broadcasts.report(session, bc.id, bc.runs)
                block.append(" · ".join(report_lines(result)))
            if bc.status == BroadcastStatus.REJECTED and bc.reject_reason:
                block.append(_("Reason: {reason}").format(reason=bc.reject_reason))
            blocks.append("\n".join(block))
        await msg.answer("\n\n".join(blocks)[:4096])

    return r


async def _summary(session: AsyncSession, bc: Broadcast, tz: tzinfo) -> str:
    text = (bc.text or "").replace("\n", " ")
    short = text if len(text) <= 40 else text[:39] + "…"
    return "\n".join(
        [
            f"#{bc.id} · {status_label(bc.status)} · {when_label(bc, tz)}",
            audience_label(bc.audience, await screens.audience_places(session, bc.audience)),
            f"«{short}»" if short else "",
        ]
    ).strip()


def _weekday_toggles(chosen: set[str]) -> InlineKeyboardMarkup:
    items = [(_(name), str(i)) for i, name in enumerate(WEEKDAYS)]
    return _toggles(items, chosen, "wd", "wd_done", columns=4)


def _day_label(day: date) -> str:
    return f"{day.month}/{day.day} {_(WEEKDAYS[day.weekday()])}"


def _local(day: str, clock: str, tz: tzinfo) -> datetime:
    parsed = broadcasts.parse_clock(clock)
    assert parsed is not None
    return at_local(date.fromisoformat(day), parsed, tz)
