"""Placing an order routes it: numbering, the category's team, the station squad, the
office; declines, transfers and time-outs move it down the candidates."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Assignment, AssignmentStatus, OutboxMessage, OutboxStatus, Role
from services import orders
from services.errors import DomainError, NotAllowed
from services.orders import routing
from services.outbox import NoticeKind
from services.people import dismiss
from tests.factories import CTX, assigned_order, place_order, roles_for
from tests.order_checks import S, last_id, order_events, outbox, reload, sent_to

# --- creating and routing -------------------------------------------------------------


async def test_order_is_numbered_routed_to_the_category_team_and_the_head_informed(session, cast):
    out0 = await last_id(session, OutboxMessage)
    first = await place_order(session, cast.resident, cast.org.clinic)
    second = await place_order(session, cast.neighbour, cast.org.clinic)
    assert re.fullmatch(r"TA-\d{8}-0001", first.number)
    assert second.number == first.number[:-4] + "0002"
    assert (first.status, first.team_id, first.handler_kind) == (
        S.ROUTED,
        cast.org.health.id,
        "team",
    )
    created, routed = await order_events(session, first.id)
    assert (created.kind, created.to_status) == ("created", "new")
    assert (routed.kind, routed.from_status, routed.to_status) == ("routed", "new", "routed")
    assert "team 卫生健康志愿服务队" in routed.note
    sent = sent_to(await outbox(session, out0, first.id))
    assert sent == {
        (NoticeKind.ORDER_CARD, cast.health_leader.id),
        (NoticeKind.ORDER_CARD, cast.health_leader2.id),
        (NoticeKind.ORDER_INFO, cast.east_head.id),
    }  # the resident placed it: the handler replies, no notice to them


async def test_team_without_leader_goes_to_the_station_squad(session, cast):
    await dismiss(session, cast.law_leader, Role.TEAM_LEADER)
    order = await place_order(session, cast.resident, cast.org.legal)
    assert (order.team_id, order.handler_kind) == (cast.org.east_squad.id, "squad")
    routed = (await order_events(session, order.id))[-1]
    assert routed.note == (
        "new order: team 法律普及志愿服务队 has no active leader; "
        "station squad 东街社区志愿服务小分队"
    )
    cards = [r for r in await outbox(session, 0, order.id) if r.payload["kind"] == "order_card"]
    assert [r.user_id for r in cards] == [cast.east_head.id]
    # The head got the card, so no separate ORDER_INFO for them.
    assert sent_to(await outbox(session, 0, order.id)) == {
        (NoticeKind.ORDER_CARD, cast.east_head.id)
    }


@pytest.mark.parametrize("unreachable", ["blocked", "banned"])
async def test_a_leader_who_blocked_the_bot_or_is_banned_is_passed_over(session, cast, unreachable):
    """The law team's only leader blocked the bot (or was banned): the order goes to the
    next candidate, the resident's station squad, at once and not after a timeout; of two
    health leaders, the reachable one alone gets the card."""
    for leader in (cast.law_leader, cast.health_leader):
        setattr(leader, unreachable, True)
    await session.flush()
    order = await place_order(session, cast.resident, cast.org.legal)
    assert (order.status, order.team_id, order.handler_kind) == (
        S.ROUTED,
        cast.org.east_squad.id,
        "squad",
    )
    assert (await order_events(session, order.id))[-1].note == (
        "new order: team 法律普及志愿服务队 has no active leader; "
        "station squad 东街社区志愿服务小分队"
    )
    assert sent_to(await outbox(session, 0, order.id)) == {
        (NoticeKind.ORDER_CARD, cast.east_head.id)
    }
    clinic = await place_order(session, cast.neighbour, cast.org.clinic)
    assert clinic.team_id == cast.org.health.id
    cards = [r for r in await outbox(session, 0, clinic.id) if r.payload["kind"] == "order_card"]
    assert [r.user_id for r in cards] == [cast.health_leader2.id]


async def test_no_team_leader_and_no_squad_leader_goes_to_the_office(session, cast):
    await dismiss(session, cast.law_leader, Role.TEAM_LEADER)
    await dismiss(session, cast.east_head, Role.TEAM_LEADER)  # still head, no longer leads squad
    order = await place_order(session, cast.resident, cast.org.legal)
    assert (order.team_id, order.handler_kind) == (None, "office")
    note = (await order_events(session, order.id))[-1].note
    assert "has no active leader; station squad 东街社区志愿服务小分队 has no active leader" in note
    assert note.endswith("the institute office")
    assert sent_to(await outbox(session, 0, order.id)) == {
        (NoticeKind.ORDER_CARD, cast.office.id),
        (NoticeKind.ORDER_INFO, cast.east_head.id),
    }
    office_roles = await roles_for(session, cast.office)
    accepted = await orders.accept(session, order.id, cast.office, office_roles)
    assert accepted.status == S.ACCEPTED


async def test_decline_moves_down_the_candidates_then_escalates_and_the_office_rescues(
    session, cast
):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    nxt = await orders.decline(session, CTX, order.id, cast.health_leader, lroles, "人手不够")
    assert (nxt.kind, nxt.team_id) == ("squad", cast.org.east_squad.id)
    declined, routed = (await order_events(session, order.id))[-2:]
    assert (declined.kind, declined.team_id, declined.note) == (
        "declined",
        cast.org.health.id,
        "人手不够",
    )
    assert routed.note.startswith("declined by 张医生 (人手不够): team 卫生健康志愿服务队 declined")
    # The leader's second tap on the old card is refused.
    with pytest.raises(NotAllowed):
        await orders.accept(session, order.id, cast.health_leader, lroles)

    head_roles = await roles_for(session, cast.east_head)
    nxt = await orders.decline(session, CTX, order.id, cast.east_head, head_roles, "不会")
    assert nxt.kind == "office"
    office_roles = await roles_for(session, cast.office)
    nxt = await orders.decline(session, CTX, order.id, cast.office, office_roles, "都忙")
    assert nxt is None
    order = await reload(session, order.id)
    assert (order.status, order.escalated, order.handler_kind) == (S.NEW, True, "office")
    assert (await order_events(session, order.id))[-1].kind == "escalated"
    assert order in await orders.office_open_orders(session, [cast.org.town.id])
    info = [r for r in await outbox(session, 0, order.id) if r.payload.get("escalated")]
    assert {r.user_id for r in info} >= {cast.office.id, cast.admin.id, cast.east_head.id}
    # Never lost: the office hands it to a team by hand.
    await orders.transfer(
        session, CTX, order.id, cast.office, office_roles, cast.org.law.id, "法律"
    )
    assert (await reload(session, order.id)).team_id == cast.org.law.id


async def test_transfer_sends_the_card_and_a_later_decline_skips_the_old_team(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    out0 = await last_id(session, OutboxMessage)
    await orders.transfer(
        session, CTX, order.id, cast.health_leader, lroles, cast.org.law.id, "是法律问题"
    )
    ev = (await order_events(session, order.id))[-1]
    assert (ev.kind, ev.team_id) == ("transferred", cast.org.law.id)
    assert ev.note == "from 卫生健康志愿服务队 to 法律普及志愿服务队: 是法律问题"
    assert (NoticeKind.ORDER_CARD, cast.law_leader.id) in sent_to(await outbox(session, out0))
    with pytest.raises(DomainError):  # same team again
        law_roles = await roles_for(session, cast.law_leader)
        await orders.transfer(
            session, CTX, order.id, cast.law_leader, law_roles, cast.org.law.id, "x"
        )
    nxt = await orders.decline(session, CTX, order.id, cast.law_leader, law_roles, "不是我们的")
    assert nxt.kind == "squad"  # the health team handed it on: not offered again


async def test_transfer_back_from_accepted_releases_the_volunteers(session, cast):
    order, lroles = await assigned_order(session, cast)
    l2roles = await roles_for(session, cast.health_leader2)
    with pytest.raises(NotAllowed):  # only the leader who accepted
        await orders.transfer(
            session, CTX, order.id, cast.health_leader2, l2roles, cast.org.law.id, "x"
        )
    out0 = await last_id(session, OutboxMessage)
    await orders.transfer(session, CTX, order.id, cast.health_leader, lroles, cast.org.law.id, "转")
    order = await reload(session, order.id)
    assert (order.status, order.accepted_by_id, order.slot_start) == (S.ROUTED, None, None)
    a = await session.scalar(select(Assignment).where(Assignment.order_id == order.id))
    await session.refresh(a)
    assert a.status == AssignmentStatus.WITHDRAWN
    assert (NoticeKind.TEXT, cast.health_vol.id) in sent_to(await outbox(session, out0))


async def test_nobody_at_all_leaves_the_order_new_and_escalated(session, cast):
    await dismiss(session, cast.health_leader, Role.TEAM_LEADER)
    await dismiss(session, cast.health_leader2, Role.TEAM_LEADER)
    await dismiss(session, cast.east_head, Role.TEAM_LEADER)
    await dismiss(session, cast.office, Role.OFFICE)
    order = await place_order(session, cast.resident, cast.org.clinic)
    assert (order.status, order.escalated, order.team_id) == (S.NEW, True, None)
    assert await routing.candidates(session, order) == []
    note = (await order_events(session, order.id))[-1].note
    assert "nobody can take it" in note and "the institute office has no active staff" in note
    assert sent_to(await outbox(session, 0, order.id)) == {
        (NoticeKind.ORDER_INFO, cast.admin.id),
        (NoticeKind.ORDER_INFO, cast.east_head.id),
    }


async def test_time_out_escalates_to_the_next_candidate_once(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    stale = order.version
    assert await orders.time_out(session, CTX, order.id, version=stale) is True
    order = await reload(session, order.id)
    assert (order.status, order.escalated, order.team_id) == (
        S.ROUTED,
        True,
        cast.org.east_squad.id,
    )
    declined = [e for e in await order_events(session, order.id) if e.kind == "declined"]
    assert [(d.actor_id, d.note) for d in declined] == [(None, "not accepted in time")]
    assert await orders.time_out(session, CTX, order.id, version=stale) is False  # fired twice


async def _cards_sent(session, order_id: int) -> None:
    """Mark the order's queued notices as delivered (the sender's part), so they are cards
    standing in people's chats."""
    for n, row in enumerate(await outbox(session, 0, order_id)):
        row.status, row.tg_message_id = OutboxStatus.SENT, 500 + n
    await session.commit()


async def _closed_for(session, since: int, order_id: int) -> set[int]:
    rows = await outbox(session, since, order_id)
    return {r.user_id for r in rows if r.payload["kind"] == NoticeKind.CARD_CLOSED}


async def test_a_decline_closes_the_other_leaders_cards(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await _cards_sent(session, order.id)
    out0 = await last_id(session, OutboxMessage)
    lroles = await roles_for(session, cast.health_leader)
    await orders.decline(session, CTX, order.id, cast.health_leader, lroles, "人手不够")
    # Both leaders' ✅ 接单 would act on an order that moved on: the cards are edited.
    closed = await _closed_for(session, out0, order.id)
    assert closed == {cast.health_leader.id, cast.health_leader2.id}


async def test_a_transfer_closes_the_old_teams_cards_and_the_released_task(session, cast):
    order, lroles = await assigned_order(session, cast)
    await _cards_sent(session, order.id)
    out0 = await last_id(session, OutboxMessage)
    await orders.transfer(session, CTX, order.id, cast.health_leader, lroles, cast.org.law.id, "转")
    closed = await _closed_for(session, out0, order.id)
    # the task's ▶ 开始服务 and the leader's own card no longer stand
    assert {cast.health_vol.id, cast.health_leader.id} <= closed
