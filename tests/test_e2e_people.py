"""👥 Residents in the chat: a station head switches large print on for a resident of their
village and marks their priority group; the office books an hours correction and a
commendation bonus. Everyone else, and every forged button, is refused before anything is
shown."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models import LedgerSource, PointsEntry, PriorityGroup, Role, User
from tests.flows import asked_again, open_resident
from tests.harness import from_menu
from views.people import (
    PersonBooking,
    PersonErase,
    PersonGroupSet,
    PersonLargePrint,
    PersonPicked,
)


async def _fresh(env, sim_user) -> User:
    async with env.sessionmaker() as s:
        return await s.scalar(select(User).where(User.tg_id == sim_user.id))


async def test_a_head_sets_large_print_and_a_priority_group_for_a_villager(bot_env):
    env = bot_env
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    grandpa = await env.person("Grandpa Zhang")  # Miaomiaohu, like the head
    stranger = await env.person("Uncle Liu", station="dongjie")

    await from_menu(head, "👥 Residents")
    await head.expect(contains="part of the person's name")
    await head.send("Liu")  # of another village: not found
    await head.expect(contains="Nobody of your villages")
    await head.send("Zhang")
    found = await head.expect(contains="Tap the person")
    await head.expect(contains="menu")
    assert found.buttons() == ["Grandpa Zhang"]
    await head.press("Grandpa Zhang", message=found)
    card = await head.expect_edit(found.message_id)
    assert "Priority group: none" in card.text and "Large print: off" in card.text
    assert "⏱ Correct hours" not in card.buttons()  # the office's, not the head's

    await head.press("🔠 Large print, big buttons", message=card)
    card = await head.expect_edit(found.message_id)
    assert "Large print: on" in card.text
    await grandpa.send("/start")
    menu = await grandpa.expect(contains="Hello")
    assert all(len(row) == 1 for row in menu.reply_keyboard), menu.reply_keyboard

    await head.press("🏷 Priority group", message=card)
    groups = await head.expect_edit(found.message_id)
    await head.press("Left-behind elderly", message=groups)
    card = await head.expect_edit(found.message_id)
    assert "Priority group: Left-behind elderly" in card.text
    async with env.sessionmaker() as s:
        group = await s.get(PriorityGroup, (await _fresh(env, grandpa)).priority_group_id)
    assert group is not None and group.code.endswith("left_behind_elderly")

    # Forged buttons for someone of another village, or pressed by a resident: refused,
    # nothing changed, nothing shown.
    other = await _fresh(env, stranger)
    for who, data in (
        (head, PersonPicked(user_id=other.id)),
        (head, PersonLargePrint(user_id=other.id, on=True)),
        (head, PersonGroupSet(user_id=other.id, group_id=group.id)),
        (head, PersonBooking(user_id=(await _fresh(env, grandpa)).id, bonus=True)),
        (stranger, PersonLargePrint(user_id=(await _fresh(env, grandpa)).id, on=False)),
    ):
        before = (await who.history())[-1]
        await who.press_data(before, data.pack())
        refused = await who.callback_answer()
        assert refused.show_alert, (who.persona["first_name"], data)
        assert (await who.history())[-1] == before
    other = await _fresh(env, stranger)
    assert not other.large_print and other.priority_group_id is None
    assert (await _fresh(env, grandpa)).large_print


async def _book(office, amount: str, reason: str):
    await office.send(amount)
    await office.expect(contains="Why?")
    await office.send(reason)
    return await office.expect(contains="Booked")


async def test_the_office_books_a_correction_and_a_bonus(bot_env):
    env = bot_env
    office = await env.person("Office Li", role=Role.OFFICE)
    volunteer = await env.person("Volunteer Xu", role=Role.VOLUNTEER, team="health")

    _, card = await open_resident(office, "Xu", "Volunteer Xu")
    assert "This year: 0 hours, 0 points" in card.text

    await office.press("⏱ Correct hours", message=card)
    await office.expect(contains="How many hours")
    await asked_again(office, "NaN", "Hours must be")
    booked = await _book(office, "-1.5", "Counted twice at the May clinic")
    assert "-1.5 hours" in booked.text and "-15 points" in booked.text

    await office.press("🏅 Commendation bonus", message=card)
    await office.expect(contains="How many points")
    booked = await _book(office, "20", "Commended by the county")
    assert "Booked: 20 points" in booked.text

    async with env.sessionmaker() as s:
        rows = list(
            await s.scalars(
                select(PointsEntry)
                .where(PointsEntry.user_id == (await _fresh(env, volunteer)).id)
                .order_by(PointsEntry.id)
            )
        )
    assert [(r.source, r.hours, r.points, r.reason) for r in rows] == [
        (
            LedgerSource.CORRECTION,
            Decimal("-1.50"),
            Decimal("-15.00"),
            "Counted twice at the May clinic",
        ),
        (LedgerSource.BONUS, Decimal("0.00"), Decimal("20.00"), "Commended by the county"),
    ]


async def test_the_office_erases_a_resident_who_has_no_telegram(bot_env):
    env = bot_env
    office = await env.person("Office Li", role=Role.OFFICE)
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)
    async with env.sessionmaker() as s:
        region = await env.station("miaomiaohu")
        nophone = User(
            tg_id=None,
            name="Granny Bai",
            phone="13900001111",
            station_id=region.id,
            town_id=region.parent_id,
            registered=True,
        )
        s.add(nophone)
        await s.commit()
        granny = nophone.id

    _, card = await open_resident(head, "Bai", "Granny Bai")
    assert "🗑 Erase personal data" not in card.buttons()  # the office's
    await head.press_data(card, PersonErase(user_id=granny, sure=True).pack())
    assert (await head.callback_answer()).show_alert

    found, card = await open_resident(office, "Bai", "Granny Bai")
    await office.press("🗑 Erase personal data", message=card)
    asked = await office.expect_edit(found.message_id)
    assert "cannot be undone" in asked.text
    await office.press("🗑 Yes, erase", message=asked)
    done = await office.expect_edit(found.message_id)
    assert "Erased" in done.text and done.buttons() == []
    async with env.sessionmaker() as s:
        erased = await s.get(User, granny)
    assert erased.name is None and erased.phone is None and not erased.registered
