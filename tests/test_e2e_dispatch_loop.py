"""站所接单 → 派单 → 服务送单 → rated, end to end through the simulator, and the escalation
that follows accountability: no answer from the team → the lead unit's dispatchers → the
institute office, the village's station head told at each step."""

from __future__ import annotations

from models import OrderStatus, Role
from tests.flows import (
    accept_order,
    assign_volunteer,
    confirm_hours,
    order_by_number,
    order_through_chat,
    order_to,
    serve_task,
)
from tests.scheduler_harness import advance_to
from tests.test_e2e_clock import bot_at, local
from tests.test_e2e_dispatch import (
    LAW_TEAM,
    POLICY_AREA,
    POLICY_TALK,
    appoint_dispatcher,
    event_kinds,
)


async def test_a_manual_platform_order_is_dispatched_served_and_rated(bot_env):
    env = bot_env
    leader = await env.person("Lawyer Chen", role=Role.TEAM_LEADER, team="law")
    clerk = await env.person("Clerk Sun", role=Role.VOLUNTEER, team="law")
    zheng = await env.person("Zheng", station="dongjie")
    await appoint_dispatcher(env, zheng, "culture_station")
    resident = await env.person("Grandpa Ma", station="dongjie")

    number = await order_through_chat(
        resident, area=POLICY_AREA, category=POLICY_TALK, need="Explain the pension rules"
    )
    card = await zheng.expect(contains=number)  # 站所接单: the lead unit has it first
    assert not [b for b in card.buttons() if "Accept" in b]  # a unit dispatches, not serves
    await zheng.press(LAW_TEAM, message=card)  # 派单
    await zheng.expect_edit(card.message_id)

    accepted = await accept_order(leader, await leader.expect(contains=number))
    await assign_volunteer(leader, accepted, volunteer="Clerk Sun")
    await serve_task(clerk, hours="2")
    await confirm_hours(leader)
    rate = await resident.expect(contains="How was the service")
    await resident.press("⭐⭐⭐⭐⭐", message=rate)
    await resident.expect(contains="add a comment")

    order = await order_by_number(env, number)
    assert order.status == OrderStatus.RATED
    kinds = await event_kinds(env, order.id)
    assert kinds[:4] == ["created", "received", "dispatched", "accepted"], kinds
    assert kinds[-1] == "rated", kinds


async def test_no_answer_goes_to_the_lead_unit_then_the_office(db_url, tmp_path):
    async with bot_at(db_url, tmp_path, local(10, 9)) as (_sim, env):
        doctor = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
        office = await env.person("Office Wu", role=Role.OFFICE)
        tian = await env.person("Tian", station="dongjie")
        await appoint_dispatcher(env, tian, "health_centre")
        grandma = await env.person("Grandma Li")

        # 义诊 is on an auto platform: the health team's leader has the card at once.
        number, card = await order_to(doctor, await order_through_chat(grandma))
        await head.expect(contains="A new order from your village")
        await tian.expect_nothing_new()

        # Two hours without an answer: the order goes back to its lead unit, the 卫生院,
        # whose dispatcher is asked to pick another team; the station head is told; the
        # office is not next in line yet.
        await advance_to(env, local(10, 11))
        again = await tian.expect(contains=number)
        assert "Not accepted in time" in again.text and again.buttons()
        told = await head.expect(contains=number)
        assert "was not accepted" in told.text
        await doctor.press("✅ Accept", message=card)  # too late: the unit has it now
        assert (await doctor.callback_answer()).show_alert
        order = await order_by_number(env, number)
        assert (order.status, order.handler_kind) == (OrderStatus.NEW, "unit")

        # Two more hours and no 派单: the institute office, the last in line, gets it.
        await advance_to(env, local(10, 13))
        offered = await office.expect(contains=number)
        await head.expect(contains=number)
        await accept_order(office, offered)
        await grandma.expect(contains="was accepted by the institute office")
        order = await order_by_number(env, number)
        assert (order.status, order.handler_kind) == (OrderStatus.ACCEPTED, "office")
        kinds = await event_kinds(env, order.id)
        assert "to_unit" in kinds and kinds[-1] == "accepted", kinds
