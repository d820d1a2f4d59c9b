"""Callback data of the reports menu."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ReportAct(CallbackData, prefix="rp"):
    """A reports button: a period ("w", "m", "y", "c"), or for a period's code
    ("m20261101-20261130"): the scorecard, the XLSX archive, the photos; the dashboard."""

    action: str
    period: str = ""
