"""Follow-ups of an order's cards: the resident's pin after a card or task, and a sent card
edited once the order moved on (taken, cancelled, started), so no stale button is left."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from models import NoticeKind, OrderStatus
from services import screens
from services.screens import OrderFacts
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
    text = "\n".join([closed_headline(facts.order.status), *order_lines(facts, with_phone=False)])
    params = {"chat_id": note.chat_id, "message_id": message_id}
    if facts.photo and note.payload.get("of") in PHOTO_CARDS:
        return "editMessageCaption", {**params, "caption": text[:1024]}
    return "editMessageText", {**params, "text": text[:4096]}
