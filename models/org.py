"""The org chart: regions (county → town → station), units, platforms, teams, catalogue."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum


class RegionLevel(enum.StrEnum):
    COUNTY = "county"
    TOWN = "town"  # seat of a town institute (所)
    STATION = "station"  # a village or community station (站)


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    institute_name_zh: Mapped[str | None] = mapped_column(String(128))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Region | None] = relationship(remote_side=[id])


class Unit(Base):
    """An office, school, clinic, company or co-operative that leads or serves."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="office")
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DispatchMode(enum.StrEnum):
    """How a lead unit passes its orders on (派单)."""

    AUTO = "auto"  # the suggested team's leader gets the card at once; the unit may re-dispatch
    MANUAL = "manual"  # the order waits for a dispatcher of the lead unit to pick the team


class Platform(Base):
    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    # "every station" is a responsible unit of most platforms in the plan.
    stations_responsible: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatch: Mapped[DispatchMode] = mapped_column(
        str_enum(DispatchMode, length=8), default=DispatchMode.AUTO
    )
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PlatformUnit(Base):
    __tablename__ = "platform_units"
    __table_args__ = (UniqueConstraint("platform_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # "lead" or "responsible"


class TeamKind(enum.StrEnum):
    SPECIALIST = "specialist"  # one of the town's specialist volunteer teams (志愿服务队)
    SQUAD = "squad"  # a station's own volunteer squad (小分队)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[TeamKind] = mapped_column(str_enum(TeamKind))
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    members_zh: Mapped[str | None] = mapped_column(String(512))
    # For orders of a category on no platform: how the team's own lead units dispatch them.
    dispatch: Mapped[DispatchMode] = mapped_column(
        str_enum(DispatchMode, length=8), default=DispatchMode.AUTO
    )
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TeamLeadUnit(Base):
    __tablename__ = "team_lead_units"
    __table_args__ = (UniqueConstraint("team_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)


class ServiceArea(Base):
    """A group of categories in residents' own words (看病义诊, 法律咨询, …)."""

    __tablename__ = "service_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceCategory(Base):
    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The code is the stable key: renaming a category in config keeps its orders attached.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("service_areas.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id"))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PriorityGroup(Base):
    """Residents the plan singles out for care (left-behind elderly, disabled people, …)."""

    __tablename__ = "priority_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
