"""The order loop's domain services against a real database: state machine, routing,
concurrency, authorisation, idempotency and points."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentStage,
    LedgerSource,
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    PointsEntry,
    Rating,
    Role,
    User,
)
from services import orders
from services.errors import Conflict, DomainError, NotAllowed
from services.orders import routing
from services.outbox import NoticeKind
from services.people import dismiss
from services.points import LOCAL_TZ, PointsRules, totals
from tests.factories import (
    CTX,
    PHOTOS,
    Cast,
    advance_to,
    ledger_year,
    make_cast,
    make_user,
    make_volunteer,
    place_order,
    roles_for,
    slot,
)

RULES = PointsRules(Decimal(10), Decimal(5), Decimal(5))
S = OrderStatus


@pytest.fixture
async def cast(session) -> Cast:
    built = await make_cast(session)
    await session.commit()
    return built


# --- helpers --------------------------------------------------------------------------


async def _max_id(session, model) -> int:
    return await session.scalar(select(func.coalesce(func.max(model.id), 0)))


async def _notices(session, since: int = 0, order_id: int | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
    if order_id is not None:
        stmt = stmt.where(OutboxMessage.order_id == order_id)
    return list(await session.scalars(stmt))


def _to(rows: list[OutboxMessage]) -> set[tuple[str, int]]:
    return {(r.payload["kind"], r.user_id) for r in rows}


async def _events(session, order_id: int, since: int = 0) -> list[OrderEvent]:
    return list(
        await session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id == order_id, OrderEvent.id > since)
            .order_by(OrderEvent.id)
        )
    )


async def _fresh(session, order_id: int) -> Order:
    return await session.get(Order, order_id, populate_existing=True)


# --- the state machine, table-driven --------------------------------------------------

ACTIONS = [
    "accept", "decline", "transfer", "assign", "start", "complete", "confirm_hours", "rate",
    "cancel",
]  # fmt: skip
STATES = [S.NEW, S.ROUTED, S.ACCEPTED, S.IN_PROGRESS, S.DONE, S.RATED, S.CANCELLED, S.DECLINED]

# (action, from) → the events written, as (kind, from, to); anything missing is a Conflict.
ALLOWED: dict[tuple[str, OrderStatus], list[tuple[str, str, str]]] = {
    ("accept", S.ROUTED): [("accepted", "routed", "accepted")],
    ("decline", S.ROUTED): [("declined", "routed", "declined"), ("routed", "declined", "routed")],
    ("transfer", S.NEW): [("transferred", "new", "routed")],
    ("transfer", S.ROUTED): [("transferred", "routed", "routed")],
    ("transfer", S.ACCEPTED): [("transferred", "accepted", "routed")],
    ("assign", S.ACCEPTED): [("assigned", "accepted", "accepted")],
    ("start", S.ACCEPTED): [("started", "accepted", "in_progress")],
    ("complete", S.ACCEPTED): [
        ("started", "accepted", "in_progress"),
        ("done", "in_progress", "done"),
    ],
    ("complete", S.IN_PROGRESS): [("done", "in_progress", "done")],
    ("confirm_hours", S.DONE): [("hours_confirmed", "done", "done")],
    ("confirm_hours", S.RATED): [("hours_confirmed", "rated", "rated")],
    ("rate", S.DONE): [("rated", "done", "rated")],
    ("cancel", S.NEW): [("cancelled", "new", "cancelled")],
    ("cancel", S.ROUTED): [("cancelled", "routed", "cancelled")],
    ("cancel", S.ACCEPTED): [("cancelled", "accepted", "cancelled")],
}  # fmt: skip

# The resident hears of every change made by someone else (not of hours being confirmed,
# and not of their own rating or cancellation: the handler answers them directly).
# Completion tells them through the rating request instead (one message, not two).
RESIDENT_TOLD = {"accept", "decline", "transfer", "assign", "start"}


def _expected_notices(c: Cast, action: str, state: OrderStatus) -> set[tuple[str, int]]:
    """Notices (kind, recipient) an allowed action must queue, besides the resident's
    ORDER_STATUS which every status change by someone else causes."""
    leader = c.health_leader.id
    return {
        "accept": set(),
        "decline": {(NoticeKind.ORDER_CARD, c.east_head.id)},  # next: the station squad
        "transfer": {(NoticeKind.ORDER_CARD, c.law_leader.id)},
        "assign": {(NoticeKind.TASK, c.health_vol2.id)},
        "start": set(),
        "complete": {(NoticeKind.HOURS_CONFIRM, leader), (NoticeKind.RATE_REQUEST, c.resident.id)},
        "confirm_hours": set(),
        "rate": set(),
        "cancel": set() if state == S.NEW else {(NoticeKind.TEXT, leader)},
    }[action]


async def _act(session, c: Cast, action: str, state: OrderStatus, order_id: int, roles_by) -> None:
    # The escalated `new` order sits with the office, so the office acts for the leader.
    leader = c.office if state == S.NEW else c.health_leader
    roles, rroles = roles_by[leader.id], roles_by[c.resident.id]
    match action:
        case "accept":
            await orders.accept(session, order_id, leader, roles)
        case "decline":
            await orders.decline(session, CTX, order_id, leader, roles, "太忙")
        case "transfer":
            await orders.transfer(session, CTX, order_id, leader, roles, c.org.law.id, "法律问题")
        case "assign":
            await orders.assign(session, CTX, order_id, leader, roles, [c.health_vol2.id], *slot())
        case "start":
            await orders.start(session, order_id, leader, roles)
        case "complete":
            hours = {leader.id: Decimal("1.5")}
            await orders.complete(session, CTX, order_id, leader, roles, PHOTOS, hours, "好了")
        case "confirm_hours":
            await orders.confirm_hours(session, order_id, leader, roles, rules=RULES)
        case "rate":
            await orders.rate(session, order_id, c.resident, 4, "谢谢", rules=RULES)
        case "cancel":
            await orders.cancel(session, order_id, c.resident, rroles, "不需要了")


async def _order_in(session, cast: Cast, state: OrderStatus) -> int:
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, state)
    return order.id


@pytest.mark.parametrize("state", STATES, ids=[s.value for s in STATES])
async def test_every_action_from_every_state(session, cast, state):
    refused_on = await _order_in(session, cast, state)  # a refusal changes nothing: share it
    people = (cast.health_leader, cast.office, cast.resident)
    roles_by = {u.id: await roles_for(session, u) for u in people}
    for action in ACTIONS:
        expected = ALLOWED.get((action, state))
        order_id = refused_on if expected is None else await _order_in(session, cast, state)
        before = await _fresh(session, order_id)
        version, ev0 = before.version, await _max_id(session, OrderEvent)
        out0 = await _max_id(session, OutboxMessage)
        if expected is None:
            with pytest.raises(Conflict):
                await _act(session, cast, action, state, order_id, roles_by)
            after = await _fresh(session, order_id)
            assert (after.status, after.version) == (state, version), action
            assert await _events(session, order_id, ev0) == [], action
            assert await _notices(session, out0) == [], action
            continue
        await _act(session, cast, action, state, order_id, roles_by)
        events = await _events(session, order_id, ev0)
        assert [(e.kind, e.from_status, e.to_status) for e in events] == expected, action
        after = await _fresh(session, order_id)
        assert after.status.value == expected[-1][2]
        assert after.version == version + len(expected)
        sent = _to(await _notices(session, out0))
        assert _expected_notices(cast, action, state) <= sent, (action, sent)
        status_notice = (NoticeKind.ORDER_STATUS, cast.resident.id) in sent
        assert status_notice == (action in RESIDENT_TOLD), (action, sent)


# --- creating and routing -------------------------------------------------------------


async def test_order_is_numbered_routed_to_the_category_team_and_the_head_informed(session, cast):
    out0 = await _max_id(session, OutboxMessage)
    first = await place_order(session, cast.resident, cast.org.clinic)
    second = await place_order(session, cast.neighbour, cast.org.clinic)
    assert re.fullmatch(r"TA-\d{8}-0001", first.number)
    assert second.number == first.number[:-4] + "0002"
    assert (first.status, first.team_id, first.handler_kind) == (
        S.ROUTED,
        cast.org.health.id,
        "team",
    )
    created, routed = await _events(session, first.id)
    assert (created.kind, created.to_status) == ("created", "new")
    assert (routed.kind, routed.from_status, routed.to_status) == ("routed", "new", "routed")
    assert "team 卫生健康志愿服务队" in routed.note
    sent = _to(await _notices(session, out0, first.id))
    assert sent == {
        (NoticeKind.ORDER_CARD, cast.health_leader.id),
        (NoticeKind.ORDER_CARD, cast.health_leader2.id),
        (NoticeKind.ORDER_INFO, cast.east_head.id),
    }  # the resident placed it: the handler replies, no notice to them


async def test_team_without_leader_goes_to_the_station_squad(session, cast):
    await dismiss(session, cast.law_leader, Role.TEAM_LEADER)
    order = await place_order(session, cast.resident, cast.org.legal)
    assert (order.team_id, order.handler_kind) == (cast.org.east_squad.id, "squad")
    routed = (await _events(session, order.id))[-1]
    assert routed.note == (
        "new order: team 法律普及志愿服务队 has no active leader; "
        "station squad 东街社区志愿服务小分队"
    )
    cards = [r for r in await _notices(session, 0, order.id) if r.payload["kind"] == "order_card"]
    assert [r.user_id for r in cards] == [cast.east_head.id]
    # The head got the card, so no separate ORDER_INFO for them.
    assert _to(await _notices(session, 0, order.id)) == {(NoticeKind.ORDER_CARD, cast.east_head.id)}


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
    assert (await _events(session, order.id))[-1].note == (
        "new order: team 法律普及志愿服务队 has no active leader; "
        "station squad 东街社区志愿服务小分队"
    )
    assert _to(await _notices(session, 0, order.id)) == {(NoticeKind.ORDER_CARD, cast.east_head.id)}
    clinic = await place_order(session, cast.neighbour, cast.org.clinic)
    assert clinic.team_id == cast.org.health.id
    cards = [r for r in await _notices(session, 0, clinic.id) if r.payload["kind"] == "order_card"]
    assert [r.user_id for r in cards] == [cast.health_leader2.id]


async def test_no_team_leader_and_no_squad_leader_goes_to_the_office(session, cast):
    await dismiss(session, cast.law_leader, Role.TEAM_LEADER)
    await dismiss(session, cast.east_head, Role.TEAM_LEADER)  # still head, no longer leads squad
    order = await place_order(session, cast.resident, cast.org.legal)
    assert (order.team_id, order.handler_kind) == (None, "office")
    note = (await _events(session, order.id))[-1].note
    assert "has no active leader; station squad 东街社区志愿服务小分队 has no active leader" in note
    assert note.endswith("the institute office")
    assert _to(await _notices(session, 0, order.id)) == {
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
    declined, routed = (await _events(session, order.id))[-2:]
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
    order = await _fresh(session, order.id)
    assert (order.status, order.escalated, order.handler_kind) == (S.NEW, True, "office")
    assert (await _events(session, order.id))[-1].kind == "escalated"
    assert order in await orders.office_open_orders(session, [cast.org.town.id])
    info = [r for r in await _notices(session, 0, order.id) if r.payload.get("escalated")]
    assert {r.user_id for r in info} >= {cast.office.id, cast.admin.id, cast.east_head.id}
    # Never lost: the office hands it to a team by hand.
    await orders.transfer(
        session, CTX, order.id, cast.office, office_roles, cast.org.law.id, "法律"
    )
    assert (await _fresh(session, order.id)).team_id == cast.org.law.id


async def test_transfer_sends_the_card_and_a_later_decline_skips_the_old_team(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    out0 = await _max_id(session, OutboxMessage)
    await orders.transfer(
        session, CTX, order.id, cast.health_leader, lroles, cast.org.law.id, "是法律问题"
    )
    ev = (await _events(session, order.id))[-1]
    assert (ev.kind, ev.team_id) == ("transferred", cast.org.law.id)
    assert ev.note == "from 卫生健康志愿服务队 to 法律普及志愿服务队: 是法律问题"
    assert (NoticeKind.ORDER_CARD, cast.law_leader.id) in _to(await _notices(session, out0))
    with pytest.raises(DomainError):  # same team again
        law_roles = await roles_for(session, cast.law_leader)
        await orders.transfer(
            session, CTX, order.id, cast.law_leader, law_roles, cast.org.law.id, "x"
        )
    nxt = await orders.decline(session, CTX, order.id, cast.law_leader, law_roles, "不是我们的")
    assert nxt.kind == "squad"  # the health team handed it on: not offered again


async def test_transfer_back_from_accepted_releases_the_volunteers(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    await orders.accept(session, order.id, cast.health_leader, lroles)
    await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], *slot()
    )
    l2roles = await roles_for(session, cast.health_leader2)
    with pytest.raises(NotAllowed):  # only the leader who accepted
        await orders.transfer(
            session, CTX, order.id, cast.health_leader2, l2roles, cast.org.law.id, "x"
        )
    out0 = await _max_id(session, OutboxMessage)
    await orders.transfer(session, CTX, order.id, cast.health_leader, lroles, cast.org.law.id, "转")
    order = await _fresh(session, order.id)
    assert (order.status, order.accepted_by_id, order.slot_start) == (S.ROUTED, None, None)
    a = await session.scalar(select(Assignment).where(Assignment.order_id == order.id))
    await session.refresh(a)
    assert a.status == AssignmentStatus.WITHDRAWN
    assert (NoticeKind.TEXT, cast.health_vol.id) in _to(await _notices(session, out0))


async def test_nobody_at_all_leaves_the_order_new_and_escalated(session, cast):
    await dismiss(session, cast.health_leader, Role.TEAM_LEADER)
    await dismiss(session, cast.health_leader2, Role.TEAM_LEADER)
    await dismiss(session, cast.east_head, Role.TEAM_LEADER)
    await dismiss(session, cast.office, Role.OFFICE)
    order = await place_order(session, cast.resident, cast.org.clinic)
    assert (order.status, order.escalated, order.team_id) == (S.NEW, True, None)
    assert await routing.candidates(session, order) == []
    note = (await _events(session, order.id))[-1].note
    assert "nobody can take it" in note and "the institute office has no active staff" in note
    assert _to(await _notices(session, 0, order.id)) == {
        (NoticeKind.ORDER_INFO, cast.admin.id),
        (NoticeKind.ORDER_INFO, cast.east_head.id),
    }


async def test_time_out_escalates_to_the_next_candidate_once(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    stale = order.version
    assert await orders.time_out(session, CTX, order.id, version=stale) is True
    order = await _fresh(session, order.id)
    assert (order.status, order.escalated, order.team_id) == (
        S.ROUTED,
        True,
        cast.org.east_squad.id,
    )
    declined = [e for e in await _events(session, order.id) if e.kind == "declined"]
    assert [(d.actor_id, d.note) for d in declined] == [(None, "not accepted in time")]
    assert await orders.time_out(session, CTX, order.id, version=stale) is False  # fired twice


# --- concurrency ----------------------------------------------------------------------


async def test_two_leaders_accept_at_once_exactly_one_wins(session, sessionmaker, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)

    async def press(leader_id: int) -> str | Conflict:
        async with sessionmaker() as s:
            leader = await s.get(User, leader_id)
            try:
                await orders.accept(s, order.id, leader, await roles_for(s, leader))
            except Conflict as exc:
                return exc
            return leader.name

    results = await asyncio.gather(press(cast.health_leader.id), press(cast.health_leader2.id))
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].params["name"] == winners[0]
    assert "{name}" in losers[0].message
    accepted = [e for e in await _events(session, order.id) if e.kind == "accepted"]
    assert len(accepted) == 1


async def test_a_stale_copy_loses_at_the_conditional_update(session, sessionmaker, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    async with sessionmaker() as other:
        stale = await other.get(Order, order.id)  # read before the other leader accepts
        lroles = await roles_for(session, cast.health_leader)
        await orders.accept(session, order.id, cast.health_leader, lroles)
        with pytest.raises(Conflict) as err:
            await orders.transition(other, stale, S.ACCEPTED, None, kind="accepted")
        assert err.value.params["name"] == "张医生"
        await other.rollback()


async def test_a_card_from_an_earlier_routing_is_refused(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    with pytest.raises(Conflict):
        await orders.accept(
            session, order.id, cast.health_leader, lroles, version=order.version - 1
        )
    await orders.accept(session, order.id, cast.health_leader, lroles, version=order.version)


# --- authorisation --------------------------------------------------------------------


async def test_authorisation_on_every_action(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    rroles = await roles_for(session, cast.resident)
    law_roles = await roles_for(session, cast.law_leader)
    with pytest.raises(NotAllowed):
        await orders.accept(session, order.id, cast.resident, rroles)
    with pytest.raises(NotAllowed):  # a leader of team A on team B's order
        await orders.accept(session, order.id, cast.law_leader, law_roles)
    with pytest.raises(NotAllowed):
        await orders.decline(session, CTX, order.id, cast.law_leader, law_roles, "x")
    with pytest.raises(NotAllowed):  # roles computed for someone else
        await orders.accept(session, order.id, cast.health_leader, law_roles)
    with pytest.raises(NotAllowed):  # another resident
        await orders.cancel(
            session, order.id, cast.neighbour, await roles_for(session, cast.neighbour)
        )

    await advance_to(session, cast, order.id, S.IN_PROGRESS)
    vol2 = await roles_for(session, cast.health_vol2)  # same team, not on this task
    with pytest.raises(NotAllowed):
        await orders.complete(
            session, CTX, order.id, cast.health_vol2, vol2, PHOTOS, {cast.health_vol2.id: 1}, ""
        )
    vroles = await roles_for(session, cast.health_vol)
    with pytest.raises(NotAllowed):  # hours only for people on the order
        await orders.complete(
            session, CTX, order.id, cast.health_vol, vroles, PHOTOS, {cast.law_vol.id: 1}, ""
        )
    with pytest.raises(NotAllowed):
        await orders.confirm_hours(session, order.id, cast.health_vol, vroles, rules=RULES)

    await orders.complete(
        session, CTX, order.id, cast.health_vol, vroles, PHOTOS, {cast.health_vol.id: 2}, ""
    )
    with pytest.raises(NotAllowed):
        await orders.rate(session, order.id, cast.neighbour, 5, rules=RULES)
    with pytest.raises(NotAllowed):
        await orders.history(
            session, order.id, cast.neighbour, await roles_for(session, cast.neighbour)
        )
    with pytest.raises(NotAllowed):
        await orders.history(session, order.id, cast.law_leader, law_roles)
    await orders.rate(session, order.id, cast.resident, 3, rules=RULES)


async def test_assign_only_team_members_and_re_assign_adds(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, S.ACCEPTED)
    lroles = await roles_for(session, cast.health_leader)
    with pytest.raises(NotAllowed):
        await orders.assign(
            session, CTX, order.id, cast.health_leader, lroles, [cast.law_vol.id], *slot()
        )
    with pytest.raises(DomainError):
        await orders.assign(session, CTX, order.id, cast.health_leader, lroles, [], *slot())
    start, end = slot()
    with pytest.raises(DomainError):
        await orders.assign(
            session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], end, start
        )
    out0 = await _max_id(session, OutboxMessage)
    first = await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], start, end
    )
    assert [a.volunteer_id for a in first] == [cast.health_vol.id]
    rows = await _notices(session, out0)
    status = next(r.payload for r in rows if r.payload["kind"] == NoticeKind.ORDER_STATUS)
    assert status["event"] == "assigned" and status["volunteers"] == ["王志愿"]
    assert status["slot_start"] == start.isoformat()
    task = next(r.payload for r in rows if r.payload["kind"] == NoticeKind.TASK)
    assert task["assignment_id"] == first[0].id and task["updated"] is False

    out1 = await _max_id(session, OutboxMessage)
    both = await orders.assign(
        session,
        CTX,
        order.id,
        cast.health_leader,
        lroles,
        [cast.health_vol.id, cast.health_leader.id],
        start,
        end,
    )
    assert {a.volunteer_id for a in both} == {cast.health_vol.id, cast.health_leader.id}
    tasks = [r for r in await _notices(session, out1) if r.payload["kind"] == NoticeKind.TASK]
    assert [r.user_id for r in tasks] == [cast.health_leader.id]  # only the new person


async def test_withdraw_tells_the_leader_and_the_volunteer_can_be_assigned_again(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, S.ACCEPTED)
    lroles = await roles_for(session, cast.health_leader)
    [a] = await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], *slot()
    )
    with pytest.raises(NotAllowed):
        await orders.withdraw(session, a.id, cast.health_vol2)
    out0 = await _max_id(session, OutboxMessage)
    await orders.withdraw(session, a.id, cast.health_vol)
    [row] = await _notices(session, out0)
    assert (row.payload["kind"], row.user_id) == (
        NoticeKind.VOLUNTEER_WITHDREW,
        cast.health_leader.id,
    )
    assert row.payload["volunteer_name"] == "王志愿" and row.payload["remaining"] == 0
    assert await orders.volunteer_tasks(session, cast.health_vol.id) == []
    with pytest.raises(Conflict):
        await orders.withdraw(session, a.id, cast.health_vol)
    await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], *slot()
    )
    [(task, task_order)] = await orders.volunteer_tasks(session, cast.health_vol.id)
    assert (task.id, task_order.id) == (a.id, order.id)


async def test_complete_checks_photos_and_hours(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, S.IN_PROGRESS)
    vol, vroles = cast.health_vol, await roles_for(session, cast.health_vol)
    for photos, hours in [
        ([], {vol.id: 2}),
        (PHOTOS * 11, {vol.id: 2}),
        (PHOTOS, {vol.id: 0}),
        (PHOTOS, {vol.id: Decimal("24.5")}),
        (PHOTOS, {vol.id: Decimal("NaN")}),  # NaN would raise inside the comparison
        (PHOTOS, {vol.id: "nan"}),
        (PHOTOS, {vol.id: "inf"}),
        (PHOTOS, {}),
    ]:
        with pytest.raises(DomainError):
            await orders.complete(session, CTX, order.id, vol, vroles, photos, hours, "")
    assert (await _fresh(session, order.id)).status == S.IN_PROGRESS
    await orders.complete(
        session, CTX, order.id, vol, vroles, PHOTOS * 2, {vol.id: Decimal("2.5")}, "量了血压"
    )
    done = await _fresh(session, order.id)
    assert (done.status, done.completion_note) == (S.DONE, "量了血压")
    photos = list(await session.scalars(select(Attachment).where(Attachment.order_id == order.id)))
    assert [(p.stage, p.local_path) for p in photos] == [
        (AttachmentStage.COMPLETION, "data/media/1.jpg")
    ] * 2
    a = await session.scalar(select(Assignment).where(Assignment.order_id == order.id))
    assert (a.status, a.hours) == (AssignmentStatus.DONE, Decimal("2.5"))


# --- creating: idempotency, limits, proxy ---------------------------------------------


async def test_same_client_token_creates_one_order(session, cast):
    first = await place_order(session, cast.resident, cast.org.clinic, client_token="tok-1")
    again = await place_order(session, cast.resident, cast.org.clinic, client_token="tok-1")
    assert again.id == first.id
    assert await session.scalar(select(func.count(Order.id))) == 1


async def test_double_tap_at_once_creates_one_order(session, sessionmaker, cast):
    async def tap() -> int:
        async with sessionmaker() as s:
            resident = await s.get(User, cast.resident.id)
            order = await place_order(s, resident, cast.org.clinic, client_token="tok-2")
            return order.id

    ids = await asyncio.gather(tap(), tap())
    assert ids[0] == ids[1]
    assert await session.scalar(select(func.count(Order.id))) == 1


async def test_concurrent_orders_get_distinct_numbers(session, sessionmaker, cast):
    async def order_for(user_id: int) -> str:
        async with sessionmaker() as s:
            resident = await s.get(User, user_id)
            return (await place_order(s, resident, cast.org.clinic)).number

    numbers = await asyncio.gather(*(order_for(u.id) for u in (cast.resident, cast.neighbour) * 2))
    assert len(set(numbers)) == 4


async def test_open_order_limit(session, cast):
    for _ in range(3):
        await place_order(session, cast.resident, cast.org.clinic, max_open=3)
    with pytest.raises(DomainError) as err:
        await place_order(session, cast.resident, cast.org.clinic, max_open=3)
    assert err.value.params == {"count": 3}
    [oldest, *_] = await orders.resident_orders(session, cast.resident.id, limit=1)
    await orders.cancel(session, oldest.id, cast.resident, await roles_for(session, cast.resident))
    await place_order(session, cast.resident, cast.org.clinic, max_open=3)


async def test_proxy_order_for_a_resident_without_telegram(session, cast):
    head = cast.east_head
    hroles = await roles_for(session, head)
    grandma = await orders.create_proxy_resident(
        session,
        name="孙奶奶",
        phone="13900000000",
        station_id=cast.org.east.id,
        placed_by=head,
        roles=hroles,
    )
    same = await orders.create_proxy_resident(
        session,
        name="孙奶奶",
        phone="13900000000",
        station_id=cast.org.east.id,
        placed_by=head,
        roles=hroles,
    )
    assert grandma.id == same.id and grandma.tg_id is None
    with pytest.raises(NotAllowed):  # a resident of the village is not staff
        await orders.create_proxy_resident(
            session, name="x", phone=None, station_id=cast.org.east.id,
            placed_by=cast.neighbour, roles=await roles_for(session, cast.neighbour),
        )  # fmt: skip
    with pytest.raises(NotAllowed):  # the west head is not the east's
        await place_order(session, grandma, cast.org.clinic, placed_by=cast.west_head)
    squad_member = await make_volunteer(session, cast.org.east_squad)
    await place_order(session, grandma, cast.org.clinic, placed_by=squad_member)

    order = await place_order(
        session, grandma, cast.org.clinic, placed_by=head, attachments=[("voice", "v1", "u1", None)]
    )
    assert order.is_proxy and order.placed_by_id == head.id
    assert (await _events(session, order.id))[0].note == "placed by 东街书记 for 孙奶奶"
    await advance_to(session, cast, order.id, S.DONE)
    # Grandma has no Telegram: the head who placed it is asked to rate, and may.
    rate_requests = [
        r for r in await _notices(session, 0, order.id) if r.payload["kind"] == "rate_request"
    ]
    assert [r.user_id for r in rate_requests] == [head.id]
    await orders.rate(session, order.id, head, 5, rules=RULES)
    assert await orders.order_contact(session, order) == ("孙奶奶", "13900000000")


async def test_cancel_tells_whoever_holds_the_order_and_the_volunteers(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    await orders.accept(session, order.id, cast.health_leader, lroles)
    await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], *slot()
    )
    out0 = await _max_id(session, OutboxMessage)
    await orders.cancel(session, order.id, cast.resident, await roles_for(session, cast.resident))
    rows = await _notices(session, out0)
    assert _to(rows) == {
        (NoticeKind.TEXT, cast.health_leader.id),
        (NoticeKind.TEXT, cast.health_vol.id),
    }
    assert rows[0].payload["msgid"] == "Order {number} has been cancelled."
    assert await orders.volunteer_tasks(session, cast.health_vol.id) == []


# --- points ---------------------------------------------------------------------------


async def _ledger(session, order_id: int) -> list[tuple[int, str, Decimal, Decimal]]:
    rows = await session.scalars(
        select(PointsEntry).where(PointsEntry.order_id == order_id).order_by(PointsEntry.id)
    )
    return [(e.user_id, e.source.value, Decimal(e.hours), Decimal(e.points)) for e in rows]


async def test_hours_are_booked_once_even_if_confirmed_twice(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, S.DONE)
    lroles = await roles_for(session, cast.health_leader)
    booked = await orders.confirm_hours(session, order.id, cast.health_leader, lroles, rules=RULES)
    assert len(booked) == 1
    assert (
        await orders.confirm_hours(session, order.id, cast.health_leader, lroles, rules=RULES) == []
    )
    office = await roles_for(session, cast.office)
    assert await orders.confirm_hours(session, order.id, cast.office, office, rules=RULES) == []
    vol = cast.health_vol.id
    assert await _ledger(session, order.id) == [(vol, "order", Decimal(2), Decimal(20))]
    a = await session.scalar(select(Assignment).where(Assignment.order_id == order.id))
    assert a.confirmed and a.confirmed_by_id == cast.health_leader.id
    assert [e.kind for e in await _events(session, order.id)].count("hours_confirmed") == 1


async def test_five_star_and_priority_group_bonuses(session, cast):
    elder = await make_user(
        session, name="钱爷爷", station=cast.org.east, priority_group=cast.org.elderly
    )
    order = await place_order(session, elder, cast.org.clinic)
    await advance_to(session, cast, order.id, S.RATED, rules=RULES, score=5)
    lroles = await roles_for(session, cast.health_leader)
    await orders.confirm_hours(session, order.id, cast.health_leader, lroles, rules=RULES)
    vol = cast.health_vol.id
    assert sorted(await _ledger(session, order.id)) == sorted([
        (vol, "bonus", Decimal(0), Decimal(5)),  # five stars
        (vol, "order", Decimal(2), Decimal(20)),
        (vol, "bonus", Decimal(0), Decimal(5)),  # a priority-group resident
    ])  # fmt: skip
    year = await ledger_year(session, vol)
    assert await totals(session, vol, year, tz=LOCAL_TZ) == (Decimal(2), Decimal(30))


async def test_low_rating_alerts_the_head_and_the_office(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    await advance_to(session, cast, order.id, S.DONE)
    out0 = await _max_id(session, OutboxMessage)
    rating = await orders.rate(session, order.id, cast.resident, 2, "没人来", rules=RULES)
    assert (await session.get(Rating, rating.id)).score == 2
    rows = await _notices(session, out0)
    assert _to(rows) == {
        (NoticeKind.LOW_RATING, cast.east_head.id),
        (NoticeKind.LOW_RATING, cast.office.id),
    }
    assert rows[0].payload["comment"] == "没人来"
    assert not [e for e in await _ledger(session, order.id) if e[1] == "bonus"]
    with pytest.raises(DomainError):
        await orders.rate(session, order.id, cast.resident, 6, rules=RULES)


async def test_year_totals_use_local_time(session, cast):
    vol = cast.health_vol.id

    def entry(at: datetime, hours: int) -> PointsEntry:
        return PointsEntry(user_id=vol, at=at, source=LedgerSource.ORDER, hours=Decimal(hours),
                           points=Decimal(hours * 10))  # fmt: skip

    session.add_all([
        entry(datetime(2026, 12, 31, 15, 59, tzinfo=UTC), 1),  # 23:59 in Shanghai: 2026
        entry(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), 2),  # 01:00 on 1 January: 2027
    ])  # fmt: skip
    await session.commit()
    assert await totals(session, vol, 2026, tz=LOCAL_TZ) == (Decimal(1), Decimal(10))
    assert await totals(session, vol, 2027, tz=LOCAL_TZ) == (Decimal(2), Decimal(20))


# --- reading --------------------------------------------------------------------------


async def test_history_shows_names_and_hides_routing_notes_from_the_resident(session, cast):
    order = await place_order(session, cast.resident, cast.org.clinic)
    lroles = await roles_for(session, cast.health_leader)
    await orders.decline(session, CTX, order.id, cast.health_leader, lroles, "内部原因")
    staff_view = await orders.history(
        session, order.id, cast.east_head, await roles_for(session, cast.east_head)
    )
    assert [h.kind for h in staff_view] == ["created", "routed", "declined", "routed"]
    assert staff_view[2].actor_name == "张医生" and staff_view[2].note == "内部原因"
    assert staff_view[2].team_name_zh == "卫生健康志愿服务队"
    own = await orders.history(
        session, order.id, cast.resident, await roles_for(session, cast.resident)
    )
    assert [h.note for h in own if h.kind == "declined"] == [None]


async def test_listings(session, cast):
    east = await place_order(session, cast.resident, cast.org.clinic)
    west = await place_order(session, cast.west_resident, cast.org.legal)
    assert [o.id for o in await orders.team_open_orders(session, [cast.org.health.id])] == [east.id]
    assert [o.id for o in await orders.station_orders(session, [cast.org.west.id])] == [west.id]
    assert [o.id for o in await orders.resident_orders(session, cast.resident.id, 10)] == [east.id]
    await advance_to(session, cast, east.id, S.DONE)
    assert await orders.team_open_orders(session, [cast.org.health.id]) == []
    assert await orders.station_orders(session, [cast.org.east.id]) == []
    assert len(await orders.station_orders(session, [cast.org.east.id], open_only=False)) == 1
    hroles = await roles_for(session, cast.east_head)
    assert orders.can_view(hroles, await _fresh(session, east.id))
    assert not orders.can_view(hroles, await _fresh(session, west.id))
