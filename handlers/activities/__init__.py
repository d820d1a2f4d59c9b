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


def router() -> Router:
    r = Router(name="activities")
    r.include_routers(
        browse.router(),
        publish.router(),
        schedule.router(),
        confirm.router(),
        signup.router(),
        checkin.router(),
        attendance.router(),
        finish.router(),
        photos.router(),
        calloff.router(),
        unexpected.router(),  # last: only what no step above took
    )
    return r
