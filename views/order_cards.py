"""Follow-ups of an order's cards: the resident's pin after a card or task, and a sent card
edited once the order moved on (taken, cancelled, started), so no stale button is left."""

from __future__ import annotations

from typing import Any

from aiogram.utils.i18n import gettext as _

from models import NoticeKind, Order, OrderStatus
from services import screens
from services.screens import OrderFacts
from views.format import duration
from views.notices import Note, Rendered, renders
from views.orders import order_lines

# The kinds of card sent as a photo with a caption when the request has a photo.
PHOTO_CARDS = frozenset({NoticeKind.ORDER_CARD, NoticeKind.DISPATCH_CARD, NoticeKind.TRIAGE_CARD})


@renders(NoticeKind.ORDER_LOCATION, reads=screens.order_notice)
def order_location(note: Note, facts: OrderFacts) -> Rendered | None:
    order = facts.order
    if order.latitude is None or order.longitude is None:
        return None
    return "sendLocation", {
        "chat_id": note.chat_id,
        "latitude": order.latitude,
        "longitude": order.longitude,
    }


def card_headline(kind: str, payload: dict[str, Any], order: Order) -> str | None:
    """The first line of a card of this kind: kept when the card is closed, so it still
    says what it was."""
    if kind == NoticeKind.ORDER_CARD:
        return _("🆕 A new order for your team")
    if kind == NoticeKind.ACCEPT_NUDGE:
        return _(
            "⏰ Order {number} has been waiting for {time}. Please accept or decline it."
        ).format(number=order.number, time=duration(int(payload.get("minutes") or 0)))
    if kind == NoticeKind.DISPATCH_CARD:
        if payload.get("escalated"):
            return _("⏰ Not accepted in time: please pick another team for this order.")
        return _("📥 A new order for your unit: please pick the team.")
    if kind == NoticeKind.TASK:
        return _("🧰 You have a new task")
    return None


def closed_lines(kind: str, payload: dict[str, Any], facts: OrderFacts) -> list[str]:
    """A card whose order moved on: what it was, what became of it, the order as it is."""
    first = card_headline(kind, payload, facts.order)
    return [
        *([first] if first else []),
        closed_headline(facts.order.status),
        *order_lines(facts, with_phone=False),
    ]


def closed_headline(status: OrderStatus) -> str:
    if status == OrderStatus.CANCELLED:
        return _("✖ This order was cancelled.")
    if status == OrderStatus.ROUTED:
        return _("↪ This order was passed on.")
    return _("✔ This order has been taken.")


@renders(NoticeKind.CARD_CLOSED, reads=screens.order_card_notice)
def card_closed(note: Note, facts: OrderFacts) -> Rendered | None:
    message_id = note.payload.get("message_id")
    if not message_id:
        return None
    of = str(note.payload.get("of") or "")
    text = "\n".join(closed_lines(of, note.payload.get("card") or {}, facts))
    params = {"chat_id": note.chat_id, "message_id": message_id}
    if facts.photo and note.payload.get("of") in PHOTO_CARDS:
        return "editMessageCaption", {**params, "caption": text[:1024]}
    return "editMessageText", {**params, "text": text[:4096]}
