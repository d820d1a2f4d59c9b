"""The recurrence rules of scheduled notices: the next occurrence of a daily, weekly or
monthly rule in local time, and the rules refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services import broadcasts
from services.errors import DomainError
from services.points import LOCAL_TZ

TZ = LOCAL_TZ


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


def test_daily_recurrence():
    rule = {"kind": "daily", "days": [], "time": "08:00"}
    day = date(2026, 3, 2)
    assert broadcasts.next_occurrence(rule, local(day, 7), TZ) == local(day, 8)
    assert broadcasts.next_occurrence(rule, local(day, 8), TZ) == local(day + timedelta(1), 8)


def test_weekly_recurrence_on_chosen_days():
    rule = {"kind": "weekly", "days": [0, 3], "time": "19:00"}  # Mondays and Thursdays
    monday = date(2026, 3, 2)
    thursday = monday + timedelta(days=3)
    assert broadcasts.next_occurrence(rule, local(monday, 20), TZ) == local(thursday, 19)
    nxt = broadcasts.next_occurrence(rule, local(thursday, 19), TZ)
    assert nxt == local(monday + timedelta(days=7), 19)


def test_monthly_recurrence_keeps_to_the_last_day_of_short_months():
    rule = {"kind": "monthly", "days": [31], "time": "09:00"}
    first = broadcasts.next_occurrence(rule, local(date(2026, 1, 31), 10), TZ)
    assert first == local(date(2026, 2, 28), 9)
    assert broadcasts.next_occurrence(rule, first, TZ) == local(date(2026, 3, 31), 9)
    mid = {"kind": "monthly", "days": [15], "time": "09:00"}
    assert broadcasts.next_occurrence(mid, local(date(2026, 2, 15), 9), TZ) == local(
        date(2026, 3, 15), 9
    )


def test_recurrence_keeps_local_time_across_daylight_saving():
    """Asia/Shanghai has no DST, but the rule is written generally: in New York, 08:00 on
    Mondays is 13:00 UTC before the March change and 12:00 UTC after it."""
    ny = ZoneInfo("America/New_York")
    rule = {"kind": "weekly", "days": [0], "time": "08:00"}
    before = broadcasts.next_occurrence(rule, datetime(2026, 3, 1, tzinfo=UTC), ny)
    after = broadcasts.next_occurrence(rule, before, ny)
    assert before == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


def test_bad_recurrence_is_refused():
    for rule in (
        {"kind": "hourly", "time": "08:00"},
        {"kind": "daily", "time": "25:00"},
        {"kind": "weekly", "days": [], "time": "08:00"},
        {"kind": "monthly", "days": [0], "time": "08:00"},
    ):
        with pytest.raises(DomainError):
            broadcasts.check_recurrence(rule)
