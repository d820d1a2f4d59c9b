"""The words every screen uses for days, times, hours and an order's status, in the reader's
language: the bot's cards and notices (through views/format.py), the dashboard and the
reports all say «12月2日 周三 上午», «1.5 小时» and «待接单» the same way.

Each function takes the reader's locale; times are read in the time zone given (the
context's, never UTC)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from models import OrderStatus, Slot
from services.i18n import N_, gettext

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)

# A slot after a day («12月2日 周三 上午», "Wed 2 Dec, morning").
SLOT_WORDS = {
    Slot.MORNING: N_("morning"),
    Slot.AFTERNOON: N_("afternoon"),
    Slot.ANY: N_("any time"),
}

# The one word for each state of an order, in the bot and on the dashboard alike.
STATUS_NAMES: dict[OrderStatus, str] = {
    OrderStatus.NEW: N_("New, with the office"),
    OrderStatus.ROUTED: N_("Waiting to be accepted"),
    OrderStatus.ACCEPTED: N_("Accepted"),
    OrderStatus.IN_PROGRESS: N_("In progress"),
    OrderStatus.DONE: N_("Done, not rated"),
    OrderStatus.RATED: N_("Done and rated"),
    OrderStatus.DECLINED: N_("Being passed on"),
    OrderStatus.CANCELLED: N_("Cancelled"),
}
ANSWERED = N_("Answered and closed")  # cancelled by the office's answer: nothing left to do


def status_text(status: OrderStatus | str, locale: str | None, *, answered: bool = False) -> str:
    return gettext(ANSWERED if answered else STATUS_NAMES[OrderStatus(status)], locale)


def day_text(day: date, locale: str | None) -> str:
    """«12月2日 周三», "Wed 2 Dec"."""
    return gettext(
        N_("{weekday} {day} {month}"),
        locale,
        weekday=gettext(WEEKDAYS[day.weekday()], locale),
        day=day.day,
        month=gettext(MONTHS[day.month - 1], locale),
    )


def when_text(day: date, slot: Slot | None, locale: str | None) -> str:
    """A day and its half-day: «12月2日 周三 上午», "Wed 2 Dec, morning"."""
    if slot is None:
        return day_text(day, locale)
    return slot_after(day_text(day, locale), slot, locale)


def slot_after(day: str, slot: Slot, locale: str | None) -> str:
    """A day already written, and the half-day: «本周内 上午», "this week, morning"."""
    return gettext(N_("{day}, {slot}"), locale, day=day, slot=gettext(SLOT_WORDS[slot], locale))


def moment_text(at: datetime, tz: tzinfo, locale: str | None) -> str:
    """A moment in `tz`: «12月2日 周三 14:30», "Wed 2 Dec 14:30"."""
    local = at.astimezone(tz)
    return f"{day_text(local.date(), locale)} {local:%H:%M}"


def number_text(value: object) -> str:
    """Hours and points without trailing zeros: 232, 2.5, 0; "—" for none."""
    if value is None:
        return "—"
    try:
        text = f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(value)
    return "0" if text in ("-0", "") else text


def hours_text(value: object, locale: str | None) -> str:
    """«1.5 小时», "1.5 h"."""
    return gettext(N_("{hours} h"), locale, hours=number_text(value))
