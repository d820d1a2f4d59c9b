"""The org chart: load and check the YAML config, sync it into the database, summarise it.

Codes in a config file are local to its town. In the database every code below the town
is prefixed with the town code and a dot (`free_clinic` in taole.yaml is stored as
`taole.free_clinic`), so several towns load side by side into one database. The county
and town codes are stored as written (the county row is shared by its towns).

`sync_org` flushes but never commits: the caller owns the transaction (commit, or roll
back for a dry run).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from sqlalchemy import Select, exists, select, text
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

# ---------------------------------------------------------------------------------------
# Config schema
# ---------------------------------------------------------------------------------------

_CODE_RE = r"^[a-z][a-z0-9_]*$"
Code = Annotated[str, StringConstraints(pattern=_CODE_RE, max_length=40)]
TownCode = Annotated[str, StringConstraints(pattern=_CODE_RE, max_length=16)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
# Area and category names become phone buttons: keep them short.
ButtonZh = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
ButtonEn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
UnitKind = Literal[
    "office",
    "school",
    "clinic",
    "court",
    "police",
    "company",
    "coop",
    "troupe",
    "work_team",
    "other",
]

_DURATION_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(value: object) -> timedelta:
    """'30m', '2h', '1d', '1h30m' → timedelta; anything else raises ValueError."""
    if isinstance(value, timedelta):
        return value
    text = value.strip() if isinstance(value, str) else ""
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"bad duration {value!r}: use e.g. '30m', '2h', '1d'")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _parse_clock(value: object) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return time(int(match[1]), int(match[2]))
    raise ValueError(f"bad clock time {value!r}: use a quoted 'HH:MM', e.g. '19:00'")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ClockTime = Annotated[time, BeforeValidator(_parse_clock)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaPolicy(_Model):
    accept_reminder: Duration = timedelta(minutes=30)  # nudge the leader if not accepted
    escalate_after: Duration = timedelta(hours=2)  # then pass to the next candidate
    overdue_grace: Duration = timedelta(hours=2)  # after the slot ends, before "overdue"
    rate_reminder: Duration = timedelta(hours=24)  # after done, ask the resident to rate


class VolunteerReminders(_Model):
    evening_before: ClockTime = time(19, 0)
    before_slot: Duration = timedelta(hours=1)


class PointsPolicy(_Model):
    points_per_hour: int = Field(10, ge=0)
    five_star_bonus: int = Field(5, ge=0)
    priority_group_bonus: int = Field(5, ge=0)


class KpiTargets(_Model):
    party_participation: float = Field(0.8, ge=0, le=1)
    hours_per_year: float = Field(20, ge=0)


class ScorecardWeights(_Model):
    completion_rate: float = Field(0.25, ge=0, le=1)
    response_time: float = Field(0.15, ge=0, le=1)
    satisfaction: float = Field(0.20, ge=0, le=1)
    activities: float = Field(0.10, ge=0, le=1)
    party_participation: float = Field(0.10, ge=0, le=1)
    hours: float = Field(0.10, ge=0, le=1)
    record_completeness: float = Field(0.10, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> ScorecardWeights:
        total = sum(self.model_dump().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights sum to {total:g}, must sum to 1")
        return self


class Policy(_Model):
    """Defaults the dispatch, reminders, points and reports read (`cfg.policy`)."""

    sla: SlaPolicy = SlaPolicy()
    volunteer_reminders: VolunteerReminders = VolunteerReminders()
    points: PointsPolicy = PointsPolicy()
    kpi: KpiTargets = KpiTargets()
    scorecard: ScorecardWeights = ScorecardWeights()


class CountyConfig(_Model):
    code: TownCode
    name_zh: Name
    name_en: Name
    centre_zh: Name  # 平罗县新时代文明实践中心


class TownConfig(_Model):
    code: TownCode
    name_zh: Name
    name_en: Name
    institute_zh: Name  # 陶乐镇新时代文明实践所


class StationConfig(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    institute_zh: Name | None = None  # 东街社区新时代文明实践站


class UnitConfig(_Model):
    code: Code
    kind: UnitKind = "office"
    name_zh: Name
    name_en: Name


class PlatformConfig(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    lead: list[Code] = []
    responsible: list[Code] = []
    every_station_responsible: bool = False


class TeamConfig(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    lead: list[Code] = []
    platform: Code | None = None
    members_zh: Annotated[str, StringConstraints(max_length=512)] | None = None


class SquadConfig(_Model):
    code: Code
    station: Code
    name_zh: Name
    name_en: Name
    members_zh: Annotated[str, StringConstraints(max_length=512)] | None = None


class GroupConfig(_Model):
    code: Code
    name_zh: ButtonZh
    name_en: ButtonEn


class CategoryConfig(_Model):
    code: Code
    area: Code
    team: Code
    platform: Code | None = None
    name_zh: ButtonZh
    name_en: ButtonEn


class OrgConfig(_Model):
    """One town's org chart, service catalogue and policy, as written in its YAML file."""

    version: Literal[1] = 1
    county: CountyConfig
    town: TownConfig
    stations: list[StationConfig] = Field(min_length=1)
    units: list[UnitConfig] = []
    platforms: list[PlatformConfig] = []
    teams: list[TeamConfig] = []
    squads: list[SquadConfig] = []
    priority_groups: list[GroupConfig] = []
    areas: list[GroupConfig] = []
    categories: list[CategoryConfig] = []
    policy: Policy = Policy()

    def code(self, local: str) -> str:
        """The database code of a town-local code: `free_clinic` → `taole.free_clinic`."""
        return qualify(self.town.code, local)


def qualify(town_code: str, code: str) -> str:
    """Prefix a town-local code with its town: the form stored in the database."""
    return f"{town_code}.{code}"


# ---------------------------------------------------------------------------------------
# Loading and checking
# ---------------------------------------------------------------------------------------


class OrgConfigError(ValueError):
    """The org config cannot be used; `problems` holds one line per problem."""

    def __init__(self, source: str | Path, problems: list[str]) -> None:
        self.source = str(source)
        self.problems = list(problems)
        super().__init__("\n".join(f"  {p}" for p in self.problems))


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_SafeLoader):
    """Safe loader (libyaml when present) that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_org_config(path: Path) -> OrgConfig:
    """Read, validate and check one town's YAML file; raise OrgConfigError on any problem."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OrgConfigError(path, [f"file not found: {path}"]) from None
    except OSError as exc:
        raise OrgConfigError(path, [f"cannot read {path}: {exc.strerror}"]) from None
    try:
        data = yaml.load(raw, Loader=_StrictLoader)  # safe: plain data only
    except yaml.YAMLError as exc:
        raise OrgConfigError(path, [_yaml_problem(exc)]) from None
    return parse_org_config(data, source=str(path))


def parse_org_config(data: Any, source: str = "<data>") -> OrgConfig:
    """Validate already-parsed YAML data (a dict) into an OrgConfig."""
    if not isinstance(data, dict):
        raise OrgConfigError(source, ["top level must be a mapping (county:, town:, …)"])
    try:
        cfg = OrgConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_pydantic_problem(err, data) for err in exc.errors()]
        raise OrgConfigError(source, problems) from None
    problems = _check(cfg)
    if problems:
        raise OrgConfigError(source, problems)
    return cfg


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
    return f"YAML syntax error at {where}: {getattr(exc, 'problem', None) or exc}"


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """('categories', 12, 'team') → 'categories[12] (code=clinic_bp).team'."""
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and "code" in node:
                out += f" (code={node['code']})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "top level"


def _pydantic_problem(err: Any, data: Any) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        msg = "missing (required)"
    elif kind == "extra_forbidden":
        msg = "unknown key (typo?)"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        if kind != "value_error" and isinstance(value, str | int | float):
            msg += f" (got {value!r})"  # our own value errors quote the value already
    return f"{_where(err['loc'], data)}: {msg}"


def _at(section: str, index: int, code: str) -> str:
    return f"{section}[{index}] (code={code})"


def _unknown(where: str, what: str, refs: list[str], known: set[str]) -> list[str]:
    return [f"{where}: {what} '{ref}' is not defined" for ref in refs if ref not in known]


# Sections stored in one table share one code space (teams and squads are both teams).
_KINDS = (
    ("stations",),
    ("units",),
    ("platforms",),
    ("teams", "squads"),
    ("areas",),
    ("categories",),
    ("priority_groups",),
)


def _check(cfg: OrgConfig) -> list[str]:
    return [
        *_check_unique(cfg),
        *_check_platforms(cfg),
        *_check_teams(cfg),
        *_check_squads(cfg),
        *_check_categories(cfg),
    ]


def _check_unique(cfg: OrgConfig) -> list[str]:
    problems = []
    for sections in _KINDS:
        for attr in ("code", "name_zh", "name_en"):
            seen: dict[str, str] = {}
            for section in sections:
                for i, item in enumerate(getattr(cfg, section)):
                    where, key = _at(section, i, item.code), getattr(item, attr)
                    if key in seen:
                        problems.append(f"{where}: duplicate {attr} '{key}' (also {seen[key]})")
                    seen.setdefault(key, where)
    if cfg.town.code == cfg.county.code:
        problems.append(f"town.code: '{cfg.town.code}' is also the county code")
    return problems


def _check_platforms(cfg: OrgConfig) -> list[str]:
    units, problems = {u.code for u in cfg.units}, []
    for i, p in enumerate(cfg.platforms):
        where = _at("platforms", i, p.code)
        if not p.lead:
            problems.append(f"{where}: no lead unit (lead: [...])")
        problems += _unknown(where, "lead unit", p.lead, units)
        problems += _unknown(where, "responsible unit", p.responsible, units)
        for code in sorted(set(p.lead) & set(p.responsible)):
            problems.append(f"{where}: unit '{code}' is both lead and responsible")
    return problems


def _check_teams(cfg: OrgConfig) -> list[str]:
    units, platforms, problems = {u.code for u in cfg.units}, {p.code for p in cfg.platforms}, []
    for i, t in enumerate(cfg.teams):
        where = _at("teams", i, t.code)
        if not t.lead:
            problems.append(f"{where}: a specialist team needs at least one lead unit")
        problems += _unknown(where, "lead unit", t.lead, units)
        problems += _unknown(where, "platform", [t.platform] if t.platform else [], platforms)
    return problems


def _check_squads(cfg: OrgConfig) -> list[str]:
    stations = {s.code: 0 for s in cfg.stations}
    problems = []
    for i, sq in enumerate(cfg.squads):
        problems += _unknown(_at("squads", i, sq.code), "station", [sq.station], set(stations))
        if sq.station in stations:
            stations[sq.station] += 1
    for i, s in enumerate(cfg.stations):
        if stations[s.code] != 1:
            where = _at("stations", i, s.code)
            problems.append(f"{where}: has {stations[s.code]} squads, needs exactly one")
    return problems


def _check_categories(cfg: OrgConfig) -> list[str]:
    teams = {t.code for t in [*cfg.teams, *cfg.squads]}
    areas, platforms = {a.code for a in cfg.areas}, {p.code for p in cfg.platforms}
    problems = []
    for i, c in enumerate(cfg.categories):
        where = _at("categories", i, c.code)
        problems += _unknown(where, "team", [c.team], teams)
        problems += _unknown(where, "area", [c.area], areas)
        problems += _unknown(where, "platform", [c.platform] if c.platform else [], platforms)
    return problems


# ---------------------------------------------------------------------------------------
# Sync into the database
# ---------------------------------------------------------------------------------------

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
    session: AsyncSession, model: Any, owner: str, owner_id: int, desired: dict[int, dict]
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
    scope = select(Region).where(Region.parent_id == town.id, Region.level == RegionLevel.STATION)
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
        _row(cfg, p, town_id=town.id, stations_responsible=p.every_station_responsible, sort=i)
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
            sort=len(cfg.teams) + i,
        )
        for i, s in enumerate(cfg.squads)
    ]
    teams, touched = await _upsert(session, report, "teams", Team, rows)
    leads = {cfg.code(t.code): t.lead for t in cfg.teams}  # squads: led by their station
    for code, team in teams.items():
        desired = {units[cfg.code(u)].id: {} for u in leads.get(code, [])}
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
    rows = [
        _row(
            cfg,
            c,
            area_id=areas[cfg.code(c.area)].id,
            team_id=teams[cfg.code(c.team)].id,
            platform_id=platforms[cfg.code(c.platform)].id if c.platform else None,
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


# ---------------------------------------------------------------------------------------
# Reading it back: menus and the `org show` summary
# ---------------------------------------------------------------------------------------


async def station_choices(session: AsyncSession, town_code: str | None = None) -> list[Region]:
    """Active stations in config order (a resident picks their village): those of one town,
    or of every town the deployment serves when `town_code` is None."""
    towns = select(Region.id).where(Region.level == RegionLevel.TOWN, Region.active.is_(True))
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
    stmt = select(Region).where(Region.level == RegionLevel.TOWN, Region.active.is_(True))
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
        platform = platforms.get(t.platform_id or 0, "— (无平台，队伍牵头单位派单)")
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
