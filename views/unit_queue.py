"""站所的订单: the orders a dispatcher's unit received, one card each; a waiting order offers
the teams (派单), one already with a team offers «re-dispatch» until someone accepts it."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import OrderStatus, Team
from services.i18n import local_name
from services.screens import DispatchFacts
from views.dispatch import dispatch_keyboard, dispatch_lines
from views.format import locale, status_label


class Redispatch(CallbackData, prefix="rdp"):
    """Open the other teams this routed order may go to."""

    order_id: int


class RedispatchTo(CallbackData, prefix="rdt"):
    """Hand the routed order to this team instead (a reason is asked next)."""

    order_id: int
    team_id: int


def queue_card(found: DispatchFacts) -> tuple[str, InlineKeyboardMarkup | None]:
    order = found.facts.order
    lines = [
        *dispatch_lines(found),
        _("Status: {status}").format(status=status_label(order.status)),
    ]
    if order.status == OrderStatus.NEW and order.handler_kind == "unit":
        return "\n".join(lines), dispatch_keyboard(found)
    if order.status != OrderStatus.ROUTED:
        return "\n".join(lines), None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔁 Re-dispatch"), callback_data=Redispatch(order_id=order.id))
    return "\n".join(lines), kb.as_markup()


def redispatch_keyboard(found: DispatchFacts) -> InlineKeyboardMarkup:
    """The teams of the order's platform (and the village squad) other than its own."""
    kb = InlineKeyboardBuilder()
    order = found.facts.order
    for team in found.targets:
        if team.id != order.team_id:
            kb.button(
                text=local_name(team, locale()),
                callback_data=RedispatchTo(order_id=order.id, team_id=team.id),
            )
    kb.adjust(1)
    return kb.as_markup()


def ask_reason(team: Team | None) -> str:
    return _(
        "Why should {team} take it instead? Write the reason in one message (or tap “✖ Cancel”)."
    ).format(team=local_name(team, locale()) if team else "-")


def redispatched(team: Team | None) -> str:
    return _("Passed to {team}; its leader has the order card now.").format(
        team=local_name(team, locale()) if team else "-"
    )
