"""The order state machine against a real database, table-driven: every action from
every state either writes the allowed events and notices or is refused and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models import OrderEvent, OrderStatus, OutboxMessage
from services import orders
from services.errors import Conflict
from services.outbox import NoticeKind
from tests.factories import CTX, PHOTOS, Cast, advance_to, place_order, roles_for, slot
from tests.order_checks import RULES, S, last_id, order_events, outbox, reload, sent_to

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
        before = await reload(session, order_id)
        version, ev0 = before.version, await last_id(session, OrderEvent)
        out0 = await last_id(session, OutboxMessage)
        if expected is None:
            with pytest.raises(Conflict):
                await _act(session, cast, action, state, order_id, roles_by)
            after = await reload(session, order_id)
            assert (after.status, after.version) == (state, version), action
            assert await order_events(session, order_id, ev0) == [], action
            assert await outbox(session, out0) == [], action
            continue
        await _act(session, cast, action, state, order_id, roles_by)
        events = await order_events(session, order_id, ev0)
        assert [(e.kind, e.from_status, e.to_status) for e in events] == expected, action
        after = await reload(session, order_id)
        assert after.status.value == expected[-1][2]
        assert after.version == version + len(expected)
        sent = sent_to(await outbox(session, out0))
        assert _expected_notices(cast, action, state) <= sent, (action, sent)
        status_notice = (NoticeKind.ORDER_STATUS, cast.resident.id) in sent
        assert status_notice == (action in RESIDENT_TOLD), (action, sent)
