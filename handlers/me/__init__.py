"""/me: a volunteer's hours this year against the target, points and last services, the
certificate of hours, leaving a team; a leader's team list (remove a volunteer); and the KPI
table for the office and station heads (/kpi)."""

from __future__ import annotations

from aiogram import Router

from handlers.me import card, kpi, leave, team


def router() -> Router:
    r = Router(name="me")
    r.include_routers(card.router(), leave.router(), team.router(), kpi.router())
    return r
