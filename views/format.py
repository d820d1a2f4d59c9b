"""Formatting shared by every screen: the reader's language, labels of statuses, slots and
roles, numbers, durations and times in the reader's time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Annotated, TypeVar

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from pydantic import PlainSerializer

from models import OrderStatus, Role, Slot
from services.i18n import N_, Named, local_name

# A date field of callback data: packed as 2026-11-01 (aiogram packs no dates by itself).
Day = Annotated[date, PlainSerializer(lambda d: d.isoformat(), return_type=str)]


def locale() -> str:
    """The language of the person being answered (set by the i18n middleware or the sender)."""
    return get_i18n().current_locale


N = TypeVar("N", bound=Named)


def by_name(things: Iterable[N]) -> dict[str, N]:
    """Each thing under its name in the reader's language: the buttons of a step that offers
    villages, teams or services, and what a tap on one of them stands for."""
    return {local_name(t, locale()): t for t in things}


ROLE_LABELS = {
    Role.OFFICE: N_("office staff"),
    Role.STATION_HEAD: N_("station head"),
    Role.TEAM_LEADER: N_("team leader"),
    Role.VOLUNTEER: N_("volunteer"),
    Role.ADMIN: N_("administrator"),
    Role.RESIDENT: N_("resident"),
}

SLOT_LABELS = {
    Slot.MORNING: N_("Morning"),
    Slot.AFTERNOON: N_("Afternoon"),
    Slot.ANY: N_("Any time"),
}

STATUS_LABELS = {
    OrderStatus.NEW: N_("received"),
    OrderStatus.ROUTED: N_("waiting for a team"),
    OrderStatus.ACCEPTED: N_("accepted"),
    OrderStatus.IN_PROGRESS: N_("in progress"),
    OrderStatus.DONE: N_("done, waiting for your rating"),
    OrderStatus.RATED: N_("done and rated"),
    OrderStatus.DECLINED: N_("being passed to another team"),
    OrderStatus.CANCELLED: N_("cancelled"),
}
ANSWERED = N_("answered and closed")


def slot_label(slot: Slot) -> str:
    return _(SLOT_LABELS[slot])


def status_label(status: OrderStatus, *, answered: bool = False) -> str:
    """`answered`: closed by the office's answer (no visit needed), which is not a cancel."""
    return _(ANSWERED) if answered else _(STATUS_LABELS[status])


def num(value: Decimal) -> str:
    """1.50 → "1.5", 20.00 → "20"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def num_text(value: object) -> str:
    """A number from a notice's payload (a string or a float), as `num` writes it."""
    try:
        return num(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def duration(minutes: int) -> str:
    if minutes >= 60 and minutes % 60 == 0:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} min").format(n=minutes)


def short_time(iso: str | None, tz: tzinfo) -> str:
    """A moment from a notice's payload (ISO, UTC) as month-day hour:minute in `tz`."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%m-%d %H:%M")


def local_time(at: datetime | None, tz: tzinfo) -> str:
    """A moment as year-month-day hour:minute in `tz`; "-" for none."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "-"
