"""The volunteer's side: start a task, can't make it, record it done with photos, hours and
a note; the list of my tasks."""

from __future__ import annotations

from aiogram import Router

from handlers.common import include
from handlers.volunteer import done, start, tasks, withdraw


def router() -> Router:
    return include("volunteer", start, withdraw, done, tasks)
