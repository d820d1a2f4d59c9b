"""The people screen of a station head and the office: the list of matches, a person's card
(village, priority group, large print) and its buttons. Callback data of that screen."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import PriorityGroup, User
from services.i18n import local_name
from services.residents import Person
from views.format import locale, num

NO_GROUP = 0  # the group id of «none» in PersonGroupSet


class PersonPicked(CallbackData, prefix="pp"):
    user_id: int


class PersonLargePrint(CallbackData, prefix="ppl"):
    user_id: int
    on: bool


class PersonGroups(CallbackData, prefix="ppg"):
    user_id: int


class PersonGroupSet(CallbackData, prefix="ppgs"):
    user_id: int
    group_id: int  # NO_GROUP: none


class PersonBooking(CallbackData, prefix="ppb"):
    """The office books an hours correction (bonus=False) or a commendation bonus."""

    user_id: int
    bonus: bool


class PersonErase(CallbackData, prefix="ppe"):
    """The office erases a resident who has no Telegram: asked (sure=False), then done."""

    user_id: int
    sure: bool


def found_keyboard(found: Sequence[User]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for user in found:
        kb.button(text=user.name or "?", callback_data=PersonPicked(user_id=user.id))
    kb.adjust(1)
    return kb.as_markup()


def card_text(who: Person, hours: Decimal | None = None, points: Decimal | None = None) -> str:
    lang = locale()
    lines = [
        f"👤 {who.user.name}",
        _("Village: {village}").format(
            village=local_name(who.station, lang) if who.station else "—"
        ),
        _("Priority group: {group}").format(
            group=local_name(who.group, lang) if who.group else _("none")
        ),
        _("Large print: {state}").format(state=_("on") if who.user.large_print else _("off")),
    ]
    if hours is not None and points is not None:
        lines.append(
            _("This year: {hours} hours, {points} points").format(
                hours=num(hours), points=num(points)
            )
        )
    return "\n".join(lines)


def card_keyboard(who: Person, *, office: bool) -> InlineKeyboardMarkup:
    user_id = who.user.id
    kb = InlineKeyboardBuilder()
    if who.user.large_print:
        kb.button(
            text=_("🔡 Normal buttons"), callback_data=PersonLargePrint(user_id=user_id, on=False)
        )
    else:
        kb.button(
            text=_("🔠 Large print, big buttons"),
            callback_data=PersonLargePrint(user_id=user_id, on=True),
        )
    kb.button(text=_("🏷 Priority group"), callback_data=PersonGroups(user_id=user_id))
    if office:
        kb.button(
            text=_("⏱ Correct hours"), callback_data=PersonBooking(user_id=user_id, bonus=False)
        )
        kb.button(
            text=_("🏅 Commendation bonus"),
            callback_data=PersonBooking(user_id=user_id, bonus=True),
        )
        if who.user.tg_id is None:  # people with Telegram erase themselves (/forget)
            kb.button(
                text=_("🗑 Erase personal data"),
                callback_data=PersonErase(user_id=user_id, sure=False),
            )
    kb.adjust(1)
    return kb.as_markup()


def erase_question(who: Person) -> str:
    return _(
        "Erase the personal data of {name}? Name, phone, address and what they asked for "
        "are deleted; the figures (orders, hours, ratings) stay. This cannot be undone."
    ).format(name=who.user.name)


def erase_keyboard(user_id: int) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Yes, erase"), callback_data=PersonErase(user_id=user_id, sure=True))
    kb.button(text=_("↩ Keep"), callback_data=PersonPicked(user_id=user_id))
    kb.adjust(2)
    return kb.as_markup()


def groups_keyboard(user_id: int, groups: Sequence[PriorityGroup]) -> InlineKeyboardMarkup:
    lang = locale()
    kb = InlineKeyboardBuilder()
    for group in groups:
        kb.button(
            text=local_name(group, lang),
            callback_data=PersonGroupSet(user_id=user_id, group_id=group.id),
        )
    kb.button(text=_("None"), callback_data=PersonGroupSet(user_id=user_id, group_id=NO_GROUP))
    kb.adjust(2)
    return kb.as_markup()
