"""站所接单 · 派单 on the Taole configuration, against a real database: which units receive
each category, manual and auto dispatch, re-dispatch, escalation through the lead unit, triage
of needs not on the menu, and the refusals a dispatcher of another unit meets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    DispatchMode,
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    Platform,
    Region,
    Role,
    ServiceCategory,
    Team,
    Unit,
    User,
)
from models.db import make_engine, make_sessionmaker
from services import orders, people
from services.errors import Conflict, DomainError, NotAllowed, NotYourUnit
from services.orders import sla, units
from services.org import OrgConfigError, load_org_config, parse_org_config, sync_org
from services.outbox import DISPATCH_CARD, TRIAGE_CARD, NoticeKind
from services.points import PointsRules
from services.reminders import fire_due
from tests.factories import CTX, make_user, roles_for, slot

TAOLE = Path(__file__).resolve().parents[1] / "config" / "taole.yaml"
RULES = PointsRules(Decimal(10), Decimal(5), Decimal(5))
S = OrderStatus

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


def local(code: str) -> str:
    return code.removeprefix("taole.")


@dataclass
class Taole:
    """The Taole town as configured, with the people these tests need."""

    session: AsyncSession

    async def unit(self, code: str) -> Unit:
        return await self.session.scalar(select(Unit).where(Unit.code == f"taole.{code}"))

    async def team(self, code: str) -> Team:
        return await self.session.scalar(select(Team).where(Team.code == f"taole.{code}"))

    async def category(self, code: str) -> ServiceCategory:
        return await self.session.scalar(
            select(ServiceCategory).where(ServiceCategory.code == f"taole.{code}")
        )

    async def station(self, code: str) -> Region:
        return await self.session.scalar(select(Region).where(Region.code == f"taole.{code}"))

    async def dispatcher(self, unit: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.DISPATCHER, unit=await self.unit(unit))
        return user

    async def leader(self, team: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.TEAM_LEADER, team=await self.team(team))
        return user

    async def volunteer(self, team: str, name: str) -> User:
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.VOLUNTEER, team=await self.team(team))
        return user

    async def head(self, station: str, name: str) -> User:
        region = await self.station(station)
        user = await make_user(self.session, name=name, station=region)
        await people.appoint(self.session, user, Role.STATION_HEAD, region=region)
        return user

    async def office(self, name: str) -> User:
        town = await self.session.scalar(select(Region).where(Region.code == "taole"))
        user = await make_user(self.session, name=name)
        await people.appoint(self.session, user, Role.OFFICE, region=town)
        return user

    async def resident(self, station: str, name: str) -> User:
        return await make_user(self.session, name=name, station=await self.station(station))

    async def place(
        self, resident: User, category: str | None, text: str = "需要帮助", **kw: object
    ) -> Order:
        cat = await self.category(category) if category else None
        return await orders.create_order(
            self.session,
            CTX,
            resident=resident,
            placed_by=resident,
            roles=await roles_for(self.session, resident),
            category_id=cat.id if cat else None,
            description=text,
            preferred_date=None,
            preferred_slot="any",
            max_open=100,
            **kw,
        )


@pytest.fixture
async def taole(session: AsyncSession) -> Taole:
    await sync_org(session, load_org_config(TAOLE))
    await session.commit()
    return Taole(session)


async def fresh(session: AsyncSession, order_id: int) -> Order:
    return await session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )


async def queued(session: AsyncSession, kind: str, order_id: int) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.order_id == order_id)
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return [r for r in rows if r.payload.get("kind") == kind]


async def event_kinds(session: AsyncSession, order_id: int) -> list[str]:
    rows = await session.scalars(
        select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    )
    return list(rows)


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


# --- manual: 站所接单, then 派单 -----------------------------------------------------------


async def test_manual_dispatch_accept_done_rated(taole):
    s = taole.session
    zheng = await taole.dispatcher("culture_station", "郑联络员")
    law_leader = await taole.leader("law", "陈律师")
    theory_leader = await taole.leader("theory", "宣讲队长")
    law_vol = await taole.volunteer("law", "刘法官")
    head = await taole.head("dongjie", "东街书记")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()

    order = await taole.place(resident, "policy_talk", "想听听新的养老保险政策")
    assert (order.status, order.handler_kind, order.team_id) == (S.NEW, "unit", None)
    cards = await queued(s, DISPATCH_CARD, order.id)
    assert [c.user_id for c in cards] == [zheng.id] and cards[0].urgent
    assert not await queued(s, NoticeKind.ORDER_CARD, order.id)  # no leader yet
    assert head.id in {r.user_id for r in await queued(s, NoticeKind.ORDER_INFO, order.id)}
    culture = await taole.unit("culture_station")
    party = await taole.unit("party_office")
    assert [o.id for o in await orders.unit_queue(s, culture.id)] == [order.id]
    assert [o.id for o in await orders.unit_queue(s, party.id)] == [order.id]  # co-lead
    health_centre = await taole.unit("health_centre")
    assert await orders.unit_queue(s, health_centre.id) == []
    targets = {local(t.code) for t in await orders.dispatch_targets(s, order)}
    assert targets == {"theory", "law", "civility", "squad_dongjie"}

    zroles = await roles_for(s, zheng)
    assert Role.DISPATCHER in zroles.names()
    law = await taole.team("law")
    await orders.dispatch(s, CTX, order.id, zheng, zroles, law.id, version=order.version)
    order = await fresh(s, order.id)
    assert (order.status, order.team_id, order.handler_kind) == (S.ROUTED, law.id, "team")
    card = await queued(s, NoticeKind.ORDER_CARD, order.id)
    assert {c.user_id for c in card} == {law_leader.id}
    assert theory_leader.id not in {c.user_id for c in card}
    trail = await orders.trail(s, order)
    assert local(trail.platform.code) == "theory"
    assert {u.name_zh for u in trail.lead_units} == {"党政办公室", "文化站"}
    assert (trail.dispatcher.id, trail.team.id) == (zheng.id, law.id)

    lroles = await roles_for(s, law_leader)
    await orders.accept(s, order.id, law_leader, lroles)
    start, end = slot()
    await orders.assign(s, CTX, order.id, law_leader, lroles, [law_vol.id], start, end)
    vroles = await roles_for(s, law_vol)
    await orders.start(s, order.id, law_vol, vroles)
    await orders.complete(
        s, CTX, order.id, law_vol, vroles, [("p1", "u1", None)], {law_vol.id: Decimal(2)}, "讲完了"
    )
    await orders.rate(s, order.id, resident, 5, rules=RULES)
    assert (await fresh(s, order.id)).status == S.RATED
    history = await orders.history(s, order.id, zheng, zroles)  # the unit follows it
    assert [h.kind for h in history][:4] == ["created", "received", "dispatched", "accepted"]
    assert history[2].actor_id == zheng.id and history[2].team_id == law.id


async def test_manual_platform_without_a_dispatcher_goes_out_at_once(taole):
    s = taole.session
    leader = await taole.leader("theory", "宣讲队长")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    order = await taole.place(resident, "bench_class")
    assert (order.status, order.handler_kind) == (S.ROUTED, "team")
    assert leader.id in {c.user_id for c in await queued(s, NoticeKind.ORDER_CARD, order.id)}
    note = await s.scalar(
        select(OrderEvent.note).where(
            OrderEvent.order_id == order.id, OrderEvent.kind == "received"
        )
    )
    assert "dispatch manual" in note and "no dispatcher appointed" in note


async def test_two_dispatchers_at_once_one_wins(taole, sessionmaker):
    await _race(taole, sessionmaker)


async def test_two_dispatchers_at_once_one_wins_on_postgresql(postgres_url):
    engine = make_engine(postgres_url)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as s:
            await sync_org(s, load_org_config(TAOLE))
            await s.commit()
            await _race(Taole(s), maker)
    finally:
        await engine.dispose()


async def _race(taole: Taole, maker: async_sessionmaker[AsyncSession]) -> None:
    s = taole.session
    zheng = await taole.dispatcher("culture_station", "郑联络员")
    ma = await taole.dispatcher("party_office", "马联络员")
    await taole.leader("theory", "宣讲队长")
    await taole.leader("law", "陈律师")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    order = await taole.place(resident, "policy_talk")
    picks = {zheng.id: (await taole.team("theory")).id, ma.id: (await taole.team("law")).id}

    async def press(user_id: int) -> int | Conflict:
        async with maker() as other:
            user = await other.get(User, user_id)
            try:
                await orders.dispatch(
                    other, CTX, order.id, user, await roles_for(other, user), picks[user_id]
                )
            except Conflict as exc:
                return exc
            return user_id

    results = await asyncio.gather(press(zheng.id), press(ma.id))
    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1 and sum(isinstance(r, Conflict) for r in results) == 1
    order = await fresh(s, order.id)
    assert order.team_id == picks[winners[0]]
    assert (await event_kinds(s, order.id)).count("dispatched") == 1


# --- auto: the leader at once, re-dispatch before accept ---------------------------------


async def test_auto_goes_to_the_leader_and_the_unit_may_redispatch_before_accept(taole):
    s = taole.session
    tian = await taole.dispatcher("health_centre", "田联络员")
    doctor = await taole.leader("health", "张医生")
    head = await taole.head("dongjie", "东街书记")  # leads the 东街 squad
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()

    order = await taole.place(resident, "free_clinic")
    assert (order.status, order.team_id) == (S.ROUTED, (await taole.team("health")).id)
    assert {c.user_id for c in await queued(s, NoticeKind.ORDER_CARD, order.id)} == {doctor.id}
    assert not await queued(s, DISPATCH_CARD, order.id)
    health_centre = await taole.unit("health_centre")
    assert [o.id for o in await orders.unit_queue(s, health_centre.id)] == [order.id]
    trail = await orders.trail(s, order)
    assert trail.platform is None and trail.dispatcher is None
    assert {u.name_zh for u in trail.lead_units} == {"计生站", "卫生院"}

    troles = await roles_for(s, tian)
    squad = await taole.team("squad_dongjie")
    with pytest.raises(DomainError):  # a reason is required
        await orders.redispatch(s, CTX, order.id, tian, troles, squad.id, " ")
    await orders.redispatch(s, CTX, order.id, tian, troles, squad.id, "村里的卫生室更近")
    order = await fresh(s, order.id)
    assert (order.team_id, order.handler_kind) == (squad.id, "squad")
    told = await queued(s, NoticeKind.TEXT, order.id)
    assert doctor.id in {t.user_id for t in told}
    with pytest.raises(NotAllowed):  # the old card is no longer his
        await orders.accept(s, order.id, doctor, await roles_for(s, doctor))
    await orders.accept(s, order.id, head, await roles_for(s, head))
    with pytest.raises(Conflict):  # accepted: too late to re-dispatch
        await orders.redispatch(
            s, CTX, order.id, tian, troles, (await taole.team("health")).id, "x"
        )
    assert (await orders.trail(s, await fresh(s, order.id))).dispatcher.id == tian.id


# --- escalation: team → lead unit → office ---------------------------------------------


async def test_no_answer_goes_to_the_lead_unit_then_the_office(taole, sessionmaker):
    s = taole.session
    tian = await taole.dispatcher("health_centre", "田联络员")
    doctor = await taole.leader("health", "张医生")
    head = await taole.head("dongjie", "东街书记")
    office = await taole.office("所办公室")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    order = await taole.place(resident, "free_clinic")
    routed = order.routed_at

    async def tick(after: timedelta) -> None:
        await fire_due(sessionmaker, routed + after, ctx=CTX, worker="test", handlers=sla.HANDLERS)

    await tick(timedelta(hours=2, seconds=1))
    order = await fresh(s, order.id)
    assert (order.status, order.handler_kind, order.escalated) == (S.NEW, "unit", True)
    cards = await queued(s, DISPATCH_CARD, order.id)
    assert [c.user_id for c in cards] == [tian.id] and cards[0].payload["escalated"]
    alerts = await queued(s, NoticeKind.ESCALATION, order.id)
    assert {a.user_id for a in alerts} == {head.id}  # the office is not next in line yet
    assert "to_unit" in await event_kinds(s, order.id)
    with pytest.raises(NotAllowed):  # it is no longer the team's
        await orders.accept(s, order.id, doctor, await roles_for(s, doctor))

    await tick(timedelta(hours=4, seconds=2))
    order = await fresh(s, order.id)
    assert (order.status, order.handler_kind, order.team_id) == (S.ROUTED, "office", None)
    cards = await queued(s, NoticeKind.ORDER_CARD, order.id)
    assert office.id in {c.user_id for c in cards if c.payload["version"] == order.version}
    alerts = await queued(s, NoticeKind.ESCALATION, order.id)
    assert [a.user_id for a in alerts] == [head.id, head.id]  # told at both steps
    await orders.accept(s, order.id, office, await roles_for(s, office))


async def test_without_dispatchers_escalation_is_as_before(taole, sessionmaker):
    s = taole.session
    await taole.leader("health", "张医生")
    head = await taole.head("dongjie", "东街书记")
    office = await taole.office("所办公室")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    order = await taole.place(resident, "free_clinic")
    await fire_due(
        sessionmaker,
        order.routed_at + timedelta(hours=2, seconds=1),
        ctx=CTX,
        worker="t",
        handlers=sla.HANDLERS,
    )
    order = await fresh(s, order.id)
    assert (order.status, order.handler_kind) == (S.ROUTED, "squad")
    alerts = await queued(s, NoticeKind.ESCALATION, order.id)
    assert {a.user_id for a in alerts} == {head.id, office.id}


# --- every need heard: «其他需求» and triage --------------------------------------------


async def test_a_need_not_on_the_menu_is_triaged_then_routed(taole):
    s = taole.session
    office = await taole.office("所办公室")
    zheng = await taole.dispatcher("culture_station", "郑联络员")
    helper = await taole.leader("poverty", "扶贫队长")
    resident = await taole.resident("miaomiaohu", "王大妈")
    await s.commit()

    order = await taole.place(resident, None, "我家水管漏水了，能来人帮忙修一下吗")
    assert (order.status, order.handler_kind, order.category_id) == (S.NEW, "office", None)
    assert [c.user_id for c in await queued(s, TRIAGE_CARD, order.id)] == [office.id]
    with pytest.raises(NotAllowed):
        category = await taole.category("home_repair")
        await orders.triage(s, CTX, order.id, zheng, await roles_for(s, zheng), category.id)

    oroles = await roles_for(s, office)
    await orders.triage(s, CTX, order.id, office, oroles, (await taole.category("home_repair")).id)
    order = await fresh(s, order.id)
    assert (order.status, order.team_id) == (S.ROUTED, (await taole.team("poverty")).id)
    assert helper.id in {c.user_id for c in await queued(s, NoticeKind.ORDER_CARD, order.id)}
    assert await event_kinds(s, order.id) == [
        "created",
        "received",
        "triaged",
        "received",
        "routed",
    ]
    with pytest.raises(Conflict):  # triaged once
        await orders.triage(s, CTX, order.id, office, oroles, (await taole.category("errands")).id)


async def test_a_voice_note_is_triaged_onto_a_manual_platform(taole):
    s = taole.session
    office = await taole.office("所办公室")
    zheng = await taole.dispatcher("culture_station", "郑联络员")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    voice = [("voice", "voice-file-1", "voice-uniq-1", None)]
    order = await taole.place(resident, None, "", attachments=voice)
    assert order.handler_kind == "office"
    oroles = await roles_for(s, office)
    await orders.triage(
        s, CTX, order.id, office, oroles, (await taole.category("simple_ceremony")).id
    )
    order = await fresh(s, order.id)
    assert (order.status, order.handler_kind) == (S.NEW, "unit")  # 理论宣讲平台 is manual
    assert [c.user_id for c in await queued(s, DISPATCH_CARD, order.id)] == [zheng.id]


async def test_the_office_answers_a_need_in_its_own_words(taole):
    s = taole.session
    office = await taole.office("所办公室")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    order = await taole.place(resident, None, "低保怎么申请？")
    oroles = await roles_for(s, office)
    await orders.reply_to_resident(s, order.id, office, oroles, "请问您家几口人？")
    assert (await fresh(s, order.id)).status == S.NEW  # a question back: still open
    await orders.reply_to_resident(
        s, order.id, office, oroles, "请带户口本到镇民政窗口办理。", close=True
    )
    order = await fresh(s, order.id)
    assert order.status == S.CANCELLED
    replies = await queued(s, NoticeKind.TEXT, order.id)
    assert [r.user_id for r in replies] == [resident.id, resident.id]
    assert replies[1].payload["params"]["text"] == "请带户口本到镇民政窗口办理。"
    with pytest.raises(NotAllowed):
        await orders.reply_to_resident(s, order.id, resident, await roles_for(s, resident), "x")


# --- refusals: a dispatcher of another unit -----------------------------------------------


async def test_a_dispatcher_of_another_unit_is_refused(taole):
    s = taole.session
    tian = await taole.dispatcher("health_centre", "田联络员")
    zheng = await taole.dispatcher("culture_station", "郑联络员")
    await taole.leader("theory", "宣讲队长")
    await taole.leader("health", "张医生")
    resident = await taole.resident("dongjie", "马大爷")
    await s.commit()
    talk = await taole.place(resident, "policy_talk")
    theory = await taole.team("theory")
    troles = await roles_for(s, tian)
    with pytest.raises(NotYourUnit) as refused:  # a forged button: 卫生院 leads no 理论宣讲平台
        await orders.dispatch(s, CTX, talk.id, tian, troles, theory.id)
    assert refused.value.message == "This order was not received by your unit."
    zroles = await roles_for(s, zheng)
    with pytest.raises(NotYourUnit):  # 文化站 may not hand it to a team off the platform
        await orders.dispatch(s, CTX, talk.id, zheng, zroles, (await taole.team("health")).id)
    clinic = await taole.place(resident, "free_clinic")
    with pytest.raises(NotYourUnit):
        await orders.redispatch(s, CTX, clinic.id, zheng, zroles, theory.id, "试试")
    assert (await fresh(s, talk.id)).status == S.NEW
    assert await event_kinds(s, talk.id) == ["created", "received"]
    await orders.cancel(s, talk.id, resident, await roles_for(s, resident))
    told = await queued(s, NoticeKind.TEXT, talk.id)  # the unit holding it hears of it
    assert [t.user_id for t in told] == [zheng.id]


# --- units as actors ---------------------------------------------------------------------


async def test_a_dispatcher_is_appointed_by_invite_and_office_may_appoint(taole):
    s = taole.session
    culture = await taole.unit("culture_station")
    office = await taole.office("所办公室")
    oroles = await roles_for(s, office)
    assert people.can_appoint(oroles, Role.DISPATCHER, town_id=culture.town_id, team_id=None)
    invite = await people.create_invite(s, Role.DISPATCHER, by=office, unit=culture)
    newcomer = await make_user(s, name="新联络员")
    await people.redeem_invite(s, invite.code, newcomer)
    await s.commit()
    roles = await roles_for(s, newcomer)
    assert roles.dispatches_for == {culture.id} and roles.is_staff
    assert [u.id for u in await people.unit_dispatchers(s, [culture.id])] == [newcomer.id]
    assert any(line.where == "文化站" for line in await people.staff_list(s))


async def test_a_party_member_reports_to_a_work_unit(taole):
    s = taole.session
    justice = await taole.unit("justice_office")
    member = await make_user(s, name="党员")
    with pytest.raises(DomainError):
        await people.set_work_unit(s, member, justice)
    member.is_party_member = True
    await people.set_work_unit(s, member, justice)
    await s.commit()
    assert (await s.get(User, member.id)).work_unit_id == justice.id


# --- the loader checks the new fields ------------------------------------------------------


def _taole_data() -> dict:
    return yaml.safe_load(TAOLE.read_text(encoding="utf-8"))


def test_config_refuses_dispatch_on_a_team_with_a_platform():
    data = _taole_data()
    data["teams"][0]["dispatch"] = "manual"  # 理论宣讲志愿服务队, on the 理论宣讲平台
    with pytest.raises(OrgConfigError) as exc:
        parse_org_config(data)
    assert "teams[0] (code=theory).dispatch: only for a team on no platform" in str(exc.value)


def test_config_refuses_an_auto_platform_that_can_suggest_no_team():
    data = _taole_data()
    data["platforms"][1]["responsible"] = []  # 教育服务平台
    data["platforms"][1]["lead"] = ["school"]
    with pytest.raises(OrgConfigError) as exc:
        parse_org_config(data)
    assert "categories[13] (code=homework): team 'education' has no lead unit" in str(exc.value)
    data["platforms"][1]["dispatch"] = "manual"  # then its dispatcher always picks
    assert parse_org_config(data).platforms[1].dispatch == "manual"


def test_config_refuses_an_unknown_dispatch_mode():
    data = _taole_data()
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
