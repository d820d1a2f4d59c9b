"""Escalation through the lead unit to the office, triage of needs not on the menu, and
units as actors (dispatchers by invite, party members' work units)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import Role, User
from services import orders, people
from services.errors import Conflict, DomainError, NotAllowed
from services.orders import sla
from services.outbox import DISPATCH_CARD, TRIAGE_CARD, NoticeKind
from services.reminders import fire_due
from tests.factories import CTX, make_user, roles_for
from tests.order_checks import S, reload
from tests.taole_town import event_kinds, queued

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
    order = await reload(s, order.id)
    assert (order.status, order.handler_kind, order.escalated) == (S.NEW, "unit", True)
    cards = await queued(s, DISPATCH_CARD, order.id)
    assert [c.user_id for c in cards] == [tian.id] and cards[0].payload["escalated"]
    alerts = await queued(s, NoticeKind.ESCALATION, order.id)
    assert {a.user_id for a in alerts} == {head.id}  # the office is not next in line yet
    assert "to_unit" in await event_kinds(s, order.id)
    with pytest.raises(NotAllowed):  # it is no longer the team's
        await orders.accept(s, order.id, doctor, await roles_for(s, doctor))

    await tick(timedelta(hours=4, seconds=2))
    order = await reload(s, order.id)
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
    order = await reload(s, order.id)
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
    order = await reload(s, order.id)
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
    order = await reload(s, order.id)
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
    assert (await reload(s, order.id)).status == S.NEW  # a question back: still open
    await orders.reply_to_resident(
        s, order.id, office, oroles, "请带户口本到镇民政窗口办理。", close=True
    )
    order = await reload(s, order.id)
    assert order.status == S.CANCELLED
    replies = await queued(s, NoticeKind.TEXT, order.id)
    assert [r.user_id for r in replies] == [resident.id, resident.id]
    assert replies[1].payload["params"]["text"] == "请带户口本到镇民政窗口办理。"
    with pytest.raises(NotAllowed):
        await orders.reply_to_resident(s, order.id, resident, await roles_for(s, resident), "x")


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
