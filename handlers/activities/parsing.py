"""Reading what people type: hours ("1.5", "2h", "1,5") and times of day ("9:30", "9：30")."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from services import hours
from services.errors import DomainError


def parse_hours(text: str | None, most: Decimal = hours.MAX_HOURS) -> Decimal | None:
    """Hours as services.hours reads them ("NaN", "inf" and the like refused), or None, for
    a form that answers with its own words."""
    try:
        return hours.parse_hours(text or "", most=most)
    except DomainError:
        return None


def parse_time(text: str | None) -> time | None:
    raw = (text or "").strip().replace("：", ":")
    hours, _sep, minutes = raw.partition(":")
    if not (hours.isdigit() and (minutes.isdigit() or not minutes)):
        return None
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if h < 24 and m < 60 else None
