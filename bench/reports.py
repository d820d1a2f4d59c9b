"""Reports over a big town: `bench/seed.py`'s 100,000 orders and 1,000 volunteers (SQLite).
Times the monthly report as the chat shows it (the figures, then the chart), the yearly
report (all the orders), the volunteer list, the unit scorecard (站所考核: the figures per unit
and per platform, and the party members per unit) for the month and the year, and the XLSX
export (`bench/export.py`).

    .venv/bin/python -m bench.reports [--orders 100000]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import bench_main, database, parser
from bench.export import measure as export_times
from bench.rows import Row, target_row
from bench.seed import seed
from models import Region, RegionLevel
from models.db import make_engine, make_sessionmaker
from services import charts, reports
from services.org import Policy
from services.points import LOCAL_TZ
from services.reports import Scope, make_period
from services.unit_scorecard import build_unit_scorecard

NAME = "reports"
MONTH = make_period("m", date(2026, 3, 1), date(2026, 3, 31), LOCAL_TZ)
YEAR = make_period("y", date(2026, 1, 1), date(2026, 12, 31), LOCAL_TZ)


async def report_times(url: str) -> dict[str, float]:
    engine = make_engine(url)
    sm = make_sessionmaker(engine)
    out: dict[str, float] = {}
    try:
        async with sm() as s:
            await reports.build_report(s, Scope(), MONTH)  # warm: imports, caches
            t = time.monotonic()
            month = await reports.build_report(s, Scope(), MONTH)
            out["figures"] = time.monotonic() - t
            t = time.monotonic()
            await asyncio.to_thread(charts.report_chart, month, "en", "Taole: service report")
            out["chart"] = time.monotonic() - t
            out["month orders"] = month.total
            t = time.monotonic()
            year = await reports.build_report(s, Scope(), YEAR)
            out["year"] = time.monotonic() - t
            out["year orders"] = year.total
            t = time.monotonic()
            out["volunteers"] = len(await reports.volunteer_rows(s, Scope(), MONTH))
            out["volunteer list"] = time.monotonic() - t
            out.update(await unit_times(s))
    finally:
        await engine.dispose()
    return out


async def unit_times(s: AsyncSession) -> dict[str, float]:
    """The unit scorecard as the chat and the dashboard show it: the per-platform figures
    and the scorecard of the town's units, for the month and for the year."""
    town_id = await s.scalar(select(Region.id).where(Region.level == RegionLevel.TOWN))
    assert town_id is not None
    policy = Policy()
    out: dict[str, float] = {}
    for label, period in (("month", MONTH), ("year", YEAR)):
        t = time.monotonic()
        card = await build_unit_scorecard(s, town_id, period, policy)
        out[f"units {label}"] = time.monotonic() - t
        out[f"units {label} orders"] = sum(p.received for p in card.platforms)
        out[f"units {label} ranked"] = sum(1 for u in card.units if u.rank)
    return out


def unit_row(case: str, times: dict[str, float], label: str) -> Row:
    """The month's unit scorecard must fit the report's budget (≤ 2 s, as the monthly report);
    the year's, like the yearly report, has no target."""
    took = times[f"units {label}"]
    note = f"{times[f'units {label} orders']:,.0f} orders; "
    note += f"{times[f'units {label} ranked']:.0f} units ranked"
    metric = f"unit scorecard, {label} (platforms + units)"
    if label != "month":
        return Row(NAME, case, metric, took, "s", note=note)
    return target_row(Row(NAME, case, metric, took, "s", "≤ 2 s", note=note), at_most=2)


async def run(orders: int = 100_000) -> list[Row]:
    async with database("sqlite") as url:
        t = time.monotonic()
        await seed(url, orders)
        seeded = time.monotonic() - t
        times = await report_times(url)
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            export = await export_times(url, Path(tmp))
    case = f"{orders:,} orders, 1,000 volunteers, SQLite"
    monthly = times["figures"] + times["chart"]
    return [
        Row(NAME, case, "seeding", seeded, "s"),
        target_row(
            Row(
                NAME,
                case,
                "monthly report (figures + chart)",
                monthly,
                "s",
                "≤ 2 s",
                note=f"{times['month orders']:,.0f} orders; figures {times['figures']:.2f} s",
            ),
            at_most=2,
        ),
        Row(
            NAME,
            case,
            "yearly report (figures)",
            times["year"],
            "s",
            note=f"{times['year orders']:,.0f} orders",
        ),
        *(unit_row(case, times, label) for label in ("month", "year")),
        Row(
            NAME,
            case,
            "volunteer list",
            times["volunteer list"],
            "s",
            note=f"{times['volunteers']:,.0f} volunteers",
        ),
        target_row(
            Row(
                NAME,
                case,
                "XLSX export",
                export.xlsx_seconds,
                "s",
                "≤ 20 s",
                note=f"{export.xlsx_mb:.1f} MB",
            ),
            at_most=20,
        ),
        Row(NAME, case, "photo ZIP (planning)", export.photos_seconds, "s"),
    ]


def main() -> None:
    bench_main(parser("reports", orders=100_000), lambda a: run(a.orders))


if __name__ == "__main__":
    main()
