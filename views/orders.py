"""An order as people see it: its card, its buttons, shared by direct replies and queued
notices (views/order_notices.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import field_serializer

from models import Order, OrderStatus, Slot, Team, User
from services.i18n import N_, local_name
from services.orders import HistoryLine
from services.orders.desk import ANSWERED
from services.screens import OrderFacts
from views.format import locale, moment, status_label, when_label
from views.menu import inline_keyboard


class OrderAction(CallbackData, prefix="o"):
    """A button on an order card or task: accept, decline, start, done, cancel, …"""

    action: str
    order_id: int
    version: int = 0


class RateOrder(CallbackData, prefix="r"):
    order_id: int
    score: int


class DeclineWhy(StrEnum):
    """The reasons a leader can tap when declining (or they write their own)."""

    NOT_OUR_KIND = "kind"
    NOBODY_FREE = "busy"
    TOO_FAR = "far"


DECLINE_REASONS = {
    DeclineWhy.NOT_OUR_KIND: N_("Not our kind of service"),
    DeclineWhy.NOBODY_FREE: N_("No one is free"),
    DeclineWhy.TOO_FAR: N_("Too far"),
}


class DeclineReason(CallbackData, prefix="ldr"):
    order_id: int
    why: DeclineWhy


class TransferTo(CallbackData, prefix="lxf"):
    order_id: int
    team_id: int


class AssignVolunteer(CallbackData, prefix="lav"):
    """Tick or untick one person on the roster of an order."""

    order_id: int
    user_id: int


class RosterDone(CallbackData, prefix="lan"):
    order_id: int


class PickSlot(CallbackData, prefix="lsl"):
    order_id: int
    day: date
    slot: Slot

    @field_serializer("day")
    def _day(self, day: date) -> str:  # aiogram packs str, int, enums; a day as 2026-03-11
        return day.isoformat()


def order_lines(
    facts: OrderFacts, *, with_phone: bool, own: bool = False, tz: tzinfo | None = None
) -> list[str]:
    """The facts of an order. The phone appears only for those who took the order; the
    resident's name in full for them and for the resident (`own`), masked for others. With
    `tz`, the time is the one agreed when volunteers were assigned, else the one asked for."""
    order, cat, station, resident = facts.order, facts.category, facts.station, facts.resident
    lines = [
        _("Order {number}").format(number=order.number),
        _("Village: {name}").format(name=local_name(station, locale()) if station else "-"),
        _("Service: {name}").format(name=local_name(cat, locale()) if cat else "-"),
        _("Need: {text}").format(text=order.description or "-"),
        _("Time: {when}").format(when=service_time(order, tz)),
    ]
    if order.address or order.latitude is not None:
        lines.append(_("Where: {place}").format(place=place_text(order)))
    name = order.contact_name or (resident.name if resident else None) or "-"
    shown = name if with_phone or own else name[:1] + "*"
    lines.append(_("Resident: {name}").format(name=shown))
    phone = order.contact_phone or (resident.phone if resident else None)
    if with_phone and phone:
        lines.append(_("Phone: {phone}").format(phone=phone))
    elif with_phone and facts.placed_by is not None:  # no phone of their own
        lines.append(staff_contact(facts.placed_by))
    if order.is_proxy:
        lines.append(_("(ordered on the resident's behalf by station staff)"))
    status = status_label(order.status, answered=facts.answered)
    lines.append(_("Status: {status}").format(status=status))
    return lines


def service_time(order: Order, tz: tzinfo | None) -> str:
    """When the service is: the agreed start (with `tz`), else the day and half-day asked."""
    if tz is not None and order.slot_start is not None:
        return moment(order.slot_start, tz)
    return when_label(order.preferred_date, order.preferred_slot)


def place_text(order: Order) -> str:
    """The written address, and whether the resident sent their location (the pin follows
    the card as its own message)."""
    pin = _("📍 location sent") if order.latitude is not None else ""
    return " ".join(p for p in (order.address or "", pin) if p)


def staff_contact(staff: User) -> str:
    """A resident without a phone: whom to call instead."""
    if staff.phone:
        return _("No phone of their own; contact {name} (station staff): {phone}").format(
            name=staff.name or "-", phone=staff.phone
        )
    return _("No phone of their own; contact {name} (station staff)").format(name=staff.name or "-")


def team_name(team: Team | None) -> str:
    """The team holding an order; none means the institute office holds it."""
    return local_name(team, locale()) if team else _("the institute office")


def card_keyboard(order: Order, *, has_voice: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    v = order.version
    kb.button(
        text=_("✅ Accept"),
        callback_data=OrderAction(action="accept", order_id=order.id, version=v),
    )
    kb.button(
        text=_("❌ Decline"),
        callback_data=OrderAction(action="decline", order_id=order.id, version=v),
    )
    kb.button(
        text=_("↪ Transfer"),
        callback_data=OrderAction(action="transfer", order_id=order.id, version=v),
    )
    if has_voice:
        kb.button(text=_("🎤 Listen"), callback_data=OrderAction(action="voice", order_id=order.id))
    kb.adjust(2)
    return kb.as_markup()


def accepted_keyboard(order: Order) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("👥 Assign volunteers"), OrderAction(action="assign", order_id=order.id)),
            (_("✔ Mark done"), OrderAction(action="done", order_id=order.id)),
            (
                _("↪ Transfer"),
                OrderAction(action="transfer", order_id=order.id, version=order.version),
            ),
            (_("📜 History"), OrderAction(action="history", order_id=order.id)),
        ]
    )


def task_keyboard(order_id: int, *, started: bool = False) -> InlineKeyboardMarkup:
    """A volunteer's task: «Start» until it is started, then only what is left to do."""
    start = [(_("▶ Start"), OrderAction(action="start", order_id=order_id))]
    return inline_keyboard(
        [
            *([] if started else start),
            (_("✔ Done"), OrderAction(action="done", order_id=order_id)),
            (_("🙅 Can't make it"), OrderAction(action="withdraw", order_id=order_id)),
        ],
        columns=2,
    )


def rate_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [("⭐" * score, RateOrder(order_id=order_id, score=score)) for score in range(1, 6)]
    )


def history_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard([(_("📜 History"), OrderAction(action="history", order_id=order_id))])


def hours_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(_("✅ Confirm hours"), OrderAction(action="confirm_hours", order_id=order_id))]
    )


def cancel_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [(_("✖ Cancel this order"), OrderAction(action="cancel", order_id=order_id))]
    )


def history_line(ev: HistoryLine, tz: tzinfo) -> str:
    """One step of an order's history: when, the status it reached (or what happened), who."""
    when = moment(ev.at, tz)
    if ev.to_status:
        label = status_label(OrderStatus(ev.to_status), answered=ev.kind == ANSWERED)
    else:
        label = ev.kind
    who = ev.actor_name or "-"
    return f"{when} · {label} · {who}" + (f" · {ev.note}" if ev.note else "")


def decline_reasons_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_(label), DeclineReason(order_id=order_id, why=why))
            for why, label in DECLINE_REASONS.items()
        ]
    )


def transfer_keyboard(order_id: int, teams: Sequence[Team]) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (local_name(team, locale()), TransferTo(order_id=order_id, team_id=team.id))
            for team in teams
        ]
    )


def roster_keyboard(
    order_id: int, people: Sequence[User], chosen: set[int]
) -> InlineKeyboardMarkup:
    """The team's people to tick, then «Next»."""
    kb = InlineKeyboardBuilder()
    for person in people:
        mark = "☑" if person.id in chosen else "☐"
        kb.button(
            text=f"{mark} {person.name or '?'}",
            callback_data=AssignVolunteer(order_id=order_id, user_id=person.id),
        )
    kb.button(text=_("Next ➡"), callback_data=RosterDone(order_id=order_id))
    kb.adjust(1)
    return kb.as_markup()


def slots_keyboard(
    order_id: int,
    choices: Sequence[tuple[date, Slot]],
    requested: tuple[date, Slot] | None = None,
) -> InlineKeyboardMarkup:
    """Days and half-days to go, two to a row («12月2日 周三 上午»); the one the resident
    asked for (both halves of the day for «any time») is marked."""

    def label(day: date, slot: Slot) -> str:
        when = when_label(day, slot)
        if requested and day == requested[0] and requested[1] in (slot, Slot.ANY):
            return _("✓ {when} (the resident's choice)").format(when=when)
        return when

    return inline_keyboard(
        [
            (label(day, slot), PickSlot(order_id=order_id, day=day, slot=slot))
            for day, slot in choices
        ],
        columns=2,
    )


def assigned_text(sent: Sequence[User]) -> str:
    """What the leader's assigning did: «已派给许成林、王芳，已告诉群众»."""
    names = "、".join(person.name or "?" for person in sent)
    return _("Assigned to {names}; the resident has been told.").format(names=names)
