"""The org config: loading and checking the YAML, syncing it into a real database, reading it."""

from __future__ import annotations

import copy
import functools
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from models import (
    Order,
    Platform,
    PlatformUnit,
    PriorityGroup,
    Region,
    ServiceArea,
    ServiceCategory,
    Team,
    TeamKind,
    TeamLeadUnit,
    Unit,
    User,
)
from services.org import (
    OrgConfigError,
    categories_in_area,
    load_org_config,
    org_summary,
    parse_org_config,
    service_areas,
    station_choices,
    sync_org,
)

CONFIG = Path(__file__).resolve().parent.parent / "config"
TAOLE = CONFIG / "taole.yaml"
EXAMPLE = CONFIG / "example-town.yaml"

STATIONS = ["东街社区", "西街社区", "庙庙湖村", "王家庄村", "东园村", "马太沟村", "施家台子村"]

# From the plan (陶党发〔2020〕11号), written out by hand: platform → (lead, responsible).
# Every platform also has "各新时代文明实践站" (every station) as a responsible unit.
PLATFORMS = {
    "理论宣讲平台": ({"党政办公室", "文化站"}, {"民生服务中心", "司法所"}),
    "教育服务平台": ({"文化站"}, {"陶乐中小学"}),
    "文化服务平台": ({"文化站"}, {"各社区文化艺术团"}),
    "科技科普服务平台": (
        {"农业服务中心", "畜牧站"},
        {
            "华泰农农业科技发展有限公司",
            "宁夏中青农业科技有限公司",
            "绿源众兴肉牛养殖专业合作",
            "希源农牧专业合作社",
            "庙庙湖沙漠农业种植专业合作社",
        },
    ),
    "健身体育服务平台": ({"文化站"}, set()),
    "融媒体服务平台": ({"党政办公室", "文化站"}, set()),
}

# Team → lead units (the plan's 党政办 is 党政办公室).
TEAMS = {
    "理论宣讲志愿服务队": {"党政办公室", "文化站"},
    "教育帮扶志愿服务队": {"文化站"},
    "文化体育志愿服务队": {"文化站"},
    "科技科普志愿服务队": {"农业服务中心", "畜牧站"},
    "法律普及志愿服务队": {"司法所", "陶乐法院", "陶乐派出所"},
    "卫生健康志愿服务队": {"计生站", "卫生院"},
    "文明实践志愿服务队": {"文化站", "民生服务中心"},
    "扶贫帮扶志愿服务队": {"扶贫办", "驻村工作队"},
    "优秀人士志愿服务队": {"党政办公室"},
}
# The plan ties these three to none of the six platforms (法律普及 uses the 宣讲平台, 文明实践
# the 道德讲堂 on the 理论宣讲平台).
NO_PLATFORM = {"卫生健康志愿服务队", "扶贫帮扶志愿服务队", "优秀人士志愿服务队"}

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml keeps the file fast
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
ORG_MODELS = (Region, Unit, Platform, PlatformUnit, Team, TeamLeadUnit, ServiceArea,
              ServiceCategory, PriorityGroup)  # fmt: skip


@functools.cache
def _raw(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)


def taole_data() -> dict[str, Any]:
    return copy.deepcopy(_raw(TAOLE))


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "org.yaml"
    text = yaml.dump(data, Dumper=DUMPER, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


async def sync_taole(session, data: dict[str, Any] | None = None):
    report = await sync_org(session, parse_org_config(data or taole_data()))
    await session.commit()
    return report


async def row_counts(session) -> dict[str, int]:
    return {
        m.__tablename__: await session.scalar(select(func.count()).select_from(m))
        for m in ORG_MODELS
    }


async def unit_names(session, link_model, owner_col, owner_id, **where) -> set[str]:
    stmt = (
        select(Unit.name_zh)
        .join(link_model, link_model.unit_id == Unit.id)
        .where(getattr(link_model, owner_col) == owner_id)
        .filter_by(**where)
    )
    return set(await session.scalars(stmt))


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


# --- loader errors: each names the key -------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(OrgConfigError, match="file not found"):
        load_org_config(tmp_path / "nope.yaml")


def test_yaml_syntax_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("county:\n  code: [pingluo\ntown: x\n", encoding="utf-8")
    with pytest.raises(OrgConfigError, match=r"YAML syntax error at line \d+, column \d+"):
        load_org_config(path)


def test_duplicate_yaml_key(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(TAOLE.read_text(encoding="utf-8") + "\npolicy: {}\n", encoding="utf-8")
    with pytest.raises(OrgConfigError, match="duplicate key 'policy'"):
        load_org_config(path)


def _add_unit(d: dict, section: str, i: int, unit: str, key: str = "lead") -> None:
    d[section][i].setdefault(key, []).append(unit)


BAD = [
    pytest.param(
        lambda d: _add_unit(d, "platforms", 3, "agri"),
        "platforms[3] (code=science): lead unit 'agri' is not defined",
        id="platform-unknown-lead-unit",
    ),
    pytest.param(
        lambda d: _add_unit(d, "platforms", 1, "schol", "responsible"),
        "platforms[1] (code=education): responsible unit 'schol' is not defined",
        id="platform-unknown-responsible-unit",
    ),
    pytest.param(
        lambda d: d["platforms"][4].update(lead=[]),
        "platforms[4] (code=fitness): no lead unit",
        id="platform-without-lead",
    ),
    pytest.param(
        lambda d: _add_unit(d, "platforms", 0, "party_office", "responsible"),
        "platforms[0] (code=theory): unit 'party_office' is both lead and responsible",
        id="platform-lead-and-responsible",
    ),
    pytest.param(
        lambda d: _add_unit(d, "teams", 4, "courts"),
        "teams[4] (code=law): lead unit 'courts' is not defined",
        id="team-unknown-lead-unit",
    ),
    pytest.param(
        lambda d: d["teams"][8].pop("lead"),
        "teams[8] (code=elites): a specialist team needs at least one lead unit",
        id="team-without-lead",
    ),
    pytest.param(
        lambda d: d["teams"][0].update(platform="theroy"),
        "teams[0] (code=theory): platform 'theroy' is not defined",
        id="team-unknown-platform",
    ),
    pytest.param(
        lambda d: d["categories"][0].pop("team"),
        "categories[0] (code=free_clinic).team: missing",
        id="category-without-team",
    ),
    pytest.param(
        lambda d: d["categories"][1].update(team="heath"),
        "categories[1] (code=bp_sugar): team 'heath' is not defined",
        id="category-unknown-team",
    ),
    pytest.param(
        lambda d: d["categories"][8].update(platform="sciense"),
        "categories[8] (code=crop_pests): platform 'sciense' is not defined",
        id="category-unknown-platform",
    ),
    pytest.param(
        lambda d: d["categories"][2].update(area="healht"),
        "categories[2] (code=health_talk): area 'healht' is not defined",
        id="category-unknown-area",
    ),
    pytest.param(
        lambda d: d["categories"][5].update(code="legal_advice"),
        "categories[5] (code=legal_advice): duplicate code 'legal_advice' (also categories[4]",
        id="duplicate-category-code",
    ),
    pytest.param(
        lambda d: d["squads"][0].update(code="health"),
        "squads[0] (code=health): duplicate code 'health' (also teams[5]",
        id="duplicate-code-team-and-squad",
    ),
    pytest.param(
        lambda d: d["units"][1].update(name_zh="党政办公室"),
        "units[1] (code=culture_station): duplicate name_zh '党政办公室' (also units[0]",
        id="duplicate-unit-name",
    ),
    pytest.param(
        lambda d: d["categories"][3].update(name_zh="义诊看病"),
        "categories[3] (code=haircut): duplicate name_zh '义诊看病'",
        id="duplicate-category-name",
    ),
    pytest.param(
        lambda d: d["squads"][2].update(station="miaomiao"),
        "squads[2] (code=squad_miaomiaohu): station 'miaomiao' is not defined",
        id="squad-unknown-station",
    ),
    pytest.param(
        lambda d: d["squads"].pop(6),
        "stations[6] (code=shijiataizi): has 0 squads, needs exactly one",
        id="station-without-squad",
    ),
    pytest.param(
        lambda d: d["policy"]["sla"].update(escalate_after="2 hours"),
        "policy.sla.escalate_after: bad duration '2 hours'",
        id="bad-duration",
    ),
    pytest.param(
        lambda d: d["policy"]["volunteer_reminders"].update(evening_before=1140),
        "policy.volunteer_reminders.evening_before: bad clock time 1140",
        id="unquoted-clock-time",
    ),
    pytest.param(
        lambda d: d["policy"]["scorecard"].update(hours=0.05),
        "policy.scorecard: weights sum to 0.95, must sum to 1",
        id="scorecard-weights",
    ),
    pytest.param(
        lambda d: d["platforms"][0].update(leads=["culture_station"]),
        "platforms[0] (code=theory).leads: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        lambda d: d["units"][0].update(kind="ofice"),
        "units[0] (code=party_office).kind: Input should be",
        id="unknown-unit-kind",
    ),
    pytest.param(
        lambda d: d["categories"][0].update(name_zh="上门义诊看病量血压测血糖"),
        "categories[0] (code=free_clinic).name_zh: String should have at most 10 characters",
        id="category-name-too-long",
    ),
    pytest.param(
        lambda d: d["stations"][0].update(code="Dong-jie"),
        "stations[0] (code=Dong-jie).code: String should match pattern",
        id="bad-code",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_loader_error_names_the_key(tmp_path, mutate, expected):
    data = taole_data()
    mutate(data)
    with pytest.raises(OrgConfigError) as caught:
        load_org_config(write(tmp_path, data))
    assert any(expected in line for line in str(caught.value).splitlines())


def test_every_problem_on_its_own_line(tmp_path):
    data = taole_data()
    data["categories"][1]["team"] = "heath"
    data["categories"][2]["area"] = "healht"
    data["teams"][4]["lead"].append("courts")
    with pytest.raises(OrgConfigError) as caught:
        load_org_config(write(tmp_path, data))
    assert len(caught.value.problems) == 3
    assert len(str(caught.value).splitlines()) == 3


# --- sync: idempotent, renames in place, deactivates ------------------------------------


async def test_second_sync_changes_nothing(sessionmaker):
    async with sessionmaker() as session:
        first = await sync_taole(session)
        before = await row_counts(session)
    async with sessionmaker() as session:
        second = await sync_taole(session)
        assert (second.created, second.updated, second.deactivated) == (0, 0, 0)
        assert await row_counts(session) == before
    assert (
        first.created == sum(before.values()) - before["platform_units"] - before["team_lead_units"]
    )
    assert str(second) == "town taole: no changes"


async def test_rename_keeps_the_category_and_its_orders(session):
    await sync_taole(session)
    cat = await session.scalar(
        select(ServiceCategory).where(ServiceCategory.code == "taole.haircut")
    )
    town = await session.scalar(select(Region).where(Region.code == "taole"))
    station = (await station_choices(session, "taole"))[2]
    user = User(tg_id=1001, name="王大爷")
    session.add(user)
    await session.flush()
    order = Order(number="TL-20200301-0001", town_id=town.id, station_id=station.id,
                  category_id=cat.id, resident_id=user.id, placed_by_id=user.id)  # fmt: skip
    session.add(order)
    await session.commit()

    data = taole_data()
    data["categories"][3].update(name_zh="上门理发", name_en="Haircut at home")
    report = await sync_taole(session, data)

    assert (report.created, report.updated, report.deactivated) == (0, 1, 0)
    assert report.counts["categories"].updated == 1
    renamed = await session.scalar(
        select(ServiceCategory).where(ServiceCategory.code == "taole.haircut")
    )
    assert (renamed.id, renamed.name_zh, renamed.name_en) == (cat.id, "上门理发", "Haircut at home")
    assert await session.scalar(select(Order.category_id).where(Order.id == order.id)) == cat.id


async def test_removed_items_are_deactivated_not_deleted(session):
    await sync_taole(session)
    before = await row_counts(session)
    data = taole_data()
    data["categories"] = [c for c in data["categories"] if c["code"] != "haircut"]
    report = await sync_taole(session, data)
    assert report.counts["categories"].deactivated == 1
    assert (report.created, report.updated, report.deactivated) == (0, 0, 1)
    assert await row_counts(session) == before
    haircut = await session.scalar(
        select(ServiceCategory).where(ServiceCategory.code == "taole.haircut")
    )
    assert haircut is not None and haircut.active is False
    assert haircut.id not in {c.id for c in await categories_in_area(session, haircut.area_id)}

    back = await sync_taole(session)  # put back in the config: active again, same row
    assert back.counts["categories"].updated == 1
    await session.refresh(haircut)
    assert haircut.active is True


async def test_changed_lead_units_update_the_links(session):
    await sync_taole(session)
    data = taole_data()
    data["platforms"][4]["lead"] = ["party_office"]  # 健身体育服务平台
    data["platforms"][4]["dispatch"] = "manual"  # 文化站's team is no longer suggestable
    data["teams"][5]["lead"] = ["health_centre"]  # 卫生健康志愿服务队
    report = await sync_taole(session, data)
    assert report.counts["platforms"].updated == 1
    assert report.counts["teams"].updated == 1
    fitness = await session.scalar(select(Platform).where(Platform.code == "taole.fitness"))
    health = await session.scalar(select(Team).where(Team.code == "taole.health"))
    assert await unit_names(session, PlatformUnit, "platform_id", fitness.id) == {"党政办公室"}
    assert await unit_names(session, TeamLeadUnit, "team_id", health.id) == {"卫生院"}


# --- two towns, one database ------------------------------------------------------------


async def test_example_town_loads_beside_taole(session):
    await sync_taole(session)
    taole_counts = await row_counts(session)
    report = await sync_org(session, load_org_config(EXAMPLE))
    await session.commit()
    assert report.deactivated == 0 and report.updated == 0
    assert report.counts["regions"].created == 3  # the county row is shared
    again = await sync_taole(session)  # Taole untouched by the other town's sync
    assert (again.created, again.updated, again.deactivated) == (0, 0, 0)
    assert await row_counts(session) != taole_counts

    assert [s.name_zh for s in await station_choices(session, "hongliu")] == ["柳林村", "新渠社区"]
    taole_text = await org_summary(session, "taole")
    hongliu_text = await org_summary(session, "hongliu")
    assert "陶乐镇新时代文明实践所" in taole_text and "红柳镇" not in taole_text
    assert "hongliu." not in taole_text
    assert "红柳镇新时代文明实践所" in hongliu_text and "陶乐镇" not in hongliu_text
    assert "taole." not in hongliu_text and "庙庙湖村" not in hongliu_text
    both = await org_summary(session)
    assert "陶乐镇" in both and "红柳镇" in both


async def test_summary_lists_the_whole_taole_chart(session):
    await sync_taole(session)
    text = await org_summary(session, "taole")
    assert "平罗县新时代文明实践中心" in text
    for name in [*STATIONS, *PLATFORMS, *TEAMS, "庙庙湖村新时代文明实践志愿服务小分队"]:
        assert name in text, name
    assert "牵头单位 lead:        农业服务中心、畜牧站" in text
    assert "牵头单位 lead: 司法所、陶乐法院、陶乐派出所" in text
    assert "taole.free_clinic" in text and "Free clinic" in text
    assert await org_summary(session, "nowhere") == "No town 'nowhere' loaded."


async def test_menu_helpers(session):
    await sync_taole(session)
    town = await session.scalar(select(Region).where(Region.code == "taole"))
    areas = await service_areas(session, town.id)
    assert [a.name_zh for a in areas][:3] == ["看病义诊", "法律咨询", "种养技术"]
    cats = await categories_in_area(session, areas[0].id)
    assert [c.name_zh for c in cats] == [
        "义诊看病",
        "量血压测血糖",
        "健康知识讲座",
        "免费理发",
        "心理疏导",
    ]
    data = taole_data()  # an area whose categories are all gone drops out of the menu
    data["categories"] = [c for c in data["categories"] if c["area"] != "chores"]
    await sync_taole(session, data)
    assert "生活帮忙" not in {a.name_zh for a in await service_areas(session, town.id)}
