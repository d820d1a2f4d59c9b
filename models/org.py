"""The org chart: regions (county → town → station), units, platforms, teams, catalogue."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ColumnElement, ForeignKey, Integer, String, UniqueConstraint, and_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum

__all__ = [
    "DispatchMode",
    "Platform",
    "PlatformUnit",
    "PriorityGroup",
    "Region",
    "RegionLevel",
    "ServiceArea",
    "ServiceCategory",
    "Team",
    "TeamKind",
    "TeamLeadUnit",
    "Unit",
]


class OrgItem:
    """What every row the town's config describes has: a stable code (renaming in config keeps
    what refers to it), names in Chinese and English, and `active` (a row config no longer
    lists is kept, inactive, for the history)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class InTown:
    """A row of one town's org chart (the town's region)."""

    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)


class CatalogueItem(OrgItem):
    """A service area, category or priority group: shorter names."""

    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))


class RegionLevel(enum.StrEnum):
    COUNTY = "county"
    TOWN = "town"  # seat of a town institute (所)
    STATION = "station"  # a village or community station (站)


class Region(OrgItem, Base):
    __tablename__ = "regions"

    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    institute_name_zh: Mapped[str | None] = mapped_column(String(128))
    sort: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Region | None] = relationship(remote_side="Region.id")

    @classmethod
    def station_of(cls, town_id: int) -> ColumnElement[bool]:
        """Where-clause: the stations (villages, communities) of the town."""
        return and_(cls.parent_id == town_id, cls.level == RegionLevel.STATION)

    @classmethod
    def served_town(cls) -> ColumnElement[bool]:
        """Where-clause: an active town, one the deployment serves."""
        return and_(cls.level == RegionLevel.TOWN, cls.active.is_(True))


class Unit(OrgItem, InTown, Base):
    """An office, school, clinic, company or co-operative that leads or serves."""

    __tablename__ = "units"

    kind: Mapped[str] = mapped_column(String(32), default="office")


class DispatchMode(enum.StrEnum):
    """How a lead unit passes its orders on (派单)."""

    AUTO = "auto"  # the suggested team's leader gets the card at once; the unit may re-dispatch
    MANUAL = "manual"  # the order waits for a dispatcher of the lead unit to pick the team


class Dispatched:
    """A platform, or a team for orders of a category on no platform: how its lead units
    dispatch its orders; and its place in lists."""

    dispatch: Mapped[DispatchMode] = mapped_column(
        str_enum(DispatchMode, length=8), default=DispatchMode.AUTO
    )
    sort: Mapped[int] = mapped_column(Integer, default=0)


class UnitLink:
    """A unit tied to a platform or a team."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)


class Platform(OrgItem, InTown, Dispatched, Base):
    __tablename__ = "platforms"

    # "every station" is a responsible unit of most platforms in the plan.
    stations_responsible: Mapped[bool] = mapped_column(Boolean, default=False)


class PlatformUnit(UnitLink, Base):
    __tablename__ = "platform_units"
    __table_args__ = (UniqueConstraint("platform_id", "unit_id"),)

    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # "lead" or "responsible"


class TeamKind(enum.StrEnum):
    SPECIALIST = "specialist"  # one of the town's specialist volunteer teams (志愿服务队)
    SQUAD = "squad"  # a station's own volunteer squad (小分队)


class Team(OrgItem, InTown, Dispatched, Base):
    __tablename__ = "teams"

    kind: Mapped[TeamKind] = mapped_column(str_enum(TeamKind))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    members_zh: Mapped[str | None] = mapped_column(String(512))


class TeamLeadUnit(UnitLink, Base):
    __tablename__ = "team_lead_units"
    __table_args__ = (UniqueConstraint("team_id", "unit_id"),)

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))


class ServiceArea(CatalogueItem, InTown, Base):
    """A group of categories in residents' own words (看病义诊, 法律咨询, …)."""

    __tablename__ = "service_areas"

    sort: Mapped[int] = mapped_column(Integer, default=0)


class ServiceCategory(CatalogueItem, Base):
    """A service (its code is the stable key: renaming it in config keeps its orders)."""

    __tablename__ = "service_categories"

    area_id: Mapped[int] = mapped_column(ForeignKey("service_areas.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class PriorityGroup(CatalogueItem, InTown, Base):
    """Residents the plan singles out for care (left-behind elderly, disabled people, …)."""

    __tablename__ = "priority_groups"
