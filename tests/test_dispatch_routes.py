"""站所接单 on the Taole configuration: which platform, lead units and team receive each
category (the routing table written from the plan), and what the loader refuses."""

from __future__ import annotations

import pytest

from models import DispatchMode, Platform, Team
from services import orders
from services.orders import units
from services.org import OrgConfigError, load_org_config, parse_org_config
from tests.factories import roles_for
from tests.order_checks import S
from tests.org_yaml import TAOLE, taole_data
from tests.taole_town import local

# --- the routing table, written from the plan (陶党发〔2020〕11号), not from the code -------
#
# Lead units of the six platforms (「牵头单位」): 理论宣讲 党政办公室、文化站; 教育服务 文化站;
# 文化服务 文化站; 科技科普 农业服务中心、畜牧站; 健身体育 文化站; 融媒体 党政办公室、文化站.
# Teams the plan ties to a platform's 载体: 理论宣讲 (主题党日、板凳课堂…: 理论宣讲平台),
# 教育帮扶 (儿童之家、四点半课堂: 教育), 文化体育 (文化体育广场: 文化 / 健身体育), 科技科普
# (科技科普服务平台), 法律普及 (「利用宣讲平台」), 文明实践 (「道德讲堂」, a resource of the
# 理论宣讲平台). 卫生健康, 扶贫帮扶, 优秀人士: no platform, so their own lead units receive.
# 大喇叭 is 农村广播, on the 文化服务平台; 大屏幕 短片 on the 融媒体服务平台.
# Dispatch: manual only on the 理论宣讲平台 (three teams to choose from); elsewhere auto.
THEORY = ("theory", {"party_office", "culture_station"}, "manual")
HEALTH = (None, {"family_planning", "health_centre"}, "auto")
POVERTY = (None, {"poverty_office", "village_work_team"}, "auto")
ELITES = (None, {"party_office"}, "auto")
SCIENCE = ("science", {"agri_centre", "livestock_station"}, "auto")
EDUCATION = ("education", {"culture_station"}, "auto")
CULTURE = ("culture", {"culture_station"}, "auto")
FITNESS = ("fitness", {"culture_station"}, "auto")
MEDIA = ("media", {"party_office", "culture_station"}, "auto")

ROUTES: dict[str, tuple[tuple[str | None, set[str], str], str]] = {
    # 看病义诊: 卫生健康志愿服务队 (义诊、卫生宣传、环境整治、免费理发; 心理疏导 given to it)
    "free_clinic": (HEALTH, "health"),
    "bp_sugar": (HEALTH, "health"),
    "health_talk": (HEALTH, "health"),
    "haircut": (HEALTH, "health"),
    "counselling": (HEALTH, "health"),
    "cleanup": (HEALTH, "health"),
    # 法律咨询: 法律普及志愿服务队 on the 宣讲平台 (司法所 is a responsible unit there)
    "legal_advice": (THEORY, "law"),
    "mediation": (THEORY, "law"),
    "unpaid_wages": (THEORY, "law"),
    "anti_fraud": (THEORY, "law"),
    # 种养技术: 科技科普志愿服务队
    "crop_pests": (SCIENCE, "science"),
    "planting": (SCIENCE, "science"),
    "cattle_sheep": (SCIENCE, "science"),
    "sick_livestock": (SCIENCE, "science"),
    "field_class": (SCIENCE, "science"),
    # 孩子学习: 教育帮扶志愿服务队
    "homework": (EDUCATION, "education"),
    "after_school": (EDUCATION, "education"),
    "reading": (EDUCATION, "education"),
    "red_education": (EDUCATION, "education"),
    # 文艺体育: 文化体育志愿服务队
    "performance": (CULTURE, "culture_sports"),
    "square_dance": (CULTURE, "culture_sports"),
    "calligraphy": (CULTURE, "culture_sports"),
    "sports_games": (FITNESS, "culture_sports"),
    "fitness_coaching": (FITNESS, "culture_sports"),
    # 政策宣讲: 理论宣讲志愿服务队
    "policy_talk": (THEORY, "theory"),
    "bench_class": (THEORY, "theory"),
    "topic_lecture": (THEORY, "theory"),
    "loudspeaker": (CULTURE, "theory"),
    "big_screen": (MEDIA, "theory"),
    # 移风易俗 and care: 文明实践志愿服务队 (道德讲堂 on the 理论宣讲平台)
    "simple_ceremony": (THEORY, "civility"),
    "family_values": (THEORY, "civility"),
    "good_deeds": (THEORY, "civility"),
    "defence_education": (THEORY, "civility"),
    "elderly_meals": (THEORY, "civility"),
    "disability_help": (THEORY, "civility"),
    "heart_talk": (THEORY, "civility"),
    # 帮扶救助, 致富创业, 生活帮忙: 扶贫帮扶 / 优秀人士志愿服务队
    "hardship_help": (POVERTY, "poverty"),
    "medical_aid": (POVERTY, "poverty"),
    "school_aid": (POVERTY, "poverty"),
    "find_work": (POVERTY, "poverty"),
    "industry_support": (POVERTY, "poverty"),
    "errands": (POVERTY, "poverty"),
    "home_repair": (POVERTY, "poverty"),
    "startup_advice": (ELITES, "elites"),
    "success_stories": (ELITES, "elites"),
}


# --- the routing table ------------------------------------------------------------------


def test_every_category_of_taole_has_an_expected_route():
    cfg = load_org_config(TAOLE)
    assert {c.code for c in cfg.categories} == set(ROUTES)


async def test_routing_table_follows_the_plan(taole):
    s = taole.session
    got, want = {}, {}
    for code, ((platform, leads, mode), team) in ROUTES.items():
        received = await units.reception(s, await taole.category(code))
        assert received is not None, code
        got[code] = (
            local(received.platform.code) if received.platform else None,
            {local(u.code) for u in received.lead_units},
            received.mode.value,
            local(received.suggested.code) if received.suggested else None,
        )
        want[code] = (platform, leads, mode, team)
    assert got == want


async def test_each_route_is_taken_by_a_real_order(taole):
    """Without dispatchers every order goes out at once to its suggested team; the order
    remembers the platform that received it."""
    s = taole.session
    resident = await taole.resident("miaomiaohu", "王大妈")
    for team in {team for _route, team in ROUTES.values()}:
        await taole.leader(team, f"{team}队长")
    await s.commit()
    for code, ((platform, _leads, _mode), team) in ROUTES.items():
        order = await taole.place(resident, code)
        assert (order.status, local((await s.get(Team, order.team_id)).code)) == (S.ROUTED, team)
        got = await s.get(Platform, order.platform_id) if order.platform_id else None
        assert (local(got.code) if got else None) == platform, code
        await orders.cancel(s, order.id, resident, await roles_for(s, resident))


# --- the loader checks the new fields ------------------------------------------------------


def test_config_refuses_dispatch_on_a_team_with_a_platform():
    data = taole_data()
    data["teams"][0]["dispatch"] = "manual"  # 理论宣讲志愿服务队, on the 理论宣讲平台
    with pytest.raises(OrgConfigError) as exc:
        parse_org_config(data)
    assert "teams[0] (code=theory).dispatch: only for a team on no platform" in str(exc.value)


def test_config_refuses_an_auto_platform_that_can_suggest_no_team():
    data = taole_data()
    data["platforms"][1]["responsible"] = []  # 教育服务平台
    data["platforms"][1]["lead"] = ["school"]
    with pytest.raises(OrgConfigError) as exc:
        parse_org_config(data)
    assert "categories[13] (code=homework): team 'education' has no lead unit" in str(exc.value)
    data["platforms"][1]["dispatch"] = "manual"  # then its dispatcher always picks
    assert parse_org_config(data).platforms[1].dispatch == "manual"


def test_config_refuses_an_unknown_dispatch_mode():
    data = taole_data()
    data["platforms"][0]["dispatch"] = "sometimes"
    with pytest.raises(OrgConfigError) as exc:
        parse_org_config(data)
    assert "platforms[0] (code=theory).dispatch" in str(exc.value)


def test_town_additions_are_marked():
    cfg = load_org_config(TAOLE)
    added = {c.code for c in cfg.categories if c.town_addition}
    assert {"home_repair", "errands", "bp_sugar", "unpaid_wages"} <= added
    assert not added & {"free_clinic", "haircut", "bench_class", "elderly_meals", "counselling"}
    assert cfg.corps is not None and cfg.corps.name_zh == "陶乐镇新时代文明实践服务分队"
    assert DispatchMode(cfg.platforms[0].dispatch) == DispatchMode.MANUAL
