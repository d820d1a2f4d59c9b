"""Syncing an org config into the database: rows are created, updated or deactivated
(never deleted) by code, so a config edited and loaded again changes only what changed.

`sync_org` flushes but never commits: the caller owns the transaction (commit, or roll
back for a dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    DispatchMode,
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
from services.org.schema import (
    CategoryConfig,
    OrgConfig,
)

SYNC_KINDS = ("regions", "units", "platforms", "teams", "areas", "categories", "priority_groups")


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    deactivated: int = 0


@dataclass
class SyncReport:
    """What one `sync_org` changed, per kind of row."""

    town: str
    counts: dict[str, KindCounts] = field(
        default_factory=lambda: {kind: KindCounts() for kind in SYNC_KINDS}
    )

    def add(self, kind: str, what: str) -> None:
        counts = self.counts[kind]
        setattr(counts, what, getattr(counts, what) + 1)

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.counts.values())

    @property
    def deactivated(self) -> int:
        return sum(c.deactivated for c in self.counts.values())

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated)

    def __str__(self) -> str:
        if not self.changed:
            return f"town {self.town}: no changes"
        parts = [
            f"{kind} +{c.created} ~{c.updated} -{c.deactivated}"
            for kind, c in self.counts.items()
            if c.created or c.updated or c.deactivated
        ]
        return (
            f"town {self.town}: {self.created} created, {self.updated} updated, "
            f"{self.deactivated} deactivated ({'; '.join(parts)})"
        )


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; True if any but `sort` did.

    Removing one category shifts the position of every later one: that reorder is written
    but not reported as an update, so the report shows what an editor actually changed.
    """
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = changed or key != "sort"
    return changed


async def _upsert(
    session: AsyncSession, report: SyncReport, kind: str, model: Any, rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], set[str]]:
    """Create or update rows by code; return them by code, and the codes that changed."""
    found = await session.scalars(select(model).where(model.code.in_([r["code"] for r in rows])))
    existing = {obj.code: obj for obj in found}
    objs: dict[str, Any] = {}
    touched: set[str] = set()
    for values in rows:
        obj = existing.get(values["code"])
        if obj is None:
            obj = model(**values, active=True)
            session.add(obj)
            report.add(kind, "created")
            touched.add(obj.code)
        elif _assign(obj, {**values, "active": True}):
            report.add(kind, "updated")
            touched.add(obj.code)
        objs[obj.code] = obj
    await session.flush()
    return objs, touched


async def _retire(
    session: AsyncSession, report: SyncReport, kind: str, stmt: Select[Any], keep: dict[str, Any]
) -> None:
    """Deactivate (never delete) the rows in scope whose code is no longer in the config."""
    for obj in (await session.scalars(stmt)).all():
        if obj.active and obj.code not in keep:
            obj.active = False
            report.add(kind, "deactivated")


async def _sync_links(
    session: AsyncSession, model: Any, owner: str, owner_id: int, desired: dict[int, dict[str, Any]]
) -> bool:
    """Make the unit links of one platform or team exactly `desired`; True if changed."""
    rows = (await session.scalars(select(model).where(getattr(model, owner) == owner_id))).all()
    changed = False
    for row in rows:
        if row.unit_id not in desired:
            await session.delete(row)
            changed = True
        elif _assign(row, desired[row.unit_id]):
            changed = True
    have = {row.unit_id for row in rows}
    for unit_id, values in desired.items():
        if unit_id not in have:
            session.add(model(**{owner: owner_id, "unit_id": unit_id, **values}))
            changed = True
    return changed


def _row(cfg: OrgConfig, item: Any, **values: Any) -> dict[str, Any]:
    """The columns every org row shares (code, names), plus `values`."""
    return {"code": cfg.code(item.code), "name_zh": item.name_zh, "name_en": item.name_en, **values}


# Several bot workers may start at once on PostgreSQL: one syncs, the others wait, then
# find nothing to change. (SQLite serialises writers and runs a single instance.)
_SYNC_LOCK_KEY = 0x0E6_C0DE


async def sync_org(session: AsyncSession, cfg: OrgConfig) -> SyncReport:
    """Upsert one town's config by code, deactivate what it dropped; flush, don't commit."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SYNC_LOCK_KEY})
    report = SyncReport(cfg.town.code)
    town, stations = await _sync_regions(session, cfg, report)
    rows = [_row(cfg, u, town_id=town.id, kind=u.kind) for u in cfg.units]
    units = await _sync_simple(session, report, "units", Unit, town, rows)
    platforms = await _sync_platforms(session, cfg, report, town, units)
    teams = await _sync_teams(session, cfg, report, town, stations, platforms, units)
    rows = [_row(cfg, a, town_id=town.id, sort=i) for i, a in enumerate(cfg.areas)]
    areas = await _sync_simple(session, report, "areas", ServiceArea, town, rows)
    await _sync_categories(session, cfg, report, town, areas, teams, platforms)
    rows = [_row(cfg, g, town_id=town.id) for g in cfg.priority_groups]
    await _sync_simple(session, report, "priority_groups", PriorityGroup, town, rows)
    await session.flush()
    return report


async def _sync_regions(
    session: AsyncSession, cfg: OrgConfig, report: SyncReport
) -> tuple[Region, dict[str, Region]]:
    c, t = cfg.county, cfg.town
    county_row = {
        "code": c.code,
        "level": RegionLevel.COUNTY,
        "parent_id": None,
        "name_zh": c.name_zh,
        "name_en": c.name_en,
        "institute_name_zh": c.centre_zh,
    }
    county = (await _upsert(session, report, "regions", Region, [county_row]))[0][c.code]
    town_row = {
        "code": t.code,
        "level": RegionLevel.TOWN,
        "parent_id": county.id,
        "name_zh": t.name_zh,
        "name_en": t.name_en,
        "institute_name_zh": t.institute_zh,
    }
    town = (await _upsert(session, report, "regions", Region, [town_row]))[0][t.code]
    rows = [
        _row(
            cfg,
            s,
            level=RegionLevel.STATION,
            parent_id=town.id,
            institute_name_zh=s.institute_zh,
            sort=i,
        )
        for i, s in enumerate(cfg.stations)
    ]
    stations, _ = await _upsert(session, report, "regions", Region, rows)
    scope = select(Region).where(Region.station_of(town.id))
    await _retire(session, report, "regions", scope, stations)
    return town, stations


async def _sync_simple(
    session: AsyncSession,
    report: SyncReport,
    kind: str,
    model: Any,
    town: Region,
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    objs, _ = await _upsert(session, report, kind, model, rows)
    await _retire(session, report, kind, select(model).where(model.town_id == town.id), objs)
    return objs


async def _sync_platforms(
    session: AsyncSession,
    cfg: OrgConfig,
    report: SyncReport,
    town: Region,
    units: dict[str, Unit],
) -> dict[str, Platform]:
    rows = [
        _row(
            cfg,
            p,
            town_id=town.id,
            stations_responsible=p.every_station_responsible,
            dispatch=DispatchMode(p.dispatch),
            sort=i,
        )
        for i, p in enumerate(cfg.platforms)
    ]
    platforms, touched = await _upsert(session, report, "platforms", Platform, rows)
    for p in cfg.platforms:
        desired = {units[cfg.code(u)].id: {"role": "lead"} for u in p.lead}
        desired |= {units[cfg.code(u)].id: {"role": "responsible"} for u in p.responsible}
        obj = platforms[cfg.code(p.code)]
        changed = await _sync_links(session, PlatformUnit, "platform_id", obj.id, desired)
        if changed and obj.code not in touched:
            report.add("platforms", "updated")
    scope = select(Platform).where(Platform.town_id == town.id)
    await _retire(session, report, "platforms", scope, platforms)
    return platforms


async def _sync_teams(
    session: AsyncSession,
    cfg: OrgConfig,
    report: SyncReport,
    town: Region,
    stations: dict[str, Region],
    platforms: dict[str, Platform],
    units: dict[str, Unit],
) -> dict[str, Team]:
    rows = [
        _row(
            cfg,
            t,
            kind=TeamKind.SPECIALIST,
            town_id=town.id,
            station_id=None,
            platform_id=platforms[cfg.code(t.platform)].id if t.platform else None,
            members_zh=t.members_zh,
            dispatch=DispatchMode(t.dispatch or "auto"),
            sort=i,
        )
        for i, t in enumerate(cfg.teams)
    ] + [
        _row(
            cfg,
            s,
            kind=TeamKind.SQUAD,
            town_id=town.id,
            station_id=stations[cfg.code(s.station)].id,
            platform_id=None,
            members_zh=s.members_zh,
            dispatch=DispatchMode.AUTO,
            sort=len(cfg.teams) + i,
        )
        for i, s in enumerate(cfg.squads)
    ]
    teams, touched = await _upsert(session, report, "teams", Team, rows)
    leads = {cfg.code(t.code): t.lead for t in cfg.teams}  # squads: led by their station
    for code, team in teams.items():
        desired: dict[int, dict[str, Any]] = {
            units[cfg.code(u)].id: {} for u in leads.get(code, [])
        }
        changed = await _sync_links(session, TeamLeadUnit, "team_id", team.id, desired)
        if changed and code not in touched:
            report.add("teams", "updated")
    await _retire(session, report, "teams", select(Team).where(Team.town_id == town.id), teams)
    return teams


async def _sync_categories(
    session: AsyncSession,
    cfg: OrgConfig,
    report: SyncReport,
    town: Region,
    areas: dict[str, ServiceArea],
    teams: dict[str, Team],
    platforms: dict[str, Platform],
) -> None:
    def platform_id(c: CategoryConfig) -> int | None:
        code = cfg.category_platform(c)  # its own, else its team's
        return platforms[cfg.code(code)].id if code else None

    rows = [
        _row(
            cfg,
            c,
            area_id=areas[cfg.code(c.area)].id,
            team_id=teams[cfg.code(c.team)].id,
            platform_id=platform_id(c),
            sort=i,
        )
        for i, c in enumerate(cfg.categories)
    ]
    categories, _ = await _upsert(session, report, "categories", ServiceCategory, rows)
    scope = (
        select(ServiceCategory)
        .join(ServiceArea, ServiceCategory.area_id == ServiceArea.id)
        .where(ServiceArea.town_id == town.id)
    )
    await _retire(session, report, "categories", scope, categories)
