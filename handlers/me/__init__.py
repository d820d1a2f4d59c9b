"""/me: a volunteer's hours this year against the target, points and last services, the
certificate of hours, leaving a team; a leader's team list (remove a volunteer); and the KPI
table for the office and station heads (/kpi)."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.me import card, kpi, leave, team


def router() -> Router:
    return include("me", card, leave, team, kpi)
