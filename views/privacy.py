"""/forget as people see it: the question, with its two buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from views.menu import inline_keyboard


class Forget(CallbackData, prefix="forget"):
    delete: bool


def forget_keyboard() -> InlineKeyboardMarkup:
    return inline_keyboard(
        [
            (_("🗑 Yes, delete my data"), Forget(delete=True)),
            (_("Keep it"), Forget(delete=False)),
        ]
    )
