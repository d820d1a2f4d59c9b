"""Queued notices about orders: cards to accept, news for the resident, tasks, reminders,
escalations, digests (queued by services/orders.py and services/reminders.py)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from models import NoticeKind, OrderStatus
from services import screens
from services.i18n import local_name
from services.screens import Digest, OrderFacts
from views.format import duration, hours_label, locale, moment, payload_day, status_label
from views.notices import Note, Rendered, message, renders
from views.order_cards import card_headline, closed_lines
from views.orders import (
    accepted_keyboard,
    card_keyboard,
    history_keyboard,
    hours_keyboard,
    order_lines,
    rate_keyboard,
    task_keyboard,
    team_name,
)


@renders(NoticeKind.ORDER_CARD, reads=screens.order_card_notice)
def order_card(note: Note, facts: OrderFacts) -> Rendered:
    version = note.payload.get("version")
    if version is not None and facts.order.version != version:
        # Taken, cancelled or passed on while the card waited to go out: no stale buttons.
        lines = closed_lines(NoticeKind.ORDER_CARD, note.payload, facts)
        return message(note.chat_id, lines, photo=facts.photo)
    lines = [card_headline(NoticeKind.ORDER_CARD, note.payload, facts.order) or ""]
    if note.payload.get("reason"):
        lines.append(_("Note: {reason}").format(reason=note.payload["reason"]))
    lines += order_lines(facts, with_phone=False)
    markup = card_keyboard(facts.order, has_voice=facts.has_voice)
    return message(note.chat_id, lines, markup, photo=facts.photo)


@renders(NoticeKind.ORDER_INFO, reads=screens.order_notice)
def order_info(note: Note, facts: OrderFacts) -> Rendered:
    lines = [_("ℹ A new order from your village"), *order_lines(facts, with_phone=False)]
    return message(note.chat_id, lines, history_keyboard(facts.order.id))


@renders(NoticeKind.ORDER_STATUS, reads=screens.order_notice)
def order_status(note: Note, facts: OrderFacts) -> Rendered:
    p, order = note.payload, facts.order
    number = order.number
    team = team_name(facts.team)
    event = p.get("event")
    texts = {
        "created": _(
            "Station staff placed order {number} for you. We will keep you posted here."
        ).format(number=number),
        "accepted": _("Good news: your order {number} was accepted by {team}.").format(
            number=number, team=team
        ),
        "rerouted": _("Your order {number} was passed to {team}.").format(number=number, team=team),
        "transferred": _("Your order {number} was passed to {team}.").format(
            number=number, team=team
        ),
        "escalated": _(
            "Your order {number} is taking longer; the institute office is looking after it."
        ).format(number=number),
        "assigned": _("Volunteers for your order {number}: {names}. They will come {when}.").format(
            number=number,
            names="、".join(p.get("volunteers") or []),
            when=moment(p.get("slot_start"), note.tz),
        ),
        "started": _("The volunteers have started on your order {number}.").format(number=number),
        "done": _("The volunteers have finished your order {number}.").format(number=number),
        "cancelled": _("Your order {number} was cancelled.").format(number=number),
    }
    text = texts.get(event or "") or _("Your order {number} is now: {status}.").format(
        number=number, status=status_label(order.status)
    )
    return message(note.chat_id, [text])


@renders(NoticeKind.TASK, reads=screens.order_notice)
def task(note: Note, facts: OrderFacts) -> Rendered:
    order = facts.order
    lines = [card_headline(NoticeKind.TASK, note.payload, order) or ""]
    lines += order_lines(facts, with_phone=True, tz=note.tz)
    return message(note.chat_id, lines, task_keyboard(order.id))


@renders(NoticeKind.RATE_REQUEST, reads=screens.order_notice)
def rate_request(note: Note, facts: OrderFacts) -> Rendered | None:
    order = facts.order
    if order.status != OrderStatus.DONE:
        return None
    if note.payload.get("reminder"):
        text = _(
            "You have not rated order {number} yet. How was the service? Tap the stars."
        ).format(number=order.number)
    else:
        text = _("Your order {number} is done. How was the service? Tap the stars.").format(
            number=order.number
        )
    return message(note.chat_id, [text], rate_keyboard(order.id))


@renders(NoticeKind.HOURS_CONFIRM, reads=screens.order_hours_notice)
def hours_confirm(note: Note, facts: OrderFacts) -> Rendered:
    order = facts.order
    lines = [_("Order {number} is done. Reported hours:").format(number=order.number)]
    lines += [f"• {name or '?'}: {hours_label(hours)}" for name, hours in facts.hours]
    if order.completion_note:
        lines.append(_("Note: {reason}").format(reason=order.completion_note))
    return message(note.chat_id, lines, hours_keyboard(order.id))


@renders(NoticeKind.LOW_RATING, reads=screens.order_rating_notice)
def low_rating(note: Note, facts: OrderFacts) -> Rendered:
    order, rating = facts.order, facts.rating
    lines = [
        _("⚠ Order {number} was rated {score} of 5.").format(
            number=order.number, score=rating.score if rating else note.payload.get("score", "?")
        )
    ]
    if rating and rating.comment:
        lines.append(_("Comment: {text}").format(text=rating.comment))
    lines += order_lines(facts, with_phone=False)
    return message(note.chat_id, lines, history_keyboard(order.id))


@renders(NoticeKind.VOLUNTEER_WITHDREW, reads=screens.order_withdrawal_notice)
def withdrew(note: Note, facts: OrderFacts) -> Rendered:
    who = facts.volunteer
    text = _("{name} can't make it for order {number}.").format(
        name=who.name if who and who.name else "?", number=facts.order.number
    )
    return message(note.chat_id, [text], accepted_keyboard(facts.order))


# --- reminders and escalation (services/reminders.py) --------------------------------------


@renders(NoticeKind.ACCEPT_NUDGE, reads=screens.order_card_notice)
def accept_nudge(note: Note, facts: OrderFacts) -> Rendered | None:
    order, p = facts.order, note.payload
    if order.status != OrderStatus.ROUTED or order.version != p.get("version"):
        return None  # accepted, declined or passed on since: nothing to nudge about
    lines = [
        card_headline(NoticeKind.ACCEPT_NUDGE, p, order) or "",
        *order_lines(facts, with_phone=False),
    ]
    return message(note.chat_id, lines, card_keyboard(order, has_voice=facts.has_voice))


@renders(NoticeKind.ESCALATION, reads=screens.order_notice)
def escalation(note: Note, facts: OrderFacts) -> Rendered:
    order = facts.order
    lines = [
        _("⏰ Order {number} was not accepted within {time}. It was passed to {team}.").format(
            number=order.number,
            time=duration(int(note.payload.get("minutes") or 0)),
            team=team_name(facts.team),
        ),
        *order_lines(facts, with_phone=False),
    ]
    return message(note.chat_id, lines, history_keyboard(order.id))


@renders(NoticeKind.VOLUNTEER_REMINDER, reads=screens.order_notice)
def volunteer_reminder(note: Note, facts: OrderFacts) -> Rendered | None:
    order, p = facts.order, note.payload
    if order.status != OrderStatus.ACCEPTED:
        return None
    when = moment(p.get("slot_start"), note.tz)
    if p.get("which") == "evening":
        first = _("⏰ Reminder: tomorrow you serve order {number}, at {when}.")
    else:
        first = _("⏰ Reminder: in about an hour ({when}) you serve order {number}.")
    lines = [
        first.format(number=order.number, when=when),
        *order_lines(facts, with_phone=True, tz=note.tz),
    ]
    return message(note.chat_id, lines, task_keyboard(order.id))


@renders(NoticeKind.OVERDUE, reads=screens.order_notice)
def overdue(note: Note, facts: OrderFacts) -> Rendered | None:
    order = facts.order
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        return None
    lines = [
        _(
            "⚠ Order {number} should have been done by {when}, but it is not recorded as done. "
            "Please record it with «Done», or agree a new time with the resident."
        ).format(number=order.number, when=moment(note.payload.get("slot_end"), note.tz)),
        *order_lines(facts, with_phone=True, tz=note.tz),
    ]
    leader = note.user_id is not None and note.user_id == order.accepted_by_id
    started = order.status == OrderStatus.IN_PROGRESS
    markup = accepted_keyboard(order) if leader else task_keyboard(order.id, started=started)
    return message(note.chat_id, lines, markup)


@renders(NoticeKind.LEADER_DIGEST, reads=screens.leader_digest_notice)
def leader_digest(note: Note, digest: Digest) -> Rendered:
    lines = [_("📋 Good morning! Open orders of your team ({n}):").format(n=digest.total)]
    for facts in digest.orders:
        cat, station = facts.category, facts.station
        parts = [
            facts.order.number,
            local_name(cat, locale()) if cat else "-",
            local_name(station, locale()) if station else "-",
            status_label(facts.order.status),
        ]
        lines.append("• " + " · ".join(parts))
    if digest.total > len(digest.orders):
        lines.append(_("… and {n} more").format(n=digest.total - len(digest.orders)))
    return message(note.chat_id, lines)


@renders(NoticeKind.OFFICE_WEEKLY)
def office_weekly(note: Note, _facts: None) -> Rendered:
    p = note.payload
    lines = [
        _("📈 Last week ({start} – {end}):").format(
            start=payload_day(p.get("start")), end=payload_day(p.get("end"))
        ),
        _("Orders received: {n}").format(n=p.get("received", 0)),
        _("Completed: {n}").format(n=p.get("completed", 0)),
        _("Still open: {n}").format(n=p.get("open", 0)),
        _("Escalated (not accepted in time): {n}").format(n=p.get("escalated", 0)),
    ]
    if p.get("rated"):
        lines.append(
            _("Average rating: {rating} of 5 ({n} ratings)").format(
                rating=f"{float(p['average_rating']):.1f}", n=p["rated"]
            )
        )
    else:
        lines.append(_("Average rating: no ratings last week"))
    return message(note.chat_id, lines)


@renders(NoticeKind.TEXT)
def plain(note: Note, _facts: None) -> Rendered | None:
    """A plain translatable message: {"msgid": ..., "params": {...}}."""
    msgid = note.payload.get("msgid")
    if not msgid:
        return None
    return message(note.chat_id, [_(msgid).format(**note.payload.get("params", {}))])
