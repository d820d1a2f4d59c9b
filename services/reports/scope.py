"""Who sees what (the whole town, or a station head's villages) and the periods a report
covers: calendar weeks, months, years or custom ranges in local time, as UTC bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Region,
    RegionLevel,
    utcnow,
)
from services.people import Roles

MAX_CUSTOM_DAYS = 3 * 366  # a custom period spans at most about three years


PERIOD_KINDS = {"w": "week", "m": "month", "y": "year", "c": "custom"}


@dataclass(frozen=True)
class Scope:
    """What a viewer may see. `None` means no restriction at that level: an admin sees
    every town; office staff see their town(s); a station head sees their village(s)."""

    town_ids: frozenset[int] | None = None
    station_ids: frozenset[int] | None = None

    @property
    def whole_town(self) -> bool:
        return self.station_ids is None

    def allows(self, town_id: int | None, station_id: int | None) -> bool:
        if self.town_ids is not None and town_id not in self.town_ids:
            return False
        return self.station_ids is None or station_id in self.station_ids

    def where(self, town_col: Any, station_col: Any) -> list[ColumnElement[bool]]:
        """SQL conditions restricting rows with these town and station columns."""
        conds: list[ColumnElement[bool]] = []
        if self.town_ids is not None:
            conds.append(town_col.in_(sorted(self.town_ids)))
        if self.station_ids is not None:
            conds.append(station_col.in_(sorted(self.station_ids)))
        return conds


def scope_for(roles: Roles) -> Scope | None:
    """The scope of reports for these roles, or None for someone who may not see them.
    Office (or admin) rights win over being a station head as well."""
    if roles.admin:
        return Scope()
    if roles.office_towns:
        return Scope(town_ids=frozenset(roles.office_towns))
    if roles.head_of_stations:
        return Scope(station_ids=frozenset(roles.head_of_stations))
    return None


async def stations_in(session: AsyncSession, scope: Scope) -> list[Region]:
    """The active stations the scope covers, in the config's order."""
    stmt = select(Region).where(Region.level == RegionLevel.STATION, Region.active.is_(True))
    stmt = stmt.where(*scope.where(Region.parent_id, Region.id))
    return list(await session.scalars(stmt.order_by(Region.parent_id, Region.sort, Region.id)))


async def towns_of(session: AsyncSession, scope: Scope) -> list[Region]:
    """The towns whose stations the scope touches (a station head: the town of the village)."""
    station_towns = select(Region.parent_id).where(
        Region.level == RegionLevel.STATION, *scope.where(Region.parent_id, Region.id)
    )
    stmt = select(Region).where(Region.level == RegionLevel.TOWN, Region.id.in_(station_towns))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


@dataclass(frozen=True)
class Period:
    """Local calendar days `first`..`last` (inclusive) and their UTC bounds `[start, end)`."""

    kind: str  # "w", "m", "y" or "c"
    first: date
    last: date
    start: datetime
    end: datetime

    @property
    def code(self) -> str:
        """A compact, stable form for buttons and links: "m20261101-20261130"."""
        return f"{self.kind}{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def label(self, locale: str | None) -> str:
        """ "2026年11月" / "November 2026", "2026年" / "2026", else the dates."""
        en = locale == "en"
        if self.kind == "m":
            return f"{self.first:%B %Y}" if en else f"{self.first.year}年{self.first.month}月"
        if self.kind == "y":
            return str(self.first.year) if en else f"{self.first.year}年"
        return f"{self.first:%Y-%m-%d} – {self.last:%Y-%m-%d}"


def _bounds(first: date, last: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    after = last + timedelta(days=1)
    end = datetime(after.year, after.month, after.day, tzinfo=tz).astimezone(UTC)
    return start, end


def make_period(kind: str, first: date, last: date, tz: tzinfo) -> Period:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}")
    if last < first:
        raise ValueError("the period ends before it starts")
    if (last - first).days >= MAX_CUSTOM_DAYS:
        raise ValueError("the period is too long")
    try:
        return Period(kind, first, last, *_bounds(first, last, tz))
    except OverflowError:  # the last day of year 9999
        raise ValueError("the period is out of range") from None


def local_today(tz: tzinfo, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(tz).date()


def this_week(today: date, tz: tzinfo) -> Period:
    monday = today - timedelta(days=today.weekday())
    return make_period("w", monday, monday + timedelta(days=6), tz)


def this_month(today: date, tz: tzinfo) -> Period:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return make_period("m", first, following - timedelta(days=1), tz)


def this_year(today: date, tz: tzinfo) -> Period:
    return make_period("y", date(today.year, 1, 1), date(today.year, 12, 31), tz)


def custom_period(first: date, last: date, tz: tzinfo) -> Period:
    return make_period("c", first, last, tz)


def current_period(kind: str, tz: tzinfo, now: datetime | None = None) -> Period:
    """This week ("w"), month ("m") or year ("y") around `now`, in local time."""
    today = local_today(tz, now)
    makers = {"w": this_week, "m": this_month, "y": this_year}
    if kind not in makers:
        raise ValueError(f"unknown period kind {kind!r}")
    return makers[kind](today, tz)


def parse_period_code(code: str, tz: tzinfo) -> Period:
    """The inverse of `Period.code`; raises ValueError on anything else."""
    kind, rest = code[:1], code[1:]
    first_text, sep, last_text = rest.partition("-")
    if not sep:
        raise ValueError(f"bad period {code!r}")
    first = datetime.strptime(first_text, "%Y%m%d").date()
    last = datetime.strptime(last_text, "%Y%m%d").date()
    return make_period(kind, first, last, tz)


_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{8}")


def parse_date(text: str) -> date:
    """A date as people type it: 2026-11-01, 2026/11/1, 2026.11.1 or 20261101."""
    cleaned = text.strip().replace("/", "-").replace(".", "-")
    if cleaned.isdigit() and len(cleaned) == 8:
        return datetime.strptime(cleaned, "%Y%m%d").date()
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {text!r}")
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def parse_date_range(text: str) -> tuple[date, date]:
    """Two dates in any order and with any separator: "2026-01-01 2026-03-31",
    "2026/1/1 至 2026/3/31", "20260101-20260331"."""
    found = _DATE.findall(text)
    if len(found) != 2:
        raise ValueError("give two dates")
    first, last = parse_date(found[0]), parse_date(found[1])
    return (first, last) if first <= last else (last, first)
