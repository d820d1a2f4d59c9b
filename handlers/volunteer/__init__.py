"""The volunteer's side: start a task, can't make it, record it done with photos, hours and
a note; the list of my tasks."""

from __future__ import annotations

from aiogram import Router

from handlers.volunteer import done, start, tasks, withdraw


def router() -> Router:
    r = Router(name="volunteer")
    r.include_routers(start.router(), withdraw.router(), done.router(), tasks.router())
    return r
