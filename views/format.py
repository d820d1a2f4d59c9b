"""Formatting shared by every screen: the reader's language, labels of statuses, slots and
roles, numbers, durations and times in the reader's time zone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, TypeVar

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from pydantic import PlainSerializer

from models import OrderStatus, Role, Slot
from services import wording
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


def slot_label(slot: Slot) -> str:
    return _(SLOT_LABELS[slot])


def status_label(status: OrderStatus, *, answered: bool = False) -> str:
    """The one word for an order's state, as the dashboard says it too (`answered`: closed
    by the office's answer, no visit needed — not a cancel)."""
    return wording.status_text(status, locale(), answered=answered)


def num(value: Decimal) -> str:
    """1.50 → "1.5", 20.00 → "20"."""
    return wording.number_text(value)


def num_text(value: object) -> str:
    """A number from a notice's payload (a string or a float), as `num` writes it."""
    return wording.number_text(value)


def hours_label(value: object) -> str:
    """«1.5 小时», "1.5 h": hours wherever they are shown."""
    return wording.hours_text(value, locale())


def duration(minutes: int) -> str:
    if minutes >= 60 and minutes % 60 == 0:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} min").format(n=minutes)


def day_label(day: date) -> str:
    """«12月2日 周三», "Wed 2 Dec"."""
    return wording.day_text(day, locale())


def when_label(day: date | None, slot: Slot | None = None) -> str:
    """A day and its half-day, «12月2日 周三 上午»; «本周内 上午» for no day."""
    if day is not None:
        return wording.when_text(day, slot, locale())
    if slot is None:
        return _("this week")
    return wording.slot_after(_("this week"), slot, locale())


def payload_day(iso: object) -> str:
    """A day from a notice's payload (2026-12-02) as `day_label` writes it."""
    try:
        return day_label(date.fromisoformat(str(iso)))
    except ValueError:
        return str(iso or "")


def moment(at: datetime | str | None, tz: tzinfo) -> str:
    """A moment (or an ISO moment from a notice's payload) in `tz`: «12月2日 周三 14:30»;
    "" for none."""
    if not at:
        return ""
    when = datetime.fromisoformat(at) if isinstance(at, str) else at
    return wording.moment_text(when, tz, locale())


def local_time(at: datetime | None, tz: tzinfo) -> str:
    """A moment as `moment` writes it; "-" for none."""
    return moment(at, tz) or "-"
