"""站所接单 · 派单 as people see it: the lead unit's dispatch card (pick the team) and the
office's triage card for a «其他需求» order (pick an area, then a service, or answer)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from models import NoticeKind, ServiceCategory
from services import screens
from services.i18n import local_name
from services.orders.units import Trail
from services.screens import DispatchFacts, OrderFacts, TriageFacts
from views.format import locale
from views.menu import inline_keyboard
from views.notices import Note, Rendered, message, renders
from views.order_cards import card_headline
from views.orders import OrderAction, order_lines


class DispatchTo(CallbackData, prefix="dp"):
    """派单: hand the order to this team."""

    order_id: int
    team_id: int


class TriageArea(CallbackData, prefix="tra"):
    """Open an area's services on the triage card (area 0: back to the areas)."""

    order_id: int
    area_id: int


class TriageTo(CallbackData, prefix="trc"):
    """Sort the «其他需求» order into this service."""

    order_id: int
    category_id: int


class ReplyToResident(CallbackData, prefix="trr"):
    """Answer the resident; the order stays with the office."""

    order_id: int


class ReplyAndClose(CallbackData, prefix="trx"):
    """Answer the resident and close the order: no service is needed."""

    order_id: int


def trail_lines(trail: Trail) -> list[str]:
    """平台 · 牵头单位 · 派单人 · 服务队."""
    lang = locale()
    units = "、".join(local_name(u, lang) for u in trail.lead_units) or "-"
    return [
        _("Platform: {name}").format(
            name=local_name(trail.platform, lang) if trail.platform else "-"
        ),
        _("Lead unit: {name}").format(name=units),
        _("Dispatched by: {name}").format(
            name=(trail.dispatcher.name or "-") if trail.dispatcher else "-"
        ),
        _("Team: {name}").format(name=local_name(trail.team, lang) if trail.team else "-"),
    ]


def dispatch_lines(found: DispatchFacts) -> list[str]:
    return [*order_lines(found.facts, with_phone=False), *trail_lines(found.trail)]


def dispatch_keyboard(found: DispatchFacts) -> InlineKeyboardMarkup:
    order_id = found.facts.order.id
    buttons: list[tuple[str, CallbackData]] = []
    for team in found.targets:
        name = local_name(team, locale())
        if team.id == found.suggested_id:
            name = _("⭐ {team} (suggested)").format(team=name)
        buttons.append((name, DispatchTo(order_id=order_id, team_id=team.id)))
    return inline_keyboard(buttons + _listen(found.facts))


def dispatched_lines(found: DispatchFacts) -> list[str]:
    """The card once dispatched: who sent it where."""
    trail = found.trail
    done = _("✅ Dispatched to {team} by {name}.").format(
        team=local_name(trail.team, locale()) if trail.team else "-",
        name=(trail.dispatcher.name or "-") if trail.dispatcher else "-",
    )
    return [*dispatch_lines(found), done]


def triage_lines(facts: OrderFacts) -> list[str]:
    return [_("💬 A need in the resident's own words"), *order_lines(facts, with_phone=False)]


def areas_keyboard(found: TriageFacts) -> InlineKeyboardMarkup:
    order_id = found.facts.order.id
    buttons: list[tuple[str, CallbackData]] = [
        (local_name(area, locale()), TriageArea(order_id=order_id, area_id=area.id))
        for area in found.areas
    ]
    buttons += [
        (_("✉ Reply to the resident"), ReplyToResident(order_id=order_id)),
        (_("✅ Reply and close"), ReplyAndClose(order_id=order_id)),
    ]
    return inline_keyboard(buttons + _listen(found.facts), columns=2)


def categories_keyboard(order_id: int, categories: list[ServiceCategory]) -> InlineKeyboardMarkup:
    buttons: list[tuple[str, CallbackData]] = [
        (local_name(category, locale()), TriageTo(order_id=order_id, category_id=category.id))
        for category in categories
    ]
    return inline_keyboard([*buttons, (_("⬅ Back"), TriageArea(order_id=order_id, area_id=0))])


def triaged_line(category: ServiceCategory | None) -> str:
    return _("✅ Sorted into «{service}»; it goes on from here.").format(
        service=local_name(category, locale()) if category else "-"
    )


def _listen(facts: OrderFacts) -> list[tuple[str, CallbackData]]:
    """🎤 Listen, when the resident said their need."""
    if not facts.has_voice:
        return []
    return [(_("🎤 Listen"), OrderAction(action="voice", order_id=facts.order.id))]


@renders(NoticeKind.DISPATCH_CARD, reads=screens.dispatch_notice)
def dispatch_card(note: Note, found: DispatchFacts) -> Rendered:
    first = card_headline(NoticeKind.DISPATCH_CARD, note.payload, found.facts.order) or ""
    lines = [first, *dispatch_lines(found)]
    return message(note.chat_id, lines, dispatch_keyboard(found), photo=found.facts.photo)


@renders(NoticeKind.TRIAGE_CARD, reads=screens.triage_notice)
def triage_card(note: Note, found: TriageFacts) -> Rendered:
    lines = [*triage_lines(found.facts), _("Pick the area, then the service; or reply.")]
    return message(note.chat_id, lines, areas_keyboard(found), photo=found.facts.photo)
