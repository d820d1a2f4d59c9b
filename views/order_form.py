"""The order form as people see it: day labels, the place keyboard, the summary with its
Confirm / Edit / Cancel buttons."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import ReplyKeyboardBuilder

from models import Region, ServiceCategory, Slot
from services.i18n import local_name
from views.format import day_label as day_label
from views.format import locale, when_label
from views.menu import BTN_BACK, BTN_CANCEL, inline_keyboard

DAYS_AHEAD = 14

# Where the service says it all («量血压»): no words needed. The first also answers «when».
BTN_NO_NOTE_ASAP = __("⚡ No need to write: as soon as possible")
BTN_NO_NOTE = __("🕒 No need to write: pick a time")
BTN_ASAP = __("⚡ As soon as possible")
BTN_NO_PHONE = __("🚫 No phone")  # ordering for a resident who has none


# The summary's buttons carry the form's token: a button of an older summary is refused,
# and Confirm pressed again after the form is gone finds the order that token made.
class ConfirmOrder(CallbackData, prefix="ofc"):
    token: str


class EditOrder(CallbackData, prefix="ofe"):
    token: str


class DropOrder(CallbackData, prefix="ofd"):
    token: str


class FormPart(StrEnum):
    CATEGORY = "category"
    DESCRIPTION = "description"
    DAY = "day"
    PLACE = "place"


class EditPart(CallbackData, prefix="ofp"):
    part: FormPart
    token: str


def days_ahead(today: date, n: int = DAYS_AHEAD) -> list[date]:
    return [today + timedelta(days=i) for i in range(n)]


def when_choices() -> list[str]:
    return [str(BTN_ASAP), _("Today"), _("Tomorrow"), _("This week"), _("Pick a date")]


def need_choices() -> list[str]:
    return [str(BTN_NO_NOTE_ASAP), str(BTN_NO_NOTE)]


def place_keyboard(station: Region | None, *, proxy: bool = False) -> ReplyKeyboardMarkup:
    """Home first (one tap). Ordering for a resident, the buttons speak of them: their home;
    no «share my location», which would be the station's."""
    village = local_name(station, locale()) if station else ""
    kb = ReplyKeyboardBuilder()
    if proxy:
        kb.button(text=_("🏠 At the resident's home in {village}").format(village=village))
    else:
        kb.button(text=_("🏠 At home in {village}").format(village=village))
        kb.button(text=_("📍 Share my location"), request_location=True)
    kb.adjust(1)
    kb.row(KeyboardButton(text=str(BTN_BACK)), KeyboardButton(text=str(BTN_CANCEL)))
    return kb.as_markup(resize_keyboard=True)


def summary_text(
    data: dict[str, Any], category: ServiceCategory | None, station: Region | None
) -> str:
    """The request as the form holds it (`data`), for a last look before it is sent."""
    if data.get("asap"):
        when_line = _("When: as soon as possible")
    else:
        day = None if data.get("this_week") else date.fromisoformat(data["day"])
        when_line = _("Time: {when}").format(when=when_label(day, Slot(data["slot"])))
    if data.get("address"):
        place = data["address"] + (" 📍" if data.get("latitude") is not None else "")
    elif data.get("latitude") is not None:
        place = _("📍 the location you sent")
    else:
        village = local_name(station, locale()) if station else ""
        home = _("at the resident's home in {village}") if data.get("proxy") else None
        place = (home or _("at home in {village}")).format(village=village)
    lines = [
        _("Please check your request:"),
        _("Service: {name}").format(name=local_name(category, locale()) if category else "?"),
        _("Need: {text}").format(text=data.get("description") or "-"),
        when_line,
        _("Where: {place}").format(place=place),
    ]
    if data.get("proxy"):
        lines.append(_("For: {name}").format(name=data.get("proxy_name", "")))
    return "\n".join(lines)


def summary_keyboard(token: str) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("✅ Confirm"), ConfirmOrder(token=token)),
            (_("✏ Edit"), EditOrder(token=token)),
            (_("✖ Cancel"), DropOrder(token=token)),
        ]
    )


def edit_keyboard(token: str) -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (label, EditPart(part=part, token=token))
            for part, label in (
                (FormPart.CATEGORY, _("Service")),
                (FormPart.DESCRIPTION, _("What is needed")),
                (FormPart.DAY, _("Time")),
                (FormPart.PLACE, _("Place")),
            )
        ],
        columns=2,
    )
