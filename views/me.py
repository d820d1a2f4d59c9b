"""Callback data of /me: the volunteer's own page and the leader's team list."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class MeAction(CallbackData, prefix="me"):
    """A button under /me: certificate, leave a team, the leader's team list, remove."""

    action: str
    value: int = 0
