"""站所接单 · 派单 in the chat, end to end through the simulator: on the manual 理论宣讲平台
the 文化站 dispatcher gets the dispatch card and picks the team, whose leader accepts; a
dispatcher of another unit pressing a forged button is refused; the institute office sorts a
«其他需求» order into a service, or answers the resident."""

from __future__ import annotations

from sqlalchemy import select

from models import OrderEvent, OrderStatus, Role, ServiceCategory, Unit, User
from services import orders, people
from tests.factories import roles_for
from tests.flows import order_by_number, order_through_chat
from views.dispatch import DispatchTo, ReplyToResident, TriageArea

POLICY_AREA, POLICY_TALK = "Policies explained", "Benefit policies explained"
LAW_TEAM = "Legal Awareness Volunteer Team"
THEORY_TEAM = "Theory and Policy Talks Volunteer Team"


async def appoint_dispatcher(env, sim_user, unit_code: str) -> None:
    async with env.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.tg_id == sim_user.id))
        unit = await s.scalar(select(Unit).where(Unit.code == f"taole.{unit_code}"))
        await people.appoint(s, user, Role.DISPATCHER, unit=unit)
        await s.commit()


async def event_kinds(env, order_id: int) -> list[str]:
    async with env.sessionmaker() as s:
        rows = await s.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        )
        return list(rows)


async def test_the_unit_dispatches_and_the_team_accepts(bot_env):
    env = bot_env
    law_leader = await env.person("Lawyer Chen", role=Role.TEAM_LEADER, team="law")
    zheng = await env.person("Zheng", station="dongjie")
    await appoint_dispatcher(env, zheng, "culture_station")
    zheng2 = await env.person("郑二", station="dongjie", lang="zh_CN")
    await appoint_dispatcher(env, zheng2, "culture_station")
    tian = await env.person("Tian", station="dongjie")
    await appoint_dispatcher(env, tian, "health_centre")
    resident = await env.person("Grandpa Ma", station="dongjie", phone="+8613911112222")

    number = await order_through_chat(
        resident,
        area=POLICY_AREA,
        category=POLICY_TALK,
        need="Explain the new pension rules",
        day="This week",
    )
    order = await order_by_number(env, number)
    assert (order.status, order.handler_kind, order.team_id) == (OrderStatus.NEW, "unit", None)

    card = await zheng.expect(contains=number)
    assert "Platform: Theory and Policy Talks Platform" in card.text
    assert "Lead unit:" in card.text and "Culture Station" in card.text
    assert "+8613911112222" not in card.text  # no phone before a team takes it
    assert f"⭐ {THEORY_TEAM} (suggested)" in card.buttons()
    assert LAW_TEAM in card.buttons()

    # the same card in Chinese: no English on it
    zh_card = await zheng2.expect(contains=number)
    assert "平台：理论宣讲平台" in zh_card.text and "牵头单位：党政办公室、文化站" in zh_card.text
    assert "Platform" not in zh_card.text and "Team" not in zh_card.text
    assert "法律普及志愿服务队" in zh_card.buttons()
    assert any(b.endswith("（建议）") for b in zh_card.buttons())

    # a dispatcher of 卫生院 replays the button in their own chat: refused, nothing changes
    law_data = card.button(LAW_TEAM).callback_data
    assert law_data is not None and len(law_data.encode()) <= 64
    assert DispatchTo.unpack(law_data).order_id == order.id
    await tian.press_data((await tian.history())[-1], law_data)
    refused = await tian.callback_answer()
    assert refused.show_alert and "not received by your unit" in refused.text
    still = await order_by_number(env, number)
    assert (still.status, still.version, still.team_id) == (OrderStatus.NEW, order.version, None)
    assert await event_kinds(env, order.id) == ["created", "received"]

    await zheng.press(LAW_TEAM, message=card)
    assert not (await zheng.callback_answer()).show_alert
    done = await zheng.expect_edit(card.message_id)
    assert f"Dispatched to {LAW_TEAM} by Zheng" in done.text
    assert done.buttons() == []
    # the other dispatcher's card loses its buttons too: nobody dispatches it twice
    closed = await zheng2.expect_edit(zh_card.message_id)
    assert closed.buttons() == [] and "已经转交" in closed.text

    offered = await law_leader.expect(contains=number)
    await law_leader.press("✅ Accept", message=offered)
    accepted = await law_leader.expect_edit(offered.message_id)
    assert "+8613911112222" in accepted.text
    await resident.expect(contains="accepted")
    order = await order_by_number(env, number)
    assert order.status == OrderStatus.ACCEPTED
    assert await event_kinds(env, order.id) == ["created", "received", "dispatched", "accepted"]


async def test_the_office_triages_a_need_and_answers_another(bot_env):
    env = bot_env
    office = await env.person("Office Liu", role=Role.OFFICE)
    helper = await env.person("Helper Wu", role=Role.TEAM_LEADER, team="poverty")
    resident = await env.person("Grandma Wang")
    async with env.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.tg_id == resident.id))
        roles = await roles_for(s, user)
        kwargs = dict(
            resident=user,
            placed_by=user,
            roles=roles,
            category_id=None,
            preferred_date=None,
            preferred_slot="any",
            max_open=100,
        )
        leak = await orders.create_order(
            s, env.dp["ctx"], description="My water pipe is leaking", **kwargs
        )
        question = await orders.create_order(
            s, env.dp["ctx"], description="How do I apply for aid?", **kwargs
        )
        repair = await s.scalar(
            select(ServiceCategory).where(ServiceCategory.code == "taole.home_repair")
        )
        area_id = repair.area_id
        await s.commit()

    card = await office.expect(contains=leak.number)
    assert "water pipe" in card.text
    await office.press_data(card, TriageArea(order_id=leak.id, area_id=area_id).pack())
    opened = await office.expect_edit(card.message_id)
    repair_name = next(b for b in opened.buttons() if "repair" in b.lower())
    await office.press(repair_name, message=opened)
    sorted_card = await office.expect_edit(card.message_id)
    assert "Sorted into" in sorted_card.text and sorted_card.buttons() == []
    await helper.expect(contains=leak.number)
    assert (await order_by_number(env, leak.number)).status == OrderStatus.ROUTED

    # the resident forges the office's buttons: refused, shown nothing (first every notice
    # of the sorting, «passed to …», has reached them, so nothing else can arrive meanwhile)
    await resident.expect(contains="passed to")
    await env.idle()
    mine = (await resident.history())[-1]
    await resident.press_data(mine, TriageArea(order_id=question.id, area_id=area_id).pack())
    refused = await resident.callback_answer()
    assert refused.show_alert and "Only the institute office" in refused.text
    await resident.press_data(mine, ReplyToResident(order_id=question.id).pack())
    refused = await resident.callback_answer()
    assert refused.show_alert and "Only the institute office" in refused.text
    assert (await resident.history())[-1] == mine  # nothing asked of them

    asked = await office.expect(contains=question.number)
    await office.press("✉ Reply to the resident", message=asked)
    await office.expect(contains="Write your reply")
    await office.send("Please bring your household register to the town hall.")
    await office.expect(contains="Sent to the resident")
    told = await resident.expect(contains="household register")
    assert question.number in told.text
    assert (await order_by_number(env, question.number)).status == OrderStatus.NEW
