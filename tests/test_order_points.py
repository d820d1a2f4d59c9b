"""Points for an order: hours booked once, bonuses, the low-rating alert, yearly totals
in local time."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Assignment, LedgerSource, OutboxMessage, PointsEntry, Rating
from services import orders
from services.errors import DomainError
from services.outbox import NoticeKind
from services.points import LOCAL_TZ, totals
from tests.factories import advance_to, ledger_year, make_user, place_order, roles_for
from tests.order_checks import RULES, S, last_id, order_events, outbox, sent_to

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
    assert [e.kind for e in await order_events(session, order.id)].count("hours_confirmed") == 1


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
    out0 = await last_id(session, OutboxMessage)
    rating = await orders.rate(session, order.id, cast.resident, 2, "没人来", rules=RULES)
    assert (await session.get(Rating, rating.id)).score == 2
    rows = await outbox(session, out0)
    assert sent_to(rows) == {
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
