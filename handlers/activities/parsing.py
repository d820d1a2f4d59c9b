"""Reading what people type: hours ("1.5", "2h", "1,5") and times of day ("9:30", "9：30")."""

from __future__ import annotations

from datetime import time
from decimal import Decimal, InvalidOperation


def parse_hours(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip().replace(",", ".").removesuffix("h").strip())
    except InvalidOperation:
        return None
    return value if Decimal(0) < value <= Decimal(24) else None


def parse_time(text: str | None) -> time | None:
    raw = (text or "").strip().replace("：", ":")
    hours, _sep, minutes = raw.partition(":")
    if not (hours.isdigit() and (minutes.isdigit() or not minutes)):
        return None
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if h < 24 and m < 60 else None
