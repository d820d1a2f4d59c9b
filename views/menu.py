"""The main menu and the plain keyboards of every conversation. Buttons are big and few: the
users are villagers on phones. Callback data is one class per kind of button, never a
hand-parsed string."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from services.i18n import LOCALES, N_, gettext
from services.people import Roles


class Lang(CallbackData, prefix="lang"):
    code: str


# --- reply-keyboard texts (lazy: compared in the user's language) ------------------------
BTN_ORDER = __("🙋 Request a service")
BTN_MY_ORDERS = __("📋 My orders")
BTN_TEAM_ORDERS = __("📥 Team orders")
BTN_MY_TASKS = __("🧰 My tasks")
BTN_VILLAGE_ORDERS = __("🏘 Village orders")
BTN_UNIT_ORDERS = __("🗂 Unit orders")
BTN_PROXY_ORDER = __("📝 Order for a resident")
BTN_APPOINT = __("👥 Appoint staff")
BTN_ADD_VOLUNTEER = __("➕ Add a volunteer")
BTN_NOTICES = __("📢 Notices")
BTN_JOIN = __("🙌 Join a team")
BTN_ACTIVITIES = __("🗓 Activities")
BTN_ME = __("👤 Me")
BTN_KPI = __("🎯 KPIs")
BTN_REPORTS = __("📊 Reports")
BTN_UNITS = __("🏢 Unit scorecard")
BTN_LANGUAGE = __("🌐 Language")
BTN_HELP = __("❓ Help")
BTN_PEOPLE = __("👥 Residents")
BTN_MORE = __("☰ More")
BTN_HOME = __("🏠 Main menu")
BTN_CANCEL = __("✖ Cancel")
BTN_BACK = __("⬅ Back")
BTN_SKIP = __("Skip")
BTN_PHOTOS_DONE = __("✅ Photos done")  # after the photos of a service or an activity
OLD_PHOTOS_DONE = "✅"  # the same button on keyboards still in people's chats


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


# Large print (大字大按钮): one tall button to a row, for people who find small keys hard. A
# per-person choice, set for each update by the user middleware, read by every keyboard.
_large_print: ContextVar[bool] = ContextVar("large_print", default=False)


@contextmanager
def large_print(on: bool) -> Iterator[None]:
    """Keyboards built inside are laid out for large print when `on`."""
    token = _large_print.set(on)
    try:
        yield
    finally:
        _large_print.reset(token)


def _keyboard(rows: list[list[KeyboardButton]], *, persistent: bool = False) -> ReplyKeyboardMarkup:
    # Telegram draws keys at their full height unless asked to resize them smaller.
    return ReplyKeyboardMarkup(
        keyboard=rows, resize_keyboard=not _large_print.get(), is_persistent=persistent or None
    )


def _columns(default: int) -> int:
    return 1 if _large_print.get() else default


# A menu longer than this is split: the day's work first, the rest behind «☰ More», so the
# keyboard covers less than half of a phone's chat.
MENU_AT_ONCE = 8


def _menu_items(roles: Roles) -> tuple[list[str], list[str]]:
    """The menu's buttons for these roles: (the day's work, everything else)."""
    work = [str(BTN_ORDER), str(BTN_MY_ORDERS)]
    if roles.leads_teams or roles.is_office:
        work.append(str(BTN_TEAM_ORDERS))
    if roles.is_volunteer:
        work.append(str(BTN_MY_TASKS))
    if roles.dispatches_for:
        work.append(str(BTN_UNIT_ORDERS))
    if roles.head_of_stations or roles.is_office:
        work += [str(BTN_VILLAGE_ORDERS), str(BTN_PROXY_ORDER), str(BTN_NOTICES)]
    rest = []
    if roles.admin or roles.is_office:
        rest.append(str(BTN_APPOINT))
    elif roles.leads_teams:
        rest.append(str(BTN_ADD_VOLUNTEER))
    rest.append(str(BTN_ACTIVITIES))
    rest.append(str(BTN_ME) if roles.is_volunteer or roles.is_staff else str(BTN_JOIN))
    if roles.is_office or roles.head_of_stations:
        rest += [str(BTN_PEOPLE), str(BTN_KPI), str(BTN_REPORTS)]
    if roles.dispatches_for and not roles.is_office:
        rest.append(str(BTN_UNITS))
    rest += [str(BTN_LANGUAGE), str(BTN_HELP)]
    return work, rest


def main_menu(roles: Roles) -> ReplyKeyboardMarkup:
    work, rest = _menu_items(roles)
    shown = work + rest if len(work) + len(rest) <= MENU_AT_ONCE else [*work, str(BTN_MORE)]
    kb = _Rows()
    for text in shown:
        kb.button(text=text)
    return _keyboard(kb.rows(_columns(2)), persistent=True)


def more_menu(roles: Roles) -> ReplyKeyboardMarkup:
    """The rest of a long menu, and the way back to the main one."""
    _work, rest = _menu_items(roles)
    kb = _Rows()
    for text in [*rest, str(BTN_HOME)]:
        kb.button(text=text)
    return _keyboard(kb.rows(_columns(2)), persistent=True)


def is_menu_button(text: str | None) -> bool:
    """Whether `text` is a menu button (in the reader's language), not an answer."""
    return text is not None and text in {str(button) for button in MENU_BUTTONS}


# Every button a menu may show: what a conversation must not mistake for an answer.
MENU_BUTTONS = (
    BTN_ORDER,
    BTN_MY_ORDERS,
    BTN_TEAM_ORDERS,
    BTN_MY_TASKS,
    BTN_VILLAGE_ORDERS,
    BTN_UNIT_ORDERS,
    BTN_PROXY_ORDER,
    BTN_APPOINT,
    BTN_ADD_VOLUNTEER,
    BTN_NOTICES,
    BTN_JOIN,
    BTN_ACTIVITIES,
    BTN_ME,
    BTN_KPI,
    BTN_REPORTS,
    BTN_UNITS,
    BTN_LANGUAGE,
    BTN_HELP,
    BTN_PEOPLE,
    BTN_MORE,
    BTN_HOME,
)


def choices_keyboard(
    labels: Iterable[str], *, columns: int = 2, back: bool = True, cancel: bool = True
) -> ReplyKeyboardMarkup:
    """Big reply buttons for one step of a conversation, with Back and Cancel."""
    kb = _Rows()
    for label in labels:
        kb.button(text=label)
    rows = kb.rows(_columns(columns))
    tail = [KeyboardButton(text=str(BTN_BACK))] if back else []
    if cancel:
        tail.append(KeyboardButton(text=str(BTN_CANCEL)))
    if tail:
        rows.append(tail)
    return _keyboard(rows)


def contact_keyboard() -> ReplyKeyboardMarkup:
    kb = ReplyKeyboardBuilder()
    kb.button(text=_("📱 Share my phone number"), request_contact=True)
    kb.button(text=str(BTN_SKIP))
    kb.adjust(1)
    return kb.as_markup(resize_keyboard=True, one_time_keyboard=True)


class LargePrint(CallbackData, prefix="lp"):
    """Switch one's own large print (大字大按钮) on or off."""

    on: bool


def language_keyboard(large: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="中文", callback_data=Lang(code="zh_CN"))
    kb.button(text="English", callback_data=Lang(code="en"))
    if large:
        kb.button(text=_("🔡 Back to normal buttons"), callback_data=LargePrint(on=False))
    else:
        kb.button(text=_("🔠 Large print, big buttons"), callback_data=LargePrint(on=True))
    kb.adjust(2, 1)
    return kb.as_markup()


def inline_keyboard(
    buttons: Iterable[tuple[str, CallbackData]], *, columns: int = 1
) -> InlineKeyboardMarkup:
    """Buttons under a message: (label, what a tap sends), `columns` to a row."""
    kb = InlineKeyboardBuilder()
    for text, data in buttons:
        kb.button(text=text, callback_data=data)
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
