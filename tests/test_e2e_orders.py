"""The order loop end to end through the simulator: resident, leader, volunteer, head."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from bench.conversation import HEALTH_AREA, place_order_rest
from models import (
    Attachment,
    AttachmentStage,
    Order,
    OrderEvent,
    OrderStatus,
    PointsEntry,
    Rating,
    Role,
    User,
)
from simulator.driver import TINY_JPEG
from tests.flows import (
    PHOTOS_DONE,
    accept_order,
    asked_again,
    assign_volunteer,
    confirm_hours,
    decline_order,
    free_clinic_need,
    leader_squad_resident,
    order_and_card,
    order_by_number,
    order_through_chat,
    order_to,
    register_in_chat,
    to_the_need,
)

# The names other test modules import from here.
place_order = order_through_chat


async def test_happy_path_from_start_to_rating_with_photos(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD)

    resident = await env.new_user("Grandma Li")
    await register_in_chat(resident, "Miaomiaohu Village", "Li Guilan")

    number, card = await order_to(leader, await order_through_chat(resident))
    assert "✅ Accept" in card.buttons()
    assert resident.phone_number not in card.text  # the phone only after Accept
    info = await head.expect(contains=number)
    assert "Miaomiaohu" in info.text

    accepted = await accept_order(leader, card)
    assert resident.phone_number in accepted.text
    await resident.expect(contains="accepted")

    await assign_volunteer(leader, accepted, "Nurse Wang")
    await resident.expect(contains="Nurse Wang")

    task = await vol.expect(contains="new task")
    assert resident.phone_number in task.text
    await vol.press("▶ Start", message=task)
    await resident.expect(contains="started")
    await vol.press("✔ Done", message=await vol.expect_edit(task.message_id))
    await vol.expect(contains="photos")
    await vol.tap(PHOTOS_DONE)
    await vol.expect(contains="at least one photo")
    await vol.send_photo(TINY_JPEG)
    await vol.expect(contains="Photo 1")
    await vol.send_photo(TINY_JPEG + b"2")
    await vol.expect(contains="Photo 2")
    await vol.tap(PHOTOS_DONE)
    await vol.expect(contains="How many hours did Nurse Wang")
    for wrong in ("lots", "NaN", "-Infinity"):  # NaN once raised inside the comparison
        await asked_again(vol, wrong, "between 0.5 and 24")
    await vol.tap("2")
    await vol.expect(contains="short note")
    await vol.send("Blood pressure normal, advised rest")
    await vol.expect(contains="recorded as done")

    confirm = await confirm_hours(leader)
    assert "2" in confirm.text

    rate = await resident.expect(contains="How was the service")
    await resident.press("⭐⭐⭐⭐⭐", message=rate)
    await resident.expect(contains="add a comment")
    await resident.send("Very kind, thank you")
    await resident.expect(contains="comment was saved")

    order = await order_by_number(env, number)
    assert order.status == OrderStatus.RATED
    async with env.sessionmaker() as s:
        photos = (
            await s.scalars(
                select(Attachment).where(
                    Attachment.order_id == order.id, Attachment.stage == AttachmentStage.COMPLETION
                )
            )
        ).all()
        assert len(photos) == 2
        for photo in photos:
            assert photo.local_path and (env.settings.media_dir / photo.local_path).exists()
        rating = await s.scalar(select(Rating).where(Rating.order_id == order.id))
        assert (rating.score, rating.comment) == (5, "Very kind, thank you")
        vol_user = await env.db_user(vol)
        points = await s.scalar(
            select(func.sum(PointsEntry.points)).where(PointsEntry.user_id == vol_user.id)
        )
        assert points == 2 * 10 + 5  # 10 points an hour, 5 for five stars
        statuses = (
            await s.scalars(
                select(OrderEvent.to_status)
                .where(OrderEvent.order_id == order.id)
                .order_by(OrderEvent.id)
            )
        ).all()
    for status in ("new", "routed", "accepted", "in_progress", "done", "rated"):
        assert status in statuses


async def test_cancel_mid_conversation_leaves_nothing(bot_env):
    u = await bot_env.person("Zhang")
    await u.tap("🙋 Request a service")
    await u.expect(contains="What kind of help")
    await u.tap(HEALTH_AREA)
    await u.expect(contains="Which of these")
    await u.tap("✖ Cancel")
    await u.expect(contains="Stopped")
    await u.send("/order")
    await u.expect(contains="What kind of help")
    await u.send("/cancel")
    await u.expect(contains="Stopped")
    async with bot_env.sessionmaker() as s:
        assert await s.scalar(select(func.count(Order.id))) == 0


async def test_back_and_bad_input_keep_the_conversation(bot_env):
    u = await bot_env.person("Zhao")
    await u.tap("🙋 Request a service")
    await u.expect(contains="What kind of help")
    await u.send("something random")  # words, not a button: asked whether it is a need
    await u.press("No, thanks", message=await u.expect(contains="Shall we pass this on"))
    await u.expect(contains="What kind of help")  # no: back to the same step
    await u.tap(HEALTH_AREA)
    await u.expect(contains="Which of these")
    await u.tap("⬅ Back")
    await u.expect(contains="What kind of help")
    await free_clinic_need(u)
    await u.send("x" * 1001)
    await u.expect(contains="too long")
    await u.send_contact(own=True)  # neither text, voice nor photo
    await u.expect(contains="voice message")
    await u.send_photo(caption="My swollen ankle")
    await u.expect(contains="When would suit you")
    await u.tap("Pick a date")
    dates = await u.expect(contains="Pick a date")
    await u.tap(dates.reply_keyboard[1][0])
    await u.expect(contains="Morning or afternoon")
    await u.tap("Afternoon")
    await u.expect(contains="Where should")
    await u.send_location(38.8, 106.6)
    summary = await u.expect(contains="Please check your request")
    assert "My swollen ankle" in summary.text
    await u.press("✏ Edit")
    await u.expect(contains="What would you like to change")
    await u.press("What is needed")
    await u.expect(contains="Tell us what you need")
    await u.send("Ankle hurts after a fall")
    summary = await u.expect(contains="Please check your request")
    assert "Ankle hurts after a fall" in summary.text
    confirm_data = summary.button("✅ Confirm").callback_data
    await u.press("✅ Confirm")
    done = await u.expect(contains="order number is")
    # a double tap on Confirm (the old button, replayed) creates nothing more: the resident
    # is told the same number again (as after a crash between the order and the reply)
    await u.press_data(summary, confirm_data)
    assert (await u.expect(contains="order number is")).text == done.text
    async with bot_env.sessionmaker() as s:
        orders = (await s.scalars(select(Order))).all()
        assert len(orders) == 1
        assert orders[0].latitude == 38.8
        request = await s.scalar(select(Attachment).where(Attachment.order_id == orders[0].id))
        assert request.stage == AttachmentStage.REQUEST


async def test_voice_note_is_accepted_as_the_request(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    u = await bot_env.person("Old Ma")
    await to_the_need(u)
    await u.send_voice(b"OggS-fake-voice", duration=4)
    await u.expect(contains="When would suit you")
    await u.tap("Today")
    await u.expect(contains="Morning or afternoon")
    await u.tap("Any time")
    await u.expect(contains="Where should")
    await u.send("Row 3, house 12")
    await u.expect(contains="Please check your request")
    await u.press("✅ Confirm")
    await u.expect(contains="order number is")
    card = await leader.expect(contains="new order")
    await leader.press("🎤 Listen", message=card)
    voice = await leader.expect()
    assert voice.voice is not None


async def test_proxy_order_by_station_head(bot_env):
    head = await bot_env.person("Secretary Ma", role=Role.STATION_HEAD)
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    await head.tap("📝 Order for a resident")
    await head.expect(contains="resident's name")
    await head.send("Old Wang")
    await head.expect(contains="phone number")
    await asked_again(head, "abc", "does not look like")
    await head.send("13912345678")
    await head.expect(contains="Which village")
    await head.tap("Miaomiaohu Village")
    await head.expect(contains="What kind of help")
    number = await place_order_rest(head)
    card = await leader.expect(contains=number)
    assert "station staff" in card.text
    order = await order_by_number(bot_env, number)
    assert order.is_proxy
    assert order.placed_by_id == (await bot_env.db_user(head)).id
    assert order.resident_id != order.placed_by_id


async def test_decline_reroutes_to_the_village_squad(bot_env):
    env = bot_env
    leader, head, resident = await leader_squad_resident(env)
    number, card = await order_to(leader, await order_through_chat(resident))
    await decline_order(leader, card)
    await leader.send("Our doctors are all at the county hospital today")
    await leader.expect(contains="Declined")
    squad_card = await head.expect(contains="new order for your team")
    assert number in squad_card.text
    await resident.expect(contains="passed to")
    async with env.sessionmaker() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        notes = (
            await s.scalars(select(OrderEvent.note).where(OrderEvent.order_id == order.id))
        ).all()
    assert any("county hospital" in (n or "") for n in notes)


async def test_transfer_to_another_team(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    lawyer = await env.person("Judge Liu", role=Role.TEAM_LEADER, team="law")
    resident = await env.person("Grandma Li")
    number, card = await order_to(leader, await order_through_chat(resident))
    await leader.press("↪ Transfer", message=card)
    teams = await leader.expect(contains="to which team")
    law_button = next(b for b in teams.buttons() if b.startswith("Legal"))
    await leader.press(law_button, message=teams)
    await leader.expect(contains="why this team")
    await leader.send("It is a dispute about land, not health")
    await leader.expect(contains="Transferred to")
    await lawyer.expect(contains=number)
    order = await order_by_number(env, number)
    assert order.team_id == (await env.team("law")).id


async def test_no_leader_goes_to_the_squad(bot_env):
    head = await bot_env.person("Secretary Ma", role=Role.STATION_HEAD)
    resident = await bot_env.person("Grandma Li")
    number = await order_through_chat(resident)  # the health team has nobody appointed
    card = await head.expect(contains="new order for your team")
    assert number in card.text
    order = await order_by_number(bot_env, number)
    assert order.handler_kind == "squad"


async def test_a_leader_who_blocked_the_bot_is_passed_over_at_once(bot_env):
    env = bot_env
    leader, head, resident = await leader_squad_resident(env)
    await leader.block()  # the bot hears of it (my_chat_member) and marks him
    await env.driver.until_updates_handled()
    assert (await env.db_user(leader)).blocked

    number = await order_through_chat(resident)  # no scheduler here: only routing can move it
    card = await head.expect(contains="new order for your team")
    assert number in card.text
    order = await order_by_number(env, number)
    assert (order.handler_kind, order.team_id) == ("squad", (await env.team("squad_miaomiaohu")).id)
    async with env.sessionmaker() as s:
        note = await s.scalar(
            select(OrderEvent.note)
            .where(OrderEvent.order_id == order.id, OrderEvent.kind == "routed")
            .order_by(OrderEvent.id.desc())
        )
    assert "has no active leader" in note


async def test_concurrent_accept_has_one_winner(bot_env):
    env = bot_env
    a = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    b = await env.person("Dr Sun", role=Role.TEAM_LEADER, team="health")
    resident = await env.person("Grandma Li")
    number = await order_through_chat(resident)
    card_a, card_b = await a.expect(contains=number), await b.expect(contains=number)
    qa, qb = await asyncio.gather(
        a.press("✅ Accept", message=card_a), b.press("✅ Accept", message=card_b)
    )
    answers = [await a.callback_answer(query_id=qa), await b.callback_answer(query_id=qb)]
    winners = [x for x in answers if x.text.startswith("Accepted")]
    losers = [x for x in answers if "already accepted" in x.text]
    assert len(winners) == 1 and len(losers) == 1
    assert ("Dr Zhang" in losers[0].text) or ("Dr Sun" in losers[0].text)
    async with env.sessionmaker() as s:
        accepts = await s.scalar(
            select(func.count(OrderEvent.id)).where(OrderEvent.to_status == "accepted")
        )
    assert accepts == 1


async def test_wrong_roles_and_forged_buttons_are_refused(bot_env):
    env = bot_env
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    other_leader = await env.person("Judge Liu", role=Role.TEAM_LEADER, team="law")
    resident = await env.person("Grandma Li")
    order, card = await order_and_card(env, leader, resident)
    accept_data = card.button("✅ Accept").callback_data
    # the resident replays the leader's button on their own chat
    mine = (await resident.history())[-1]
    await resident.press_data(mine, accept_data)
    refused = await resident.callback_answer()
    assert refused.show_alert and "not for you" in refused.text
    # a leader of another team
    their_own = (await other_leader.history())[-1]
    await other_leader.press_data(their_own, accept_data)
    refused = await other_leader.callback_answer()
    assert refused.show_alert and "not for you" in refused.text
    # garbage and a forged order id
    await leader.press_data(card, "o:accept:999999:1")
    assert "does not exist" in (await leader.callback_answer()).text
    await leader.press_data(card, "zz:nothing")
    assert "no longer valid" in (await leader.callback_answer()).text
    assert (await order_by_number(env, order.number)).status == OrderStatus.ROUTED
    assert order.status == OrderStatus.ROUTED


async def test_buttons_of_the_earlier_format_are_refused_politely(bot_env):
    """Buttons sent before callback data was typed are still in people's chats."""
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    resident = await bot_env.person("Grandma Li")
    number = await order_through_chat(resident)
    await leader.expect(contains=number)
    order = await order_by_number(bot_env, number)
    history = await resident.history()
    summary = [m for m in history if "Please check your request" in (m.text or "")][-1]
    for old in (f"p:confirm:{order.client_token}", "p:forget:yes"):
        await resident.press_data(summary, old)
        answer = await resident.callback_answer()
        assert answer.show_alert and "no longer valid" in answer.text
    async with bot_env.sessionmaker() as s:
        assert len((await s.scalars(select(Order))).all()) == 1
        assert (await s.get(User, order.resident_id)).name == "Grandma Li"


async def test_resident_lists_and_cancels_an_order(bot_env):
    resident = await bot_env.person("Grandma Li")
    number = await order_through_chat(resident)
    await resident.tap("📋 My orders")
    listed = await resident.expect(contains=number)
    await resident.press("✖ Cancel this order", message=listed)
    asked = await resident.expect_edit(listed.message_id)  # nothing undone on one tap
    assert "Are you sure" in asked.text
    assert asked.buttons() == ["✖ Yes, cancel it", "↩ No, keep it"]
    assert (await order_by_number(bot_env, number)).status != OrderStatus.CANCELLED
    await resident.press("✖ Yes, cancel it", message=listed)
    assert "cancelled" in (await resident.callback_answer()).text
    card = await resident.expect_edit(listed.message_id)
    assert "Status: Cancelled" in card.text
    assert card.buttons() == ["🔁 Order this again"]
    assert (await order_by_number(bot_env, number)).status == OrderStatus.CANCELLED


def test_media_dir_is_under_tmp(tmp_path: Path):
    assert tmp_path.exists()


async def test_a_resident_can_delete_their_personal_data(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    resident = await bot_env.person("Grandma Li", phone="+8613712345678")
    number = await order_through_chat(resident)
    await leader.expect(contains=number)
    await resident.send("/forget")
    await resident.expect(contains="Delete your data")
    await resident.press("🗑 Yes, delete my data")
    await resident.expect(contains="has been deleted (1 open requests cancelled)")
    async with bot_env.sessionmaker() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        user = await s.get(User, order.resident_id)
    assert order.status == OrderStatus.CANCELLED  # kept for the figures, no longer open
    assert (user.name, user.phone, user.tg_id) == (None, None, None)
    assert user.anonymised_at is not None
    await resident.send("/start")  # the same account later is a stranger again
    await resident.expect(contains="village")
