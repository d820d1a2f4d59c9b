"""The org config's schema: the town, its stations, units, platforms, teams, squads,
priority groups and catalogue, and the policy block (SLA, reminders, points, KPI targets)."""

from __future__ import annotations

import math
import re
from datetime import time, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

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

# 派单: "auto" — the suggested team's leader gets the order at once, the lead unit may
# re-dispatch before it is accepted; "manual" — a dispatcher of the lead unit picks the team.
Dispatch = Literal["auto", "manual"]

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
    dispatch: Dispatch = "auto"


class TeamConfig(_Model):
    code: Code
    name_zh: Name
    name_en: Name
    lead: list[Code] = []
    platform: Code | None = None
    # Only for a team on no platform: how its own lead units dispatch its orders.
    dispatch: Dispatch | None = None
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
    platform: Code | None = None  # default: the team's platform
    name_zh: ButtonZh
    name_en: ButtonEn
    # True: the town added this service; the plan itself does not name it.
    town_addition: bool = False


class CorpsConfig(_Model):
    """The town's volunteer corps above the specialist teams (陶乐镇新时代文明实践服务分队):
    its name and who leads it, by office (people are appointed in the bot, not here)."""

    name_zh: Name
    name_en: Name
    captains_zh: Name  # 队长
    deputies_zh: Name | None = None  # 副队长
    duties_zh: Annotated[str, StringConstraints(max_length=512)] | None = None


class OrgConfig(_Model):
    """One town's org chart, service catalogue and policy, as written in its YAML file."""

    version: Literal[1] = 1
    county: CountyConfig
    town: TownConfig
    stations: list[StationConfig] = Field(min_length=1)
    corps: CorpsConfig | None = None
    units: list[UnitConfig] = []
    platforms: list[PlatformConfig] = []
    teams: list[TeamConfig] = []
    squads: list[SquadConfig] = []
    priority_groups: list[GroupConfig] = []
    areas: list[GroupConfig] = []
    categories: list[CategoryConfig] = []
    policy: Policy = Policy()

    def category_platform(self, category: CategoryConfig) -> str | None:
        """The local code of the platform a category belongs to: its own, else its team's."""
        if category.platform:
            return category.platform
        team = next((t for t in self.teams if t.code == category.team), None)
        return team.platform if team else None

    def code(self, local: str) -> str:
        """The database code of a town-local code: `free_clinic` → `taole.free_clinic`."""
        return qualify(self.town.code, local)


def qualify(town_code: str, code: str) -> str:
    """Prefix a town-local code with its town: the form stored in the database."""
    return f"{town_code}.{code}"
