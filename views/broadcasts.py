"""Notices the office broadcasts: labels of audiences, schedules and states, the approval
card and the delivery report, and the queued notices themselves (services/broadcasts.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import Broadcast, BroadcastStatus, NoticeKind
from services import broadcasts, screens
from services.broadcasts import AudienceKind, Repeat
from services.i18n import N_, local_name
from services.screens import BroadcastFacts
from services.wording import WEEKDAYS
from views.format import Day, day_label, local_time, locale
from views.menu import inline_keyboard
from views.notices import Note, Rendered, message, renders

# --- callback data: one class per button of the conversation -------------------------------


class NoticesItem(StrEnum):
    NEW = "new"  # ✍ New notice
    SCHEDULED = "scheduled"  # 🗓 Scheduled notices
    MINE = "mine"  # 📊 My notices and reports


class NoticesMenu(CallbackData, prefix="ntm"):
    """A button of the 📢 Notices menu."""

    item: NoticesItem


class PickAudience(CallbackData, prefix="nta"):
    kind: AudienceKind


class ToggleVillage(CallbackData, prefix="ntv"):
    station_id: int


class VillagesChosen(CallbackData, prefix="ntvd"):
    """«Next» under the villages."""


class PickTeam(CallbackData, prefix="ntt"):
    team_id: int


class When(StrEnum):
    NOW = "now"
    AT = "at"
    REPEAT = "repeat"


class PickWhen(CallbackData, prefix="ntw"):
    mode: When


class PickDay(CallbackData, prefix="ntd"):
    day: Day


class PickRepeat(CallbackData, prefix="ntr"):
    kind: Repeat


class ToggleWeekday(CallbackData, prefix="ntwd"):
    weekday: int  # 0 = Monday


class WeekdaysChosen(CallbackData, prefix="ntwdd"):
    """«Next» under the days of the week."""


class PickTime(CallbackData, prefix="ntc"):
    hour: int
    minute: int


class PreviewChoice(CallbackData, prefix="ntp"):
    """Under the preview: ✅ Send (or 📨 Send for approval), or ✖ Cancel."""

    send: bool


class NoticeAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"


class BroadcastAction(CallbackData, prefix="bc"):
    """A button on a notice: approve, reject (the office's approval card), cancel (the list
    of scheduled ones). Packs as before ("bc:approve:12"): cards already in chats still work."""

    action: NoticeAction
    broadcast_id: int


TIME_CHOICES = ((8, 0), (10, 0), (14, 0), (19, 0))
DAYS_AHEAD = 7
AUDIENCE_LABELS = {
    "everyone": N_("Everyone"),
    "stations": N_("Villages…"),
    "team": N_("A team…"),
    "volunteers": N_("All volunteers"),
    "party": N_("Party members"),
    "heads": N_("Station heads"),
}
STATUS_LABELS = {
    BroadcastStatus.DRAFT: N_("draft"),
    BroadcastStatus.PENDING_APPROVAL: N_("waiting for approval"),
    BroadcastStatus.SCHEDULED: N_("scheduled"),
    BroadcastStatus.SENDING: N_("sending"),
    BroadcastStatus.SENT: N_("sent"),
    BroadcastStatus.REJECTED: N_("rejected"),
    BroadcastStatus.CANCELLED: N_("cancelled"),
}


def notice_text(text: str) -> str:
    """A broadcast as its recipients see it."""
    return _("📢 Notice") + ("\n" + text if text else "")


def audience_label(audience: dict[str, Any], places: Sequence[Any]) -> str:
    """Who gets a notice; `places` are its villages or its team (services.screens
    .audience_places)."""
    kind = audience.get("kind", "")
    if kind == "stations":
        names = "、".join(local_name(r, locale()) for r in places)
        return _("Villages: {names}").format(names=names)
    if kind == "team":
        name = local_name(places[0], locale()) if places else "-"
        return _("Team: {name}").format(name=name)
    return _(AUDIENCE_LABELS.get(kind, N_("Everyone")))


def rule_label(rule: dict[str, Any]) -> str:
    at = rule.get("time", "")
    days = list(rule.get("days") or [])
    if rule.get("kind") == "weekly":
        names = "、".join(_(WEEKDAYS[d]) for d in days)
        return _("every week on {days} at {time}").format(days=names, time=at)
    if rule.get("kind") == "monthly":
        return _("every month on day {days} at {time}").format(
            days="、".join(str(d) for d in days), time=at
        )
    return _("every day at {time}").format(time=at)


def when_label(bc: Broadcast, tz: tzinfo) -> str:
    if bc.recurrence:
        return rule_label(bc.recurrence)
    return local_time(bc.next_run_at, tz)


def status_label(status: BroadcastStatus) -> str:
    return _(STATUS_LABELS[status])


def report_lines(result: broadcasts.Report) -> list[str]:
    lines = [
        _("Sent: {n}").format(n=result.sent),
        _("Blocked the bot: {n}").format(n=result.blocked),
        _("Failed: {n}").format(n=result.failed),
    ]
    if result.pending:
        lines.append(_("Still sending: {n}").format(n=result.pending))
    return lines


def person_label(person: broadcasts.Recipient) -> str:
    name = person.name or "?"
    if person.station is None:
        return name
    return _("{name} ({village})").format(name=name, village=local_name(person.station, locale()))


def unreached_lines(title: str, people: Sequence[broadcasts.Recipient], total: int) -> list[str]:
    """A titled list of those a notice did not reach, by name; beyond the names shown, a
    count of the rest."""
    if not total:
        return []
    lines = [title, *("• " + person_label(p) for p in people)]
    if total > len(people):
        lines.append(_("… and {n} more").format(n=total - len(people)))
    return lines


def approval_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (
                _("✅ Approve"),
                BroadcastAction(action=NoticeAction.APPROVE, broadcast_id=broadcast_id),
            ),
            (
                _("❌ Reject"),
                BroadcastAction(action=NoticeAction.REJECT, broadcast_id=broadcast_id),
            ),
        ],
        columns=2,
    )


# --- the conversation's keyboards and texts ------------------------------------------------


def notices_menu_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("✍ New notice"), NoticesMenu(item=NoticesItem.NEW)),
            (_("🗓 Scheduled notices"), NoticesMenu(item=NoticesItem.SCHEDULED)),
            (_("📊 My notices and reports"), NoticesMenu(item=NoticesItem.MINE)),
        ]
    )


def audience_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_(label), PickAudience(kind=AudienceKind(kind)))
            for kind, label in AUDIENCE_LABELS.items()
        ],
        columns=2,
    )


def _toggles(
    buttons: Iterable[tuple[str, bool, CallbackData]], done: CallbackData, columns: int
) -> InlineKeyboardMarkup:
    """Buttons that tick on and off (☑ / ☐), `columns` to a row, then «Next» on a row of its own."""
    kb = InlineKeyboardBuilder()
    for label, on, data in buttons:
        kb.button(text=f"{'☑' if on else '☐'} {label}", callback_data=data)
    kb.adjust(columns)
    kb.row()
    kb.button(text=_("Next ➡"), callback_data=done)
    return kb.as_markup()


def villages_keyboard(stations: Sequence[Any], chosen: set[int]) -> InlineKeyboardMarkup:
    """The stations one may address (Region rows), ☑ those chosen, then «Next»."""
    villages = (
        (local_name(s, locale()), s.id in chosen, ToggleVillage(station_id=s.id)) for s in stations
    )
    return _toggles(villages, VillagesChosen(), columns=2)


def teams_keyboard(teams: Sequence[Any]) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(local_name(team, locale()), PickTeam(team_id=team.id)) for team in teams]
    )


def when_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("▶ Now"), PickWhen(mode=When.NOW)),
            (_("📅 On a date and time"), PickWhen(mode=When.AT)),
            (_("🔁 Repeat"), PickWhen(mode=When.REPEAT)),
        ]
    )


def days_keyboard(today: date) -> InlineKeyboardMarkup:
    """Today and the days after it."""
    return inline_keyboard(
        [
            (day_label(day), PickDay(day=day))
            for day in (today + timedelta(days=i) for i in range(DAYS_AHEAD))
        ],
        columns=2,
    )


def repeat_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("Every day"), PickRepeat(kind=Repeat.DAILY)),
            (_("Every week"), PickRepeat(kind=Repeat.WEEKLY)),
            (_("Every month"), PickRepeat(kind=Repeat.MONTHLY)),
        ]
    )


def weekdays_keyboard(chosen: set[int]) -> InlineKeyboardMarkup:
    days = ((_(name), i in chosen, ToggleWeekday(weekday=i)) for i, name in enumerate(WEEKDAYS))
    return _toggles(days, WeekdaysChosen(), columns=4)


def times_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (f"{hour:02d}:{minute:02d}", PickTime(hour=hour, minute=minute))
            for hour, minute in TIME_CHOICES
        ],
        columns=4,
    )


def preview_keyboard(*, approval: bool) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("📨 Send for approval") if approval else _("✅ Send"), PreviewChoice(send=True)),
            (_("✖ Cancel"), PreviewChoice(send=False)),
        ],
        columns=2,
    )


def preview_text(
    audience: str, count: int, when: str, *, approval: bool, quiet_until: str | None
) -> str:
    """Under the notice as it will look: to whom, when, and what happens next."""
    lines = [
        _("This is how it will look. Please check:"),
        _("To: {audience} ({n} people)").format(audience=audience, n=count),
        _("When: {when}").format(when=when),
    ]
    if approval:
        lines.append(_("The institute office will approve it before it goes out."))
    if quiet_until:
        lines.append(
            _("That is in the quiet hours: it will go out at {time}.").format(time=quiet_until)
        )
    return "\n".join(lines)


def summary(facts: BroadcastFacts, tz: tzinfo) -> str:
    """A notice in a list: number, state, when, to whom, the start of its text."""
    bc = facts.broadcast
    text = (bc.text or "").replace("\n", " ")
    short = text if len(text) <= 40 else text[:39] + "…"
    return "\n".join(
        [
            f"#{bc.id} · {status_label(bc.status)} · {when_label(bc, tz)}",
            audience_label(bc.audience, facts.places),
            f"«{short}»" if short else "",
        ]
    ).strip()


def scheduled_keyboard(found: Sequence[Broadcast]) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (
                _("✖ Cancel #{id}").format(id=bc.id),
                BroadcastAction(action=NoticeAction.CANCEL, broadcast_id=bc.id),
            )
            for bc in found
        ],
        columns=2,
    )


# --- queued notices -----------------------------------------------------------------------


@renders(NoticeKind.BROADCAST, reads=screens.broadcast_notice)
def broadcast(note: Note, facts: BroadcastFacts) -> Rendered:
    bc = facts.broadcast
    return message(note.chat_id, [_("📢 Notice"), bc.text], photo=bc.photo_file_id)


@renders(NoticeKind.BROADCAST_APPROVAL, reads=screens.broadcast_approval_notice)
def broadcast_approval(note: Note, facts: BroadcastFacts) -> Rendered:
    bc, author = facts.broadcast, facts.author
    asap = not bc.recurrence and (
        bc.next_run_at is None or bc.next_run_at <= bc.created_at + timedelta(minutes=1)
    )
    when = _("as soon as it is approved") if asap else when_label(bc, note.tz)
    lines = [
        _("📨 A notice needs your approval"),
        _("From: {name}").format(name=(author.name if author else None) or "?"),
        _("To: {audience} ({n} people)").format(
            audience=audience_label(bc.audience, facts.places), n=facts.audience_count
        ),
        _("When: {when}").format(when=when),
        "",
        notice_text(bc.text),
    ]
    return message(note.chat_id, lines, approval_keyboard(bc.id), photo=bc.photo_file_id)


@renders(NoticeKind.BROADCAST_REPORT, reads=screens.broadcast_report_notice)
def broadcast_report(note: Note, facts: BroadcastFacts) -> Rendered:
    bc = facts.broadcast
    text = (bc.text or "").replace("\n", " ")
    lines = [
        _("📊 Delivery report for notice #{id}").format(id=bc.id),
        text if len(text) <= 60 else text[:59] + "…",
        _("To: {audience}").format(audience=audience_label(bc.audience, facts.places)),
        *(report_lines(facts.report) if facts.report else []),
    ]
    if facts.report is not None:
        unreached = [
            *unreached_lines(_("Blocked the bot:"), facts.blocked, facts.report.blocked),
            *unreached_lines(_("Could not be delivered:"), facts.failed, facts.report.failed),
        ]
        if unreached:
            lines += ["", *unreached, _("Please reach them another way, by phone or in person.")]
    return message(note.chat_id, lines)
