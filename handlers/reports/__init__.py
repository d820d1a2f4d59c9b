"""Reports in the chat for office staff (the whole town) and station heads (their village):
pick a period, read the figures and a chart, the station and unit scorecards, the XLSX and photo
archives as documents, and a one-time sign-in link to the web dashboard."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.reports import dashboard, export, periods, scorecard, units


def router() -> Router:
    return include("reports", periods, scorecard, units, export, dashboard)
