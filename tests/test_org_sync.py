"""Syncing the org config into a real database: idempotent, renames in place, deactivates
instead of deleting; two towns in one database; the summary and menu readers."""

from __future__ import annotations

from sqlalchemy import select

from models import Order, Platform, PlatformUnit, Region, ServiceCategory, Team, TeamLeadUnit, User
from services.org import (
    categories_in_area,
    load_org_config,
    org_summary,
    service_areas,
    station_choices,
    sync_org,
)
from tests.org_yaml import (
    EXAMPLE,
    PLATFORMS,
    STATIONS,
    TEAMS,
    row_counts,
    sync_taole,
    taole_data,
    unit_names,
)

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
