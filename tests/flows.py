"""The conversations end-to-end tests walk again and again, through the simulator's driver
(`SimUser`s from `tests.harness.BotEnv.person`) against the real bot.

    number, card = await order_to(leader, await order_through_chat(resident))
    accepted = await accept_order(leader, card)
    await assign_volunteer(leader, accepted, "Nurse Wang")
    await serve_task(nurse, hours="2", note="Measured, all fine")
    await confirm_hours(leader)

Every step waits for the bot's answer to it (`expect` fails with the chat's tail when it
does not come), so a flow fails at the step where the bot stops answering as it should.
A test that checks a step itself walks that step by hand instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bench.conversation import FREE_CLINIC, HEALTH_AREA, ORDER_BUTTON, place_order_rest
from models import Order, Role, ServiceCategory, User
from simulator.driver import TINY_JPEG, BotMessage, SimUser
from tests.factories import place_order
from tests.harness import BotEnv, from_menu


async def leader_squad_resident(env: BotEnv) -> tuple[SimUser, SimUser, SimUser]:
    """Dr Zhang leads the health team; Secretary Ma heads Miaomiaohu Village and so leads its
    squad too (where a declined order goes); Grandma Li lives there."""
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    return leader, head, await env.person("Grandma Li")


async def order_through_chat(
    resident: SimUser,
    *,
    need: str = "Please check my blood pressure",
    day: str = "Tomorrow",
    **choice: str,
) -> str:
    """The resident walks the ordering conversation from the main menu; returns the order
    number the bot reports. `choice`: the `area` and `category` (by default a free clinic,
    as `bench.conversation.place_order_rest` picks)."""
    await resident.tap(ORDER_BUTTON)
    await resident.expect(contains="What kind of help")
    return await place_order_rest(resident, need=need, day=day, **choice)


async def to_the_need(u: SimUser, tapper: Any = None) -> None:
    """From the menu to the question of what is needed (the health area's free clinic); the
    three taps go through `tapper` (one that counts them) when given."""
    tapper = tapper or u
    await tapper.tap(ORDER_BUTTON)
    await u.expect(contains="What kind of help")
    await tapper.tap(HEALTH_AREA)
    await u.expect(contains="Which of these")
    await tapper.tap(FREE_CLINIC)
    await u.expect(contains="Tell us what you need")


async def decline_order(leader: SimUser, card: BotMessage) -> BotMessage:
    """❌ Decline on the order card; returns the question why, with the reasons to tap."""
    await leader.press("❌ Decline", message=card)
    return await leader.expect(contains="Why can't your team")


async def order_to(leader: SimUser, number: str) -> tuple[str, BotMessage]:
    """The order `number` and the card with it that reached `leader`."""
    return number, await leader.expect(contains=number)


async def order_by_number(env: BotEnv, number: str) -> Order:
    async with env.sessionmaker() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        assert order is not None, number
        return order


async def accept_order(leader: SimUser, card: BotMessage) -> BotMessage:
    """✅ Accept on the order card; returns the card as edited (with the resident's phone)."""
    await leader.press("✅ Accept", message=card)
    return await leader.expect_edit(card.message_id)


async def assign_volunteer(
    leader: SimUser, accepted: BotMessage, volunteer: str = "Nurse Wang", slot: int | str = 0
) -> list[str]:
    """👥 Assign volunteers on the accepted card: ticks `volunteer`, then picks the time
    `slot` (a button's label, or its place among the offered ones). Returns the times the
    bot offered."""
    await leader.press("👥 Assign volunteers", message=accepted)
    roster = await leader.expect(contains="Who will go")
    await leader.press(f"☐ {volunteer}", message=roster)
    await leader.press("Next ➡", message=await leader.expect_edit(roster.message_id))
    slots = await leader.expect(contains="When will they go")
    offered = slots.buttons()
    await leader.press(slot if isinstance(slot, str) else offered[slot], message=slots)
    await leader.expect(contains="The volunteers and the resident have been told")
    return offered


async def serve_task(vol: SimUser, *, hours: str = "2", note: str | None = None) -> None:
    """The volunteer starts the task that reached them and records it done: one photo,
    `hours` tapped, and `note` (None: ⏭ Skip)."""
    task = await vol.expect(contains="new task")
    await vol.press("▶ Start", message=task)
    await report_done(vol, await vol.expect_edit(task.message_id), hours, note)


async def report_done(vol: SimUser, task: BotMessage, hours: str, note: str | None = None) -> None:
    """✔ Done on the (started) task: one photo, `hours` tapped, and `note` (None: ⏭ Skip)."""
    await vol.press("✔ Done", message=task)
    await vol.expect(contains="photos")
    await vol.send_photo(TINY_JPEG)
    await vol.expect(contains="Photo 1")
    await vol.tap("✅")
    await vol.expect(contains=f"How many hours did {vol.first_name}")
    await vol.tap(hours)
    await vol.expect(contains="short note")
    if note is None:
        await vol.tap("Skip")
    else:
        await vol.send(note)
    await vol.expect(contains="recorded as done")


async def confirm_hours(leader: SimUser) -> BotMessage:
    """The leader confirms the reported hours; returns the request they confirmed."""
    confirm = await leader.expect(contains="Reported hours")
    await leader.press("✅ Confirm hours", message=confirm)
    assert "confirmed" in (await leader.callback_answer()).text
    return confirm


async def compose_notice(
    u: SimUser, text: str, *, photo: bool = False, reply: str | None = None
) -> BotMessage:
    """📢 Notices → ✍ New notice → the text (as a photo's caption with `photo`); returns
    the next step's message (the first to contain `reply`, if given)."""
    await u.tap("📢 Notices")
    menu = await u.expect(contains="Notices to residents")
    await u.press("✍ New notice", message=menu)
    await u.expect(contains="Write the notice")
    if photo:
        await u.send_photo(TINY_JPEG, caption=text)
    else:
        await u.send(text)
    return await u.expect(contains=reply)


async def press_through(u: SimUser, form: BotMessage, *buttons: str) -> BotMessage:
    """Press each button in turn on a form the bot edits in place, waiting for each edit;
    returns the form as last edited."""
    current = form
    for label in buttons:
        await u.press(label, message=current)
        current = await u.expect_edit(form.message_id)
    return current


async def two_village_orders(env: BotEnv) -> SimUser:
    """The health team's leader, the office, and one free-clinic order (placed through the real
    service) from each of two villages, Miaomiaohu and Dongjie; returns the office."""
    await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    office = await env.person("Office Li", role=Role.OFFICE)
    residents = [await env.person("Grandma Li"), await env.person("Uncle Wang", station="dongjie")]
    await clinic_orders(env, residents)
    await env.settle()
    return office


async def clinic_orders(env: BotEnv, residents: list[SimUser]) -> None:
    """One free-clinic order per resident, placed through the real service."""
    async with env.sessionmaker() as s:
        clinic = await s.scalar(
            select(ServiceCategory).where(ServiceCategory.code == "taole.free_clinic")
        )
        for sim_user in residents:
            user = await s.scalar(select(User).where(User.tg_id == sim_user.id))
            await place_order(s, user, clinic, description="需要量血压")


async def month_report(u: SimUser) -> tuple[BotMessage, BotMessage, BotMessage]:
    """📊 Reports → This month: the period menu, the figures, and the chart (with the buttons
    for the archives and the scorecards)."""
    await from_menu(u, "📊 Reports")
    menu = await u.expect(contains="Which period?")
    await u.press("This month", message=menu)
    figures = await u.expect(contains="Orders:")
    return menu, figures, await u.expect()
