"""Recurring broadcasts: daily, weekly or monthly at a local clock time."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from services.errors import DomainError
from services.i18n import N_


class Repeat(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


RECURRENCE_KINDS = tuple(Repeat)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_clock(text: str) -> time | None:
    match = _CLOCK.match(text.strip())
    return time(int(match[1]), int(match[2])) if match else None


def check_recurrence(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    """A clean copy of a recurrence rule, or DomainError."""
    if rule is None:
        return None
    kind, clock = rule.get("kind"), parse_clock(str(rule.get("time", "")))
    if kind not in RECURRENCE_KINDS or clock is None:
        raise DomainError(N_("Please choose how often to repeat the notice."))
    days = sorted({int(d) for d in rule.get("days") or []})
    if kind == "weekly" and (not days or not all(0 <= d <= 6 for d in days)):
        raise DomainError(N_("Please choose at least one day of the week."))
    if kind == "monthly" and (not days or not all(1 <= d <= 31 for d in days)):
        raise DomainError(N_("Please give a day of the month from 1 to 31."))
    return {"kind": kind, "days": days if kind != "daily" else [], "time": f"{clock:%H:%M}"}


def _matches(rule: dict[str, Any], day: date) -> bool:
    kind, days = rule["kind"], rule.get("days") or []
    if kind == "weekly":
        return day.weekday() in days
    if kind == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day in {min(d, last) for d in days}  # "the 31st" is the last day
    return True


def next_occurrence(rule: dict[str, Any], after: datetime, tz: tzinfo) -> datetime:
    """The first moment strictly after `after` that the rule names, in UTC. Local wall-clock
    time is kept across daylight-saving changes (zoneinfo), wherever the zone has them."""
    clock = parse_clock(rule["time"])
    if clock is None:
        raise ValueError(f"bad recurrence time {rule['time']!r}")
    start = after.astimezone(tz).date()
    for offset in range(0, 400):
        day = start + timedelta(days=offset)
        if not _matches(rule, day):
            continue
        when = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
        if when > after:
            return when
    raise ValueError(f"recurrence {rule!r} never falls due")


def first_run(
    now: datetime, tz: tzinfo, at: datetime | None = None, rule: dict[str, Any] | None = None
) -> datetime:
    """When a notice composed now would first go out."""
    if rule is not None:
        return next_occurrence(rule, now - timedelta(seconds=1), tz)
    return max(at, now) if at is not None else now
