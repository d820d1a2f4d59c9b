"""Activities: the list, publishing one (leader, station head, office), signing up and
cancelling, checking in by code or location, and the organiser's attendance list, check-in
code, photos, finishing (hours into the ledger) and calling it off."""

from __future__ import annotations

from aiogram import Router

from handlers.activities import (
    attendance,
    browse,
    calloff,
    checkin,
    confirm,
    finish,
    photos,
    publish,
    schedule,
    signup,
    unexpected,
)
from handlers.common import include


def router() -> Router:
    # unexpected last: only what no step above took
    return include(
        "activities",
        browse,
        publish,
        schedule,
        confirm,
        signup,
        checkin,
        attendance,
        finish,
        photos,
        calloff,
        unexpected,
    )
