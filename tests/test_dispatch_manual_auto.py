"""派单 on the Taole configuration: a dispatcher hands a manual platform's order to a team,
two dispatchers race, an auto order goes to the leader and may be re-dispatched before
accept, and a dispatcher of another unit is refused."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import OrderEvent, Role, User
from models.db import make_engine, make_sessionmaker
from services import orders
from services.errors import Conflict, DomainError, NotAllowed, NotYourUnit
from services.outbox import DISPATCH_CARD, NoticeKind
from tests.factories import CTX, roles_for, slot
from tests.order_checks import RULES, S, reload
from tests.taole_town import Taole, event_kinds, local, queued

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
    order = await reload(s, order.id)
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
    assert (await reload(s, order.id)).status == S.RATED
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
            await _race(await Taole.synced(s), maker)
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
    order = await reload(s, order.id)
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
    order = await reload(s, order.id)
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
    assert (await orders.trail(s, await reload(s, order.id))).dispatcher.id == tian.id


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
    assert (await reload(s, talk.id)).status == S.NEW
    assert await event_kinds(s, talk.id) == ["created", "received"]
    await orders.cancel(s, talk.id, resident, await roles_for(s, resident))
    told = await queued(s, NoticeKind.TEXT, talk.id)  # the unit holding it hears of it
    assert [t.user_id for t in told] == [zheng.id]
