"""站所接单: which units receive an order, which team they are offered, who may dispatch it.

An order's category belongs to a platform (config: its own, else its team's). The
platform's lead units receive the order; on no platform, the category team's own lead
units do. The suggested team is the category's team, provided one of its lead units is
among the platform's lead or responsible units (a station squad qualifies wherever every
station is responsible). The platform says how the order goes on (`DispatchMode`); on no
platform, the team does. Reads only: the moves are in routing.py and desk.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DispatchMode,
    Order,
    OrderEvent,
    Platform,
    PlatformUnit,
    ServiceCategory,
    Team,
    TeamKind,
    TeamLeadUnit,
    Unit,
    User,
)
from services.orders.state import OPEN_STATUSES
from services.people import Roles, station_squad

LEAD = "lead"


@dataclass(frozen=True)
class Reception:
    """Who receives an order and what they are offered."""

    platform: Platform | None  # None: the category's team is on no platform
    lead_units: tuple[Unit, ...]
    mode: DispatchMode
    team: Team  # the category's team
    suggested: Team | None  # the team, if it may be suggested on this platform

    def note(self) -> str:
        """English, for the audit trail."""
        where = self.platform.name_zh if self.platform else "no platform"
        units = "、".join(u.name_zh for u in self.lead_units)
        offer = self.suggested.name_zh if self.suggested else "none"
        if self.suggested is None:
            offer += f" ({self.team.name_zh} has no lead unit on {where})"
        return f"received by {units} ({where}, dispatch {self.mode.value}); suggested team {offer}"


async def _units(session: AsyncSession, ids: list[int]) -> tuple[Unit, ...]:
    if not ids:
        return ()
    rows = await session.scalars(
        select(Unit).where(Unit.id.in_(ids), Unit.active.is_(True)).order_by(Unit.id)
    )
    return tuple(rows)


async def _team_lead_ids(session: AsyncSession, team_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(TeamLeadUnit.unit_id)
            .where(TeamLeadUnit.team_id == team_id)
            .order_by(TeamLeadUnit.id)
        )
    )


async def _platform_links(session: AsyncSession, platform_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(PlatformUnit.unit_id, PlatformUnit.role)
        .where(PlatformUnit.platform_id == platform_id)
        .order_by(PlatformUnit.id)
    )
    return [(unit_id, role) for unit_id, role in rows]


async def reception(session: AsyncSession, category: ServiceCategory) -> Reception | None:
    """Who receives an order of this category; None when nobody does (no lead units: a
    town configured without units routes as before, straight to the team)."""
    team = await session.get(Team, category.team_id)
    if team is None:
        return None
    platform = await session.get(Platform, category.platform_id) if category.platform_id else None
    if platform is not None and not platform.active:
        platform = None
    team_leads = set(await _team_lead_ids(session, team.id))
    if platform is not None:
        links = await _platform_links(session, platform.id)
        lead = await _units(session, [u for u, role in links if role == LEAD])
        serving = {u for u, _role in links}
        fits = bool(team_leads & serving) or (
            team.kind == TeamKind.SQUAD and platform.stations_responsible
        )
        mode = platform.dispatch
    else:
        lead = await _units(session, sorted(team_leads))
        fits = True
        mode = team.dispatch
    if not lead:
        return None
    suggested = team if team.active and fits else None
    return Reception(platform, lead, DispatchMode(mode), team, suggested)


async def lead_unit_ids(session: AsyncSession, order: Order) -> set[int]:
    """The units that received the order: its platform's lead units, or (on no platform)
    its category team's lead units. Empty for a «其他需求» order not yet triaged."""
    if order.platform_id is not None:
        links = await _platform_links(session, order.platform_id)
        return {u.id for u in await _units(session, [u for u, r in links if r == LEAD])}
    if order.category_id is None:
        return set()
    category = await session.get(ServiceCategory, order.category_id)
    if category is None:
        return set()
    return {u.id for u in await _units(session, await _team_lead_ids(session, category.team_id))}


async def may_dispatch(session: AsyncSession, roles: Roles, order: Order) -> bool:
    """A dispatcher of one of the order's lead units (or an admin)."""
    if roles.admin:
        return True
    if not roles.dispatches_for:
        return False
    return bool(roles.dispatches_for & await lead_unit_ids(session, order))


async def dispatch_targets(session: AsyncSession, order: Order) -> list[Team]:
    """The teams a dispatcher may hand the order to (派单): the specialist teams on the
    order's platform (on no platform: the teams sharing a lead unit with the category's
    team), the category's own team, and the resident's village squad."""
    category = await session.get(ServiceCategory, order.category_id) if order.category_id else None
    stmt = select(Team).where(
        Team.town_id == order.town_id, Team.kind == TeamKind.SPECIALIST, Team.active.is_(True)
    )
    if order.platform_id is not None:
        on_platform = Team.platform_id == order.platform_id
        stmt = stmt.where(
            or_(on_platform, Team.id == category.team_id) if category else on_platform
        )
    else:
        leads = await lead_unit_ids(session, order)
        shares = select(TeamLeadUnit.team_id).where(TeamLeadUnit.unit_id.in_(leads))
        stmt = stmt.where(Team.id.in_(shares))
    found = list(await session.scalars(stmt.order_by(Team.sort, Team.id)))
    squad = await station_squad(session, order.station_id)
    if squad is not None and all(t.id != squad.id for t in found):
        found.append(squad)
    return found


async def unit_queue(session: AsyncSession, unit_id: int, limit: int = 100) -> list[Order]:
    """The open orders a unit received (站所接单): those waiting for its dispatcher first,
    then the rest (routed ones may still be re-dispatched), oldest first."""
    platforms = select(PlatformUnit.platform_id).where(
        PlatformUnit.unit_id == unit_id, PlatformUnit.role == LEAD
    )
    teams = select(TeamLeadUnit.team_id).where(TeamLeadUnit.unit_id == unit_id)
    waiting = case((Order.handler_kind == "unit", 0), else_=1)
    rows = await session.scalars(
        select(Order)
        .join(ServiceCategory, ServiceCategory.id == Order.category_id)
        .where(
            Order.status.in_(OPEN_STATUSES),
            or_(
                Order.platform_id.in_(platforms),
                Order.platform_id.is_(None) & ServiceCategory.team_id.in_(teams),
            ),
        )
        .order_by(waiting, Order.id)
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class Trail:
    """平台 · 牵头单位 · 派单人 · 服务队, for the order card and its history."""

    platform: Platform | None
    lead_units: tuple[Unit, ...]
    dispatcher: User | None  # None: sent out automatically (or not dispatched yet)
    dispatched_at: datetime | None
    team: Team | None  # whoever holds it now; None: the lead unit or the office
    handler_kind: str


async def trail(session: AsyncSession, order: Order) -> Trail:
    platform = await session.get(Platform, order.platform_id) if order.platform_id else None
    lead = await _units(session, sorted(await lead_unit_ids(session, order)))
    last = await session.scalar(
        select(OrderEvent)
        .where(
            OrderEvent.order_id == order.id,
            OrderEvent.kind.in_(("dispatched", "redispatched")),
        )
        .order_by(OrderEvent.id.desc())
        .limit(1)
    )
    dispatcher = await session.get(User, last.actor_id) if last and last.actor_id else None
    team = await session.get(Team, order.team_id) if order.team_id else None
    return Trail(platform, lead, dispatcher, last.at if last else None, team, order.handler_kind)
