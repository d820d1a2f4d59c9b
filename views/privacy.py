"""/forget as people see it: the question, with its two buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder


class Forget(CallbackData, prefix="forget"):
    delete: bool


def forget_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🗑 Yes, delete my data"), callback_data=Forget(delete=True))
    kb.button(text=_("Keep it"), callback_data=Forget(delete=False))
    kb.adjust(1)
    return kb.as_markup()
