"""The Taole org config as loaded and synced: regions, institutes, platforms and teams as
the plan (陶党发〔2020〕11号) names them, and the typed policy."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from models import (
    Platform,
    PlatformUnit,
    PriorityGroup,
    Region,
    ServiceCategory,
    Team,
    TeamKind,
    TeamLeadUnit,
)
from services.org import load_org_config, station_choices
from tests.org_yaml import (
    EXAMPLE,
    NO_PLATFORM,
    PLATFORMS,
    STATIONS,
    TAOLE,
    TEAMS,
    sync_taole,
    unit_names,
)

# --- the Taole config, as loaded --------------------------------------------------------


async def test_taole_loads_and_syncs(session):
    report = await sync_taole(session)
    assert report.updated == report.deactivated == 0
    stations = await station_choices(session, "taole")
    assert [s.name_zh for s in stations] == STATIONS
    assert all(s.code.startswith("taole.") for s in stations)
    teams = (await session.scalars(select(Team).where(Team.active.is_(True)))).all()
    specialists = {t.name_zh for t in teams if t.kind == TeamKind.SPECIALIST}
    squads = {t.name_zh for t in teams if t.kind == TeamKind.SQUAD}
    assert specialists == set(TEAMS)
    assert squads == {f"{name}新时代文明实践志愿服务小分队" for name in STATIONS}
    assert await session.scalar(select(func.count()).select_from(Platform)) == 6
    categories = (await session.scalars(select(ServiceCategory))).all()
    assert len(categories) >= 25
    covered = {c.team_id for c in categories}
    assert {t.id for t in teams if t.kind == TeamKind.SPECIALIST} <= covered
    groups = set(await session.scalars(select(PriorityGroup.name_zh)))
    assert groups == {"留守老人", "困境儿童", "留守儿童", "残疾人", "空巢老人"}


async def test_regions_and_institutes_named_as_in_the_plan(session):
    await sync_taole(session)
    town = await session.scalar(select(Region).where(Region.code == "taole"))
    county = await session.get(Region, town.parent_id)
    assert (town.name_zh, town.institute_name_zh) == ("陶乐镇", "陶乐镇新时代文明实践所")
    assert (county.name_zh, county.institute_name_zh) == ("平罗县", "平罗县新时代文明实践中心")
    squads = await session.scalars(select(Team).where(Team.kind == TeamKind.SQUAD))
    for squad in squads:
        station = await session.get(Region, squad.station_id)
        assert squad.name_zh == f"{station.name_zh}新时代文明实践志愿服务小分队"


async def test_platform_units_match_the_plan(session):
    await sync_taole(session)
    platforms = (await session.scalars(select(Platform))).all()
    assert {p.name_zh for p in platforms} == set(PLATFORMS)
    for p in platforms:
        lead = await unit_names(session, PlatformUnit, "platform_id", p.id, role="lead")
        resp = await unit_names(session, PlatformUnit, "platform_id", p.id, role="responsible")
        assert (lead, resp) == PLATFORMS[p.name_zh], p.name_zh
        assert p.stations_responsible, p.name_zh


async def test_team_lead_units_match_the_plan(session):
    await sync_taole(session)
    for team in await session.scalars(select(Team).where(Team.kind == TeamKind.SPECIALIST)):
        assert await unit_names(session, TeamLeadUnit, "team_id", team.id) == TEAMS[team.name_zh]
    squad_leads = await session.scalar(
        select(func.count()).select_from(TeamLeadUnit).join(Team).where(Team.kind == "squad")
    )
    assert squad_leads == 0


async def test_three_teams_have_no_platform_nor_do_their_categories(session):
    await sync_taole(session)
    teams = {t.name_zh: t for t in await session.scalars(select(Team))}
    for name in NO_PLATFORM:
        assert teams[name].platform_id is None
        cats = await session.scalars(
            select(ServiceCategory).where(ServiceCategory.team_id == teams[name].id)
        )
        assert all(c.platform_id is None for c in cats), name
    science = await session.scalars(
        select(ServiceCategory).where(ServiceCategory.team_id == teams["科技科普志愿服务队"].id)
    )
    platform = await session.scalar(select(Platform).where(Platform.name_zh == "科技科普服务平台"))
    assert {c.platform_id for c in science} == {platform.id}


def test_policy_is_typed():
    policy = load_org_config(TAOLE).policy
    assert policy.sla.accept_reminder == timedelta(minutes=30)
    assert policy.sla.escalate_after == timedelta(hours=2)
    assert policy.sla.overdue_grace == timedelta(hours=2)
    assert policy.sla.rate_reminder == timedelta(days=1)
    assert policy.volunteer_reminders.evening_before == time(19, 0)
    assert policy.volunteer_reminders.before_slot == timedelta(hours=1)
    assert (policy.points.points_per_hour, policy.points.five_star_bonus) == (10, 5)
    assert policy.points.priority_group_bonus == 5
    assert (policy.kpi.party_participation, policy.kpi.hours_per_year) == (0.8, 20)
    assert sum(policy.scorecard.model_dump().values()) == pytest.approx(1)
    example = load_org_config(EXAMPLE).policy  # only overrides two values
    assert example.sla.accept_reminder == timedelta(hours=1)
    assert example.sla.rate_reminder == timedelta(hours=24)


def test_category_names_fit_a_phone_button():
    cfg = load_org_config(TAOLE)
    assert all(len(c.name_zh) <= 10 for c in [*cfg.areas, *cfg.categories])
