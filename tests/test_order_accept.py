"""Working an order: one of two leaders accepts, who may do what, assigning and
withdrawing volunteers, and completing with photos and hours."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentStage,
    Order,
    OutboxMessage,
    User,
)
from services import orders
from services.errors import Conflict, DomainError, NotAllowed
from services.outbox import NoticeKind
from tests.factories import CTX, PHOTOS, advance_to, place_order, roles_for, slot
from tests.order_checks import RULES, S, last_id, order_events, outbox, reload

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
    accepted = [e for e in await order_events(session, order.id) if e.kind == "accepted"]
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
    out0 = await last_id(session, OutboxMessage)
    first = await orders.assign(
        session, CTX, order.id, cast.health_leader, lroles, [cast.health_vol.id], start, end
    )
    assert [a.volunteer_id for a in first] == [cast.health_vol.id]
    rows = await outbox(session, out0)
    status = next(r.payload for r in rows if r.payload["kind"] == NoticeKind.ORDER_STATUS)
    assert status["event"] == "assigned" and status["volunteers"] == ["王志愿"]
    assert status["slot_start"] == start.isoformat()
    task = next(r.payload for r in rows if r.payload["kind"] == NoticeKind.TASK)
    assert task["assignment_id"] == first[0].id and task["updated"] is False

    out1 = await last_id(session, OutboxMessage)
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
    tasks = [r for r in await outbox(session, out1) if r.payload["kind"] == NoticeKind.TASK]
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
    out0 = await last_id(session, OutboxMessage)
    await orders.withdraw(session, a.id, cast.health_vol)
    [row] = await outbox(session, out0)
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
    assert (await reload(session, order.id)).status == S.IN_PROGRESS
    await orders.complete(
        session, CTX, order.id, vol, vroles, PHOTOS * 2, {vol.id: Decimal("2.5")}, "量了血压"
    )
    done = await reload(session, order.id)
    assert (done.status, done.completion_note) == (S.DONE, "量了血压")
    photos = list(await session.scalars(select(Attachment).where(Attachment.order_id == order.id)))
    assert [(p.stage, p.local_path) for p in photos] == [
        (AttachmentStage.COMPLETION, "data/media/1.jpg")
    ] * 2
    a = await session.scalar(select(Assignment).where(Assignment.order_id == order.id))
    assert (a.status, a.hours) == (AssignmentStatus.DONE, Decimal("2.5"))
