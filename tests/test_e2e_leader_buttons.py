"""The leader's and the volunteer's buttons end to end: a decline reason tapped rather than
written, a volunteer who can't make it, and buttons of an older release (or forged) that
must get a polite refusal and change nothing."""

from __future__ import annotations

from sqlalchemy import select

from models import Assignment, AssignmentStatus, OrderEvent, OrderStatus, Role
from tests.flows import (
    accept_order,
    assign_volunteer,
    decline_order,
    leader_squad_resident,
    order_and_card,
    order_by_number,
    order_through_chat,
    order_to,
)
from views.orders import AssignVolunteer, DeclineReason, DeclineWhy, TransferTo


async def test_a_tapped_decline_reason_is_recorded_and_the_order_moves_on(bot_env):
    env = bot_env
    leader, head, resident = await leader_squad_resident(env)
    number, card = await order_to(leader, await order_through_chat(resident))
    reasons = await decline_order(leader, card)
    await leader.press("No one is free", message=reasons)
    await leader.expect(contains="Declined")
    await head.expect(contains="new order for your team")
    order = await order_by_number(env, number)
    async with env.sessionmaker() as s:
        notes = (
            await s.scalars(
                select(OrderEvent.note).where(
                    OrderEvent.order_id == order.id, OrderEvent.kind == "declined"
                )
            )
        ).all()
    assert notes == ["No one is free"]


async def test_a_reason_button_of_another_order_declines_nothing(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    resident = await env.person("Grandma Li")
    order, card = await order_and_card(env, leader, resident)
    reasons = await decline_order(leader, card)
    other = DeclineReason(order_id=order.id + 1, why=DeclineWhy.TOO_FAR).pack()
    await leader.press_data(reasons, other)
    assert "no longer valid" in (await leader.callback_answer()).text
    order = await order_by_number(env, order.number)
    assert order.status == OrderStatus.ROUTED
    assert order.team_id == (await env.team("health")).id  # not declined and passed on


async def test_buttons_of_the_older_release_are_refused_politely(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    resident = await env.person("Grandma Li")
    order, card = await order_and_card(env, leader, resident)
    law = await env.team("law")
    accepted = await accept_order(leader, card)
    await leader.press("👥 Assign volunteers", message=accepted)
    roster = await leader.expect(contains="Who will go")
    for old in (
        f"p:xfer:{order.id}.{law.id}",
        f"p:vol:{order.id}.{vol.id}",
        f"p:vol_done:{order.id}",
        "p:slot:2026-03-11.morning",
        "p:reason:Too far",
        AssignVolunteer(order_id=order.id, user_id=vol.id).pack() + ":1",  # a field too many
    ):
        await leader.press_data(roster, old)
        assert "no longer valid" in (await leader.callback_answer()).text, old
    # a well-formed transfer button needs the order in hand when pressed: no reason is asked
    await resident.press_data(
        (await resident.history())[-1], TransferTo(order_id=order.id, team_id=law.id).pack()
    )
    refused = await resident.callback_answer()
    assert refused.show_alert and "not your team's order" in refused.text
    await resident.send("I would rather have a lawyer")  # not taken as a reason
    await resident.expect(contains="Shall we pass this on")
    order = await order_by_number(env, order.number)
    assert order.status == OrderStatus.ACCEPTED
    assert order.team_id == (await env.team("health")).id


async def test_a_volunteer_who_cant_make_it_is_released_and_the_leader_told(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    other = await env.person("Nurse Zhao", role=Role.VOLUNTEER, team="health")
    resident = await env.person("Grandma Li")
    number, card = await order_to(leader, await order_through_chat(resident))
    await assign_volunteer(leader, await accept_order(leader, card), "Nurse Wang")
    task = await vol.expect(contains="new task")
    # someone not sent cannot give the task up, nor record it done
    mine = (await other.history())[-1]
    for action in ("withdraw", "done"):
        await other.press_data(
            mine, task.button("🙅 Can't make it").callback_data.replace("withdraw", action)
        )
        assert "not your task" in (await other.callback_answer()).text
    await vol.press("🙅 Can't make it", message=task)
    assert "leader has been told" in (await vol.callback_answer()).text
    await leader.expect(contains="Nurse Wang can't make it")
    order = await order_by_number(env, number)
    async with env.sessionmaker() as s:
        statuses = (
            await s.scalars(select(Assignment.status).where(Assignment.order_id == order.id))
        ).all()
    assert statuses == [AssignmentStatus.WITHDRAWN]
