"""Statistics and formatting: percentiles, durations, numbers and rates (the words for
statuses and numbers are services/wording.py's)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from models import (
    OrderStatus,
)
from services.i18n import N_, gettext
from services.wording import STATUS_NAMES as STATUS_NAMES
from services.wording import number_text, status_text

CENT = Decimal("0.01")


FINISHED = (OrderStatus.DONE, OrderStatus.RATED)


OVERDUE_STATUSES = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)


STATUS_ORDER = list(STATUS_NAMES)
status_name = status_text  # the dashboard's and the reports' name for it


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-quantile (0 ≤ p ≤ 1) by linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def seconds_between(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max(0.0, (later - earlier).total_seconds())


def as_timedelta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(seconds))


def format_duration(value: timedelta | None, locale: str | None) -> str:
    """ "1 h 20 min", "2 d 3 h", "45 min" (and their Chinese forms); "—" for none."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        if not hours:
            return gettext(N_("{d} d"), locale, d=days)
        return gettext(N_("{d} d {h} h"), locale, d=days, h=hours)
    if hours:
        if not mins:
            return gettext(N_("{h} h"), locale, h=hours)
        return gettext(N_("{h} h {m} min"), locale, h=hours, m=mins)
    return gettext(N_("{m} min"), locale, m=mins)


format_number = number_text


def format_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def dec(value: object) -> Decimal:
    # SQLite hands back floats for sums of NUMERIC; round to cents so totals compare exactly.
    return Decimal(str(value if value is not None else 0)).quantize(CENT, ROUND_HALF_UP)
