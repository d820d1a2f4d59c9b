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


async def register_in_chat(u: SimUser, village: str, name: str) -> None:
    """/start for someone new: their village, their name, their own phone (shared)."""
    await u.send("/start")
    await u.expect(contains="village")
    await u.tap(village)
    await u.expect(contains="name")
    await u.send(name)
    await u.expect(contains="phone")
    await u.send_contact(own=True)
    await u.expect(contains="Welcome")


async def leader_squad_resident(env: BotEnv) -> tuple[SimUser, SimUser, SimUser]:
    """Dr Zhang leads the health team; Secretary Ma heads Miaomiaohu Village and so leads its
    squad too (where a declined order goes); Grandma Li lives there."""
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    return leader, head, await env.person("Grandma Li")


# What the bot says at the steps the flows wait for (one place to change when a wording does).
ASSIGNED = "the resident has been told"  # «已派给许成林，已告诉群众»
PHOTOS_DONE = "✅ Photos done"
HOURS_QUESTION = "How many hours did {name}"
RECORDED_DONE = "recorded as done"


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
    await free_clinic_need(u, tapper)


async def free_clinic_need(u: SimUser, tapper: Any = None) -> None:
    """From the question of the kind of help to the question of what is needed: the health
    area's free clinic (`tapper` as in `to_the_need`)."""
    tapper = tapper or u
    await tapper.tap(HEALTH_AREA)
    await u.expect(contains="Which of these")
    await tapper.tap(FREE_CLINIC)
    await u.expect(contains="Tell us what you need")


async def order_for_resident(head: SimUser, name: str, phone: str | None = None) -> BotMessage:
    """📝 Order for a resident: their name, their phone (None: 🚫 No phone) and Miaomiaohu
    Village, up to the question of the kind of help; returns the question of the phone."""
    await head.tap("📝 Order for a resident")
    await head.expect(contains="name")
    await head.send(name)
    asked = await head.expect(contains="phone number")
    await (head.tap("🚫 No phone") if phone is None else head.send(phone))
    await head.expect(contains="Which village")
    await head.tap("Miaomiaohu Village")
    await head.expect(contains="What kind of help")
    return asked


async def decline_order(leader: SimUser, card: BotMessage) -> BotMessage:
    """❌ Decline on the order card; returns the question why, with the reasons to tap."""
    await leader.press("❌ Decline", message=card)
    return await leader.expect(contains="Why can't your team")


async def order_to(leader: SimUser, number: str) -> tuple[str, BotMessage]:
    """The order `number` and the card with it that reached `leader`."""
    return number, await leader.expect(contains=number)


async def order_and_card(
    env: BotEnv, leader: SimUser, resident: SimUser
) -> tuple[Order, BotMessage]:
    """The resident orders through the chat: the order as stored, and the card of it that
    reached `leader`."""
    number, card = await order_to(leader, await order_through_chat(resident))
    return await order_by_number(env, number), card


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
    await leader.expect(contains=ASSIGNED)
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
    await vol.tap(PHOTOS_DONE)
    await vol.expect(contains=HOURS_QUESTION.format(name=vol.first_name))
    await vol.tap(hours)
    await vol.expect(contains="short note")
    if note is None:
        await vol.tap("Skip")
    else:
        await vol.send(note)
    await vol.expect(contains=RECORDED_DONE)


async def confirm_hours(leader: SimUser) -> BotMessage:
    """The leader confirms the reported hours; returns the request they confirmed."""
    confirm = await leader.expect(contains="Reported hours")
    await leader.press("✅ Confirm hours", message=confirm)
    assert "confirmed" in (await leader.callback_answer()).text
    return confirm


async def notices_menu(u: SimUser) -> BotMessage:
    """📢 Notices: the menu of notices to residents."""
    await u.tap("📢 Notices")
    return await u.expect(contains="Notices to residents")


async def compose_notice(
    u: SimUser, text: str, *, photo: bool = False, reply: str | None = None
) -> BotMessage:
    """📢 Notices → ✍ New notice → the text (as a photo's caption with `photo`); returns
    the next step's message (the first to contain `reply`, if given)."""
    await u.press("✍ New notice", message=await notices_menu(u))
    await u.expect(contains="Write the notice")
    if photo:
        await u.send_photo(TINY_JPEG, caption=text)
    else:
        await u.send(text)
    return await u.expect(contains=reply)


async def asked_again(u: SimUser, wrong: str, why: str) -> None:
    """A wrong answer: the bot says `why` (and waits for a better one)."""
    await u.send(wrong)
    await u.expect(contains=why)


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


async def find_person(u: SimUser, words: str, name: str) -> tuple[BotMessage, BotMessage]:
    """Asked for part of a person's name: writes `words` and taps `name` among the people
    found; returns the list and what it became (the person's card, or the step after)."""
    await u.expect(contains="part of the person's name")
    await u.send(words)
    found = await u.expect(contains="Tap the person")
    await u.press(name, message=found)
    return found, await u.expect_edit(found.message_id)


async def open_resident(u: SimUser, words: str, name: str) -> tuple[BotMessage, BotMessage]:
    """👥 Residents → the card of `name`, found by `words` (see `find_person`)."""
    await from_menu(u, "👥 Residents")
    return await find_person(u, words, name)
