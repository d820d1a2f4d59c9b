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

from sqlalchemy import select

from bench.conversation import ORDER_BUTTON, place_order_rest
from models import Order
from simulator.driver import TINY_JPEG, BotMessage, SimUser
from tests.harness import BotEnv

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
    await leader.expect(contains=ASSIGNED)
    return offered


async def serve_task(vol: SimUser, *, hours: str = "2", note: str | None = None) -> None:
    """The volunteer starts the task that reached them and records it done: one photo,
    `hours` tapped, and `note` (None: ⏭ Skip)."""
    task = await vol.expect(contains="new task")
    await vol.press("▶ Start", message=task)
    await vol.press("✔ Done", message=await vol.expect_edit(task.message_id))
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
