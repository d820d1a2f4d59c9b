"""Reading the org chart back: the menus a resident picks from, and the `org show`
summary."""

from __future__ import annotations

import unicodedata

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Platform,
    PlatformUnit,
    PriorityGroup,
    Region,
    RegionLevel,
    ServiceArea,
    ServiceCategory,
    Team,
    TeamKind,
    TeamLeadUnit,
    Unit,
)


async def station_choices(session: AsyncSession, town_code: str | None = None) -> list[Region]:
    """Active stations in config order (a resident picks their village): those of one town,
    or of every town the deployment serves when `town_code` is None."""
    towns = select(Region.id).where(Region.served_town())
    if town_code is not None:
        towns = towns.where(Region.code == town_code)
    stmt = (
        select(Region)
        .where(Region.parent_id.in_(towns), Region.level == RegionLevel.STATION)
        .where(Region.active.is_(True))
        .order_by(Region.parent_id, Region.sort, Region.id)
    )
    return list(await session.scalars(stmt))


async def service_areas(session: AsyncSession, town_id: int) -> list[ServiceArea]:
    """The town's active areas that have at least one active category, in config order."""
    has_category = exists().where(
        ServiceCategory.area_id == ServiceArea.id, ServiceCategory.active.is_(True)
    )
    stmt = (
        select(ServiceArea)
        .where(ServiceArea.town_id == town_id, ServiceArea.active.is_(True), has_category)
        .order_by(ServiceArea.sort, ServiceArea.id)
    )
    return list(await session.scalars(stmt))


async def categories_in_area(session: AsyncSession, area_id: int) -> list[ServiceCategory]:
    """The area's active categories in config order."""
    stmt = (
        select(ServiceCategory)
        .where(ServiceCategory.area_id == area_id, ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort, ServiceCategory.id)
    )
    return list(await session.scalars(stmt))


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Align columns, counting CJK characters as two cells wide."""
    if not rows:
        return []
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent
        + "  ".join(
            cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


async def org_summary(session: AsyncSession, town_code: str | None = None) -> str:
    """The org chart as stored, for `org show`: one block per town (or just `town_code`)."""
    stmt = select(Region).where(Region.served_town())
    if town_code:
        stmt = stmt.where(Region.code == town_code)
    towns = list(await session.scalars(stmt.order_by(Region.sort, Region.code)))
    if not towns:
        return f"No town '{town_code}' loaded." if town_code else "No org chart loaded yet."
    return "\n\n".join([await _town_summary(session, town) for town in towns])


async def _town_summary(session: AsyncSession, town: Region) -> str:
    units = {u.id: u for u in await session.scalars(select(Unit).where(Unit.town_id == town.id))}
    lines = await _header(session, town)
    lines += await _stations_block(session, town)
    active = [u for u in units.values() if u.active]
    lines += [
        "",
        f"单位 Units ({len(active)})",
        *_table([[u.code, u.name_zh, u.name_en] for u in active]),
    ]
    lines += await _platforms_block(session, town, units)
    lines += await _teams_block(session, town, units)
    lines += await _catalogue_block(session, town)
    return "\n".join(lines)


async def _header(session: AsyncSession, town: Region) -> list[str]:
    county = await session.get(Region, town.parent_id) if town.parent_id else None
    lines = []
    if county is not None:
        lines.append(
            f"{county.name_zh} {county.name_en} · {county.institute_name_zh or ''}  [{county.code}]"
        )
    lines.append(f"{town.name_zh} {town.name_en} · {town.institute_name_zh or ''}  [{town.code}]")
    groups = await session.scalars(
        select(PriorityGroup)
        .where(PriorityGroup.town_id == town.id, PriorityGroup.active.is_(True))
        .order_by(PriorityGroup.id)
    )
    names = "、".join(g.name_zh for g in groups)
    return [*lines, f"重点关爱 Priority groups: {names or '—'}"]


async def _stations_block(session: AsyncSession, town: Region) -> list[str]:
    stations = await station_choices(session, town.code)
    rows = [[s.code, s.name_zh, s.name_en, s.institute_name_zh or ""] for s in stations]
    return ["", f"实践站 Stations ({len(rows)})", *_table(rows)]


def _names(ids: list[int], units: dict[int, Unit]) -> str:
    return "、".join(units[i].name_zh for i in ids) or "—"


async def _platforms_block(
    session: AsyncSession, town: Region, units: dict[int, Unit]
) -> list[str]:
    platforms = list(
        await session.scalars(
            select(Platform)
            .where(Platform.town_id == town.id, Platform.active.is_(True))
            .order_by(Platform.sort, Platform.id)
        )
    )
    links = await session.scalars(
        select(PlatformUnit)
        .where(PlatformUnit.platform_id.in_([p.id for p in platforms]))
        .order_by(PlatformUnit.id)
    )
    roles: dict[tuple[int, str], list[int]] = {}
    for link in links:
        roles.setdefault((link.platform_id, link.role), []).append(link.unit_id)
    lines = ["", f"平台 Platforms ({len(platforms)})"]
    for p in platforms:
        responsible = _names(roles.get((p.id, "responsible"), []), units)
        if p.stations_responsible:
            responsible = "、".join(x for x in (responsible, "各新时代文明实践站") if x != "—")
        lines += _table([[p.code, p.name_zh, p.name_en]])
        lines.append(f"      牵头单位 lead:        {_names(roles.get((p.id, 'lead'), []), units)}")
        lines.append(f"      责任单位 responsible: {responsible}")
        lines.append(f"      派单 dispatch:        {p.dispatch.value}")
    return lines


async def _teams_block(session: AsyncSession, town: Region, units: dict[int, Unit]) -> list[str]:
    teams = list(
        await session.scalars(
            select(Team)
            .where(Team.town_id == town.id, Team.active.is_(True))
            .order_by(Team.sort, Team.id)
        )
    )
    leads: dict[int, list[int]] = {}
    for link in await session.scalars(
        select(TeamLeadUnit)
        .where(TeamLeadUnit.team_id.in_([t.id for t in teams]))
        .order_by(TeamLeadUnit.id)
    ):
        leads.setdefault(link.team_id, []).append(link.unit_id)
    platforms = {
        p.id: p.name_zh
        for p in await session.scalars(select(Platform).where(Platform.town_id == town.id))
    }
    stations = {s.id: s.name_zh for s in await station_choices(session, town.code)}
    specialists = [t for t in teams if t.kind == TeamKind.SPECIALIST]
    squads = [t for t in teams if t.kind == TeamKind.SQUAD]
    lines = ["", f"专业志愿服务队 Specialist teams ({len(specialists)})"]
    for t in specialists:
        platform = platforms.get(
            t.platform_id or 0, f"— (无平台，队伍牵头单位派单 dispatch: {t.dispatch.value})"
        )
        lines += _table([[t.code, t.name_zh, t.name_en]])
        lines.append(f"      牵头单位 lead: {_names(leads.get(t.id, []), units)}")
        lines.append(f"      平台 platform: {platform}")
        if t.members_zh:
            lines.append(f"      成员 members:  {t.members_zh}")
    rows = [[t.code, t.name_zh, t.name_en, stations.get(t.station_id or 0, "?")] for t in squads]
    return [*lines, "", f"小分队 Station squads ({len(squads)}, 由实践站带领)", *_table(rows)]


async def _catalogue_block(session: AsyncSession, town: Region) -> list[str]:
    teams = {
        t.id: t.name_zh for t in await session.scalars(select(Team).where(Team.town_id == town.id))
    }
    platforms = {
        p.id: p.name_zh
        for p in await session.scalars(select(Platform).where(Platform.town_id == town.id))
    }
    areas = await service_areas(session, town.id)
    groups = [(a, await categories_in_area(session, a.id)) for a in areas]
    rows = [
        [c.code, c.name_zh, c.name_en, teams[c.team_id], platforms.get(c.platform_id or 0, "—")]
        for _, cats in groups
        for c in cats
    ]
    table = iter(_table(rows, indent="    "))
    lines = [
        "",
        f"服务目录 Service catalogue ({len(rows)} categories in {len(groups)} areas;"
        " columns: code, 名称, name, 队伍 team, 平台 platform)",
    ]
    for area, cats in groups:
        lines.append(f"  {area.name_zh} {area.name_en}  [{area.code}]")
        lines += [next(table) for _ in cats]
    return lines
