"""Loading and checking an org config: strict YAML, the schema, then the cross-references
(codes unique, every reference known). Every problem is reported at once, with where it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import (
    ValidationError,
)

from services.org.schema import (
    OrgConfig,
)


class OrgConfigError(ValueError):
    """The org config cannot be used; `problems` holds one line per problem."""

    def __init__(self, source: str | Path, problems: list[str]) -> None:
        self.source = str(source)
        self.problems = list(problems)
        super().__init__("\n".join(f"  {p}" for p in self.problems))


if TYPE_CHECKING:  # libyaml's loader has the pure-Python one's interface
    _SafeLoader = yaml.SafeLoader
else:
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
        if t.platform and t.dispatch:
            problems.append(
                f"{where}.dispatch: only for a team on no platform "
                f"(platform '{t.platform}' sets its own dispatch:)"
            )
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
    teams = {t.code for t in cfg.teams} | {s.code for s in cfg.squads}
    areas, platforms = {a.code for a in cfg.areas}, {p.code for p in cfg.platforms}
    problems = []
    for i, c in enumerate(cfg.categories):
        where = _at("categories", i, c.code)
        problems += _unknown(where, "team", [c.team], teams)
        problems += _unknown(where, "area", [c.area], areas)
        problems += _unknown(where, "platform", [c.platform] if c.platform else [], platforms)
    return problems + _check_suggestions(cfg)


def _check_suggestions(cfg: OrgConfig) -> list[str]:
    """On an `auto` platform the category's team must be suggestable: one of its lead units
    among the platform's lead or responsible units, or nobody would get the order at once."""
    platforms = {p.code: p for p in cfg.platforms}
    teams = {t.code: t for t in cfg.teams}
    problems = []
    for i, c in enumerate(cfg.categories):
        platform = platforms.get(cfg.category_platform(c) or "")
        team = teams.get(c.team)
        if platform is None or team is None or platform.dispatch != "auto":
            continue
        if not set(team.lead) & {*platform.lead, *platform.responsible}:
            problems.append(
                f"{_at('categories', i, c.code)}: team '{c.team}' has no lead unit among "
                f"platform '{platform.code}''s lead or responsible units, so no team would "
                "be suggested on this auto platform (add the unit, or make it dispatch: manual)"
            )
    return problems
