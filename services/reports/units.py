"""Figures per platform and per unit (站所): what the town's units received and how they
passed it on — 群众下单 → 站所接单 → 服务送单.

An order is *received* by its platform's lead units (`Order.platform_id`, as routed) or, on
no platform, by its category team's lead units (services/orders/units.py). For the orders
placed in a period (the same cohort as the report), per platform and per unit:

- received: how many;
- time to dispatch = the first hand-on to someone who serves — the earliest `routed` or
  `dispatched` event — minus `created_at`. An order dispatched, then re-dispatched, counts
  once, at its first dispatch; on an `auto` platform that is the moment of reception;
- on time: handed on within `policy.sla.escalate_after` (after which the scheduler takes it
  from the unit to the office);
- time to accept = `accepted_at − created_at`;
- median of each, as in the report (the mean of the two middle values for an even count),
  in whole seconds;
- completion rate (办结率) = (done + rated) ÷ (all except cancelled);
- satisfaction = the mean and the count of the ratings.

Everything is computed in SQL in one statement (GROUP BY; the medians from a histogram of
the whole seconds with a running count, a window over few rows): the period's orders are
read once (a materialised CTE), keyed by platform and by unit, so
100,000 orders never come into Python; the SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import (
    Order,
    OrderEvent,
    OrderStatus,
    Platform,
    PlatformUnit,
    Rating,
    ServiceCategory,
    TeamLeadUnit,
    Unit,
)
from services.i18n import LocalName
from services.reports.stats import FINISHED, as_timedelta

LEAD = "lead"
# The events that hand an order on to whoever serves it (a team, a squad, the office).
HANDED_ON = ("routed", "dispatched")


class seconds_between(FunctionElement[float]):  # a SQL function: lower case
    """Seconds from the second timestamp to the first, as a float, on SQLite and PostgreSQL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _compile_seconds(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    if compiler.dialect.name == "sqlite":
        # Stored as text; julianday() reads it (fractions of a second included).
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)"
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@dataclass(frozen=True)
class Figures(LocalName):
    """One row: a platform or a unit, over the period's orders it received."""

    key: int | None  # platform or unit id; None: orders on no platform
    name_zh: str
    name_en: str
    received: int = 0
    dispatched: int = 0  # handed on at least once
    on_time: int = 0  # handed on within the deadline
    dispatch_median: timedelta | None = None
    accept_median: timedelta | None = None
    finished: int = 0  # done + rated
    considered: int = 0  # all except cancelled
    rating_count: int = 0
    rating_avg: float | None = None

    @property
    def completion_rate(self) -> float | None:
        return self.finished / self.considered if self.considered else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.received if self.received else None


def period_orders(town_id: int, start: datetime | None, end: datetime | None) -> CTE:
    """The town's orders placed in `[start, end)` (None: unbounded), one row each, with the
    measures the figures aggregate."""
    first_hand = (
        select(func.min(OrderEvent.at))
        .where(OrderEvent.order_id == Order.id, OrderEvent.kind.in_(HANDED_ON))
        .correlate(Order)
        .scalar_subquery()
    )
    where: list[ColumnElement[bool]] = [Order.town_id == town_id]
    if start is not None:
        where.append(Order.created_at >= start)
    if end is not None:
        where.append(Order.created_at < end)
    return (
        select(
            Order.id.label("order_id"),
            Order.platform_id,
            Order.category_id,
            seconds_between(first_hand, Order.created_at).label("dispatch_s"),
            seconds_between(Order.accepted_at, Order.created_at).label("accept_s"),
            case((Order.status.in_(FINISHED), 1), else_=0).label("finished"),
            case((Order.status != OrderStatus.CANCELLED, 1), else_=0).label("considered"),
            Rating.score,
        )
        .outerjoin(Rating, Rating.order_id == Order.id)
        .where(*where)
        .cte("period_orders")
        .prefix_with("MATERIALIZED")  # read once, though the figures use it three times
    )


def keyed(orders: CTE) -> Any:
    """Each order once under its platform ("p", platform id; None for none) and once under
    each unit that received it ("u", unit id; see the module docstring)."""
    o = orders.c
    facts = (o.dispatch_s, o.accept_s, o.finished, o.considered, o.score)
    by_platform = select(literal("p").label("kind"), o.platform_id.label("key"), *facts)
    on_platform = select(literal("u"), PlatformUnit.unit_id, *facts).join(
        PlatformUnit, and_(PlatformUnit.platform_id == o.platform_id, PlatformUnit.role == LEAD)
    )
    by_team = (
        select(literal("u"), TeamLeadUnit.unit_id, *facts)
        .join(ServiceCategory, ServiceCategory.id == o.category_id)
        .join(TeamLeadUnit, TeamLeadUnit.team_id == ServiceCategory.team_id)
        .where(o.platform_id.is_(None))
    )
    return union_all(by_platform, on_platform, by_team).subquery("keyed")


def _medians(k: Any, col: Any, name: str) -> Any:
    """Per (kind, key): the median of `col` in whole seconds, from a histogram (one row per
    distinct value, so the window runs over few rows): the mean of the values at the one or
    two middle ranks of n, (n + 1) // 2 and (n + 2) // 2."""
    v = func.round(col)
    hist = (
        select(k.c.kind, k.c.key, v.label("v"), func.count().label("c"))
        .where(col.is_not(None))
        .group_by(k.c.kind, k.c.key, v)
        .subquery(f"{name}_hist")
    )
    part = (hist.c.kind, hist.c.key)
    cum = select(
        hist.c.kind,
        hist.c.key,
        hist.c.v,
        hist.c.c,
        cast(func.sum(hist.c.c).over(partition_by=part, order_by=hist.c.v), Integer).label("hi"),
        cast(func.sum(hist.c.c).over(partition_by=part), Integer).label("n"),
    ).subquery(f"{name}_cum")
    lo, hi, n = cum.c.hi - cum.c.c + 1, cum.c.hi, cum.c.n

    def at(rank: Any) -> Any:
        return func.sum(case((and_(lo <= rank, rank <= hi), cum.c.v), else_=None))

    return (
        select(
            cum.c.kind,
            cum.c.key,
            ((at((n + 1) // 2) + at((n + 2) // 2)) / 2.0).label("median"),
        )
        .group_by(cum.c.kind, cum.c.key)
        .subquery(f"{name}_median")
    )


async def aggregate(
    session: AsyncSession,
    town_id: int,
    start: datetime | None,
    end: datetime | None,
    limit: timedelta,
) -> dict[tuple[str, int | None], dict[str, Any]]:
    """Per platform ("p", id) and per unit ("u", id): the counts, sums and the two medians,
    in one statement over the period's orders (read once)."""
    k = keyed(period_orders(town_id, start, end))
    d, a = k.c.dispatch_s, k.c.accept_s
    totals = (
        select(
            k.c.kind,
            k.c.key,
            func.count().label("n"),
            func.count(d).label("nd"),
            func.sum(case((d <= limit.total_seconds(), 1), else_=0)).label("on_time"),
            func.sum(k.c.finished).label("fin"),
            func.sum(k.c.considered).label("cons"),
            func.count(k.c.score).label("nr"),
            func.avg(k.c.score).label("avg"),
        )
        .group_by(k.c.kind, k.c.key)
        .subquery("totals")
    )
    dm, am = _medians(k, d, "dispatch"), _medians(k, a, "accept")
    t = totals.c

    def same(m: Any) -> Any:
        # The key may be NULL (no platform): compare it as a value.
        return and_(m.c.kind == t.kind, m.c.key.is_not_distinct_from(t.key))

    stmt = (
        select(
            t.kind,
            t.key,
            t.n,
            t.nd,
            t.on_time,
            dm.c.median,
            am.c.median,
            t.fin,
            t.cons,
            t.nr,
            t.avg,
        )
        .select_from(totals)
        .outerjoin(dm, same(dm))
        .outerjoin(am, same(am))
    )
    out: dict[tuple[str, int | None], dict[str, Any]] = {}
    for row in await session.execute(stmt):
        kind, key, n, nd, on_time, dmed, amed, fin, cons, nr, avg = row
        out[(kind, key)] = {
            "received": int(n),
            "dispatched": int(nd),
            "on_time": int(on_time or 0),
            "dispatch_median": as_timedelta(None if dmed is None else max(0.0, float(dmed))),
            "accept_median": as_timedelta(None if amed is None else max(0.0, float(amed))),
            "finished": int(fin or 0),
            "considered": int(cons or 0),
            "rating_count": int(nr),
            "rating_avg": None if avg is None else float(avg),
        }
    return out


@dataclass(frozen=True)
class TownFigures:
    platforms: list[Figures]  # the active platforms in the config's order, then «no platform»
    units: list[Figures]  # the active units in the config's order


async def town_figures(
    session: AsyncSession,
    town_id: int,
    start: datetime | None,
    end: datetime | None,
    limit: timedelta,
    *,
    no_platform: tuple[str, str] = ("—", "—"),
) -> TownFigures:
    """Every active platform of the town, then (if any) the orders on no platform, named
    `no_platform` (zh, en); and every active unit, with the figures of the orders it
    received (zeros and no medians for none)."""
    found = await aggregate(session, town_id, start, end, limit)
    platforms = await session.scalars(
        select(Platform)
        .where(Platform.town_id == town_id, Platform.active.is_(True))
        .order_by(Platform.sort, Platform.id)
    )
    by_platform = [
        Figures(p.id, p.name_zh, p.name_en, **found.get(("p", p.id), {})) for p in platforms
    ]
    if ("p", None) in found:
        by_platform.append(Figures(None, *no_platform, **found[("p", None)]))
    units = await session.scalars(
        select(Unit).where(Unit.town_id == town_id, Unit.active.is_(True)).order_by(Unit.id)
    )
    by_unit = [Figures(u.id, u.name_zh, u.name_en, **found.get(("u", u.id), {})) for u in units]
    return TownFigures(by_platform, by_unit)
