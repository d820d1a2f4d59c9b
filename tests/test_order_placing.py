"""Placing an order: idempotency, the open-order limit, proxy orders; cancelling; and
reading orders back (history, listings)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from models import Order, OutboxMessage, User
from services import orders
from services.errors import DomainError, NotAllowed
from services.outbox import NoticeKind
from tests.factories import (
    CTX,
    advance_to,
    assigned_order,
    make_volunteer,
    place_order,
    roles_for,
)
from tests.order_checks import RULES, S, last_id, order_events, outbox, reload, sent_to

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
    grandma, same = [  # the same resident entered twice is one person
        await orders.create_proxy_resident(
            session,
            name="孙奶奶",
            phone="13900000000",
            station_id=cast.org.east.id,
            placed_by=head,
            roles=hroles,
        )
        for _ in range(2)
    ]
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
    assert (await order_events(session, order.id))[0].note == "placed by 东街书记 for 孙奶奶"
    await advance_to(session, cast, order.id, S.DONE)
    # Grandma has no Telegram: the head who placed it is asked to rate, and may.
    rate_requests = [
        r for r in await outbox(session, 0, order.id) if r.payload["kind"] == "rate_request"
    ]
    assert [r.user_id for r in rate_requests] == [head.id]
    await orders.rate(session, order.id, head, 5, rules=RULES)
    assert await orders.order_contact(session, order) == ("孙奶奶", "13900000000")


async def test_cancel_tells_whoever_holds_the_order_and_the_volunteers(session, cast):
    order, _ = await assigned_order(session, cast)
    out0 = await last_id(session, OutboxMessage)
    await orders.cancel(session, order.id, cast.resident, await roles_for(session, cast.resident))
    rows = await outbox(session, out0)
    assert sent_to(rows) == {
        (NoticeKind.TEXT, cast.health_leader.id),
        (NoticeKind.TEXT, cast.health_vol.id),
    }
    assert rows[0].payload["msgid"] == "Order {number} has been cancelled."
    assert await orders.volunteer_tasks(session, cast.health_vol.id) == []


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
    assert orders.can_view(hroles, await reload(session, east.id))
    assert not orders.can_view(hroles, await reload(session, west.id))
