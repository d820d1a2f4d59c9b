"""Notices: office staff and station heads compose a broadcast, choose who gets it and when,
preview it and send it; a station head's goes to the office for approval first. Also the
lists of scheduled notices (with Cancel) and of one's own notices with their delivery.

    📢 Notices → ✍ New notice → text or photo → audience (→ villages / team)
               → when: now / a date and time / repeat (daily, weekly on days, monthly)
               → preview → ✅ Send  (a station head: 📨 Send for approval)

The form's steps are written once, in states.py; each step's file asks its question.
"""

from __future__ import annotations

from aiogram import Router

from handlers.broadcast import (
    approval,
    audience,
    back,
    compose,
    entry,
    preview,
    repeat,
    scheduled,
    unexpected,
    when,
)
from handlers.common import include


def router() -> Router:
    # back before the text step, which would take «⬅ Back» for the notice;
    # unexpected last: only what no step above took
    return include(
        "broadcast",
        entry,
        back,
        compose,
        audience,
        when,
        repeat,
        preview,
        approval,
        scheduled,
        unexpected,
    )
