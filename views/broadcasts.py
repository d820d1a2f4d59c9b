"""Notices the office broadcasts: labels of audiences, schedules and states, the approval
card and the delivery report, and the queued notices themselves (services/broadcasts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, tzinfo
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import Broadcast, BroadcastStatus, NoticeKind
from services import broadcasts, screens
from services.i18n import N_, local_name
from services.screens import BroadcastFacts
from views.format import local_time, locale
from views.notices import Note, Rendered, message, renders


class NoticeStep(CallbackData, prefix="nt"):
    """A choice while composing a notice: audience, villages, team, when, day, time, …"""

    what: str
    value: str = ""


class BroadcastAction(CallbackData, prefix="bc"):
    """A button on a notice: approve, reject, cancel, report."""

    action: str
    broadcast_id: int


WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
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
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Approve"),
        callback_data=BroadcastAction(action="approve", broadcast_id=broadcast_id),
    )
    kb.button(
        text=_("❌ Reject"),
        callback_data=BroadcastAction(action="reject", broadcast_id=broadcast_id),
    )
    kb.adjust(2)
    return kb.as_markup()


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
