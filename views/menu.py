"""The main menu and the plain keyboards of every conversation. Buttons are big and few: the
users are villagers on phones. Callback data is one class per kind of button, never a
hand-parsed string."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from services.i18n import LOCALES, N_, gettext
from services.people import Roles


class Pick(CallbackData, prefix="p"):
    """A choice inside a conversation (area, category, day, slot, volunteer, …)."""

    what: str
    value: str


class Lang(CallbackData, prefix="lang"):
    code: str


# --- reply-keyboard texts (lazy: compared in the user's language) ------------------------
BTN_ORDER = __("🙋 Request a service")
BTN_MY_ORDERS = __("📋 My orders")
BTN_TEAM_ORDERS = __("📥 Team orders")
BTN_MY_TASKS = __("🧰 My tasks")
BTN_VILLAGE_ORDERS = __("🏘 Village orders")
BTN_UNIT_ORDERS = __("🏢 Unit orders")
BTN_PROXY_ORDER = __("📝 Order for a resident")
BTN_APPOINT = __("👥 Appoint staff")
BTN_ADD_VOLUNTEER = __("➕ Add a volunteer")
BTN_NOTICES = __("📢 Notices")
BTN_JOIN = __("🙌 Join a team")
BTN_ACTIVITIES = __("🗓 Activities")
BTN_ME = __("👤 Me")
BTN_KPI = __("🎯 KPIs")
BTN_REPORTS = __("📊 Reports")
BTN_LANGUAGE = __("🌐 Language")
BTN_HELP = __("❓ Help")
BTN_CANCEL = __("✖ Cancel")
BTN_BACK = __("⬅ Back")
BTN_SKIP = __("Skip")


class _Rows:
    """Plain reply buttons laid out `columns` to a row. aiogram's ReplyKeyboardBuilder
    validates and deep-copies every button; the two keyboards sent on almost every update
    (the menu and a step's choices) are built here directly instead."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def button(self, *, text: str) -> None:
        self.texts.append(text)

    def rows(self, columns: int) -> list[list[KeyboardButton]]:
        buttons = [KeyboardButton(text=t) for t in self.texts]
        return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


def main_menu(roles: Roles) -> ReplyKeyboardMarkup:
    kb = _Rows()
    kb.button(text=str(BTN_ORDER))
    kb.button(text=str(BTN_MY_ORDERS))
    if roles.leads_teams or roles.is_office:
        kb.button(text=str(BTN_TEAM_ORDERS))
    if roles.is_volunteer:
        kb.button(text=str(BTN_MY_TASKS))
    if roles.dispatches_for:
        kb.button(text=str(BTN_UNIT_ORDERS))
    if roles.head_of_stations or roles.is_office:
        kb.button(text=str(BTN_VILLAGE_ORDERS))
        kb.button(text=str(BTN_PROXY_ORDER))
    if roles.head_of_stations or roles.is_office:
        kb.button(text=str(BTN_NOTICES))
    if roles.admin or roles.is_office:
        kb.button(text=str(BTN_APPOINT))
    elif roles.leads_teams:
        kb.button(text=str(BTN_ADD_VOLUNTEER))
    kb.button(text=str(BTN_ACTIVITIES))
    if roles.is_volunteer or roles.is_staff:
        kb.button(text=str(BTN_ME))
    else:
        kb.button(text=str(BTN_JOIN))
    if roles.is_office or roles.head_of_stations:
        kb.button(text=str(BTN_KPI))
    if roles.is_office or roles.head_of_stations:
        kb.button(text=str(BTN_REPORTS))
    kb.button(text=str(BTN_LANGUAGE))
    kb.button(text=str(BTN_HELP))
    return ReplyKeyboardMarkup(keyboard=kb.rows(2), resize_keyboard=True, is_persistent=True)


def choices_keyboard(
    labels: Iterable[str], *, columns: int = 2, back: bool = True, cancel: bool = True
) -> ReplyKeyboardMarkup:
    """Big reply buttons for one step of a conversation, with Back and Cancel."""
    kb = _Rows()
    for label in labels:
        kb.button(text=label)
    rows = kb.rows(columns)
    tail = [KeyboardButton(text=str(BTN_BACK))] if back else []
    if cancel:
        tail.append(KeyboardButton(text=str(BTN_CANCEL)))
    if tail:
        rows.append(tail)
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True)


def contact_keyboard() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("📱 Share my phone number"), request_contact=True)
    kb.button(text=str(BTN_SKIP))
    kb.adjust(1)
    return kb.as_markup(resize_keyboard=True, one_time_keyboard=True)


def language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="中文", callback_data=Lang(code="zh_CN"))
    kb.button(text="English", callback_data=Lang(code="en"))
    return kb.as_markup()


def inline_choices(
    what: str, items: Sequence[tuple[str, str]], *, columns: int = 1
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, value in items:
        kb.button(text=label, callback_data=Pick(what=what, value=value))
    kb.adjust(columns)
    return kb.as_markup()


def bot_commands() -> dict[str, list[tuple[str, str]]]:
    """The command menu in each language, for setMyCommands."""
    items = [
        ("start", N_("Main menu")),
        ("order", N_("Request a service")),
        ("orders", N_("My orders")),
        ("language", N_("Change language")),
        ("cancel", N_("Stop what I am doing")),
        ("help", N_("How to use this bot")),
    ]
    return {loc: [(cmd, gettext(text, loc)) for cmd, text in items] for loc in LOCALES}
