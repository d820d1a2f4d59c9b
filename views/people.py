"""The people screen of a station head and the office: the list of matches, a person's card
(village, priority group, large print) and its buttons. Callback data of that screen."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from models import PriorityGroup, User
from services.i18n import local_name
from services.residents import Person
from views.format import locale, num
from views.menu import inline_keyboard

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
    return inline_keyboard([(user.name or "?", PersonPicked(user_id=user.id)) for user in found])


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
    large = not who.user.large_print
    buttons: list[tuple[str, CallbackData]] = [
        (
            _("🔠 Large print, big buttons") if large else _("🔡 Normal buttons"),
            PersonLargePrint(user_id=user_id, on=large),
        ),
        (_("🏷 Priority group"), PersonGroups(user_id=user_id)),
    ]
    if office:
        buttons += [
            (_("⏱ Correct hours"), PersonBooking(user_id=user_id, bonus=False)),
            (_("🏅 Commendation bonus"), PersonBooking(user_id=user_id, bonus=True)),
        ]
        if who.user.tg_id is None:  # people with Telegram erase themselves (/forget)
            buttons.append((_("🗑 Erase personal data"), PersonErase(user_id=user_id, sure=False)))
    return inline_keyboard(buttons)


def erase_question(who: Person) -> str:
    return _(
        "Erase the personal data of {name}? Name, phone, address and what they asked for "
        "are deleted; the figures (orders, hours, ratings) stay. This cannot be undone."
    ).format(name=who.user.name)


def erase_keyboard(user_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("🗑 Yes, erase"), PersonErase(user_id=user_id, sure=True)),
            (_("↩ Keep"), PersonPicked(user_id=user_id)),
        ],
        columns=2,
    )


def groups_keyboard(user_id: int, groups: Sequence[PriorityGroup]) -> InlineKeyboardMarkup:
    lang = locale()
    choices = [(local_name(group, lang), group.id) for group in groups] + [(_("None"), NO_GROUP)]
    return inline_keyboard(
        [(name, PersonGroupSet(user_id=user_id, group_id=id_)) for name, id_ in choices],
        columns=2,
    )
