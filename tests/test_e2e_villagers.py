"""Made for villagers, end to end through the simulator: the pin reaches whoever goes, a
common need in five taps, a proxy order for someone without a phone, a cancel that asks
first, and no card left with a button that no longer works."""

from __future__ import annotations

from sqlalchemy import select

from bench.conversation import order_number
from models import Order, OrderStatus, Role, User
from simulator.driver import ChatSession
from tests.flows import (
    ASSIGNED,
    free_clinic_need,
    order_by_number,
    order_for_resident,
    order_through_chat,
    order_to,
    to_the_need,
)

PIN = (38.81, 106.62)


class Counting:
    """A resident whose every tap and message is counted."""

    def __init__(self, u: ChatSession) -> None:
        self.u, self.taps, self.messages = u, 0, 0

    async def tap(self, text: str) -> None:
        self.taps += 1
        await self.u.tap(text)

    async def press(self, text: str) -> None:
        self.taps += 1
        await self.u.press(text)

    async def send(self, text: str) -> None:
        self.messages += 1
        await self.u.send(text)


async def assign(leader: ChatSession, card, volunteer: str) -> None:
    await leader.press("✅ Accept", message=card)
    accepted = await leader.expect_edit(card.message_id)
    await leader.press("👥 Assign volunteers", message=accepted)
    roster = await leader.expect(contains="Who will go")
    await leader.press(f"☐ {volunteer}", message=roster)
    roster = await leader.expect_edit(roster.message_id)
    await leader.press("Next ➡", message=roster)
    slots = await leader.expect(contains="When will they go")
    await leader.press(slots.buttons()[0], message=slots)
    await leader.expect(contains=ASSIGNED)


async def test_the_shared_location_reaches_the_leader_and_the_volunteer(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await bot_env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    u = await bot_env.person("Grandma Li")
    await to_the_need(u)
    await u.send("My legs hurt")
    await u.expect(contains="When would suit you")
    await u.tap("Tomorrow")
    await u.expect(contains="Morning or afternoon")
    await u.tap("Morning")
    await u.expect(contains="Where should")
    await u.send_location(*PIN)
    await u.expect(contains="house number")
    summary = await u.expect(contains="Please check your request")
    assert "📍 the location you sent" in summary.text
    await u.send("No. 3, behind the school")  # the way there, beside the pin
    summary = await u.expect(contains="Please check your request")
    assert "No. 3, behind the school 📍" in summary.text
    await u.press("✅ Confirm")
    number = order_number((await u.expect(contains="order number is")).text)

    card = await leader.expect(contains=number)
    assert "No. 3, behind the school 📍 location sent" in card.text
    pin = await leader.expect()
    assert pin.location == PIN
    await assign(leader, card, "Nurse Wang")
    task = await vol.expect(contains="new task")
    assert "No. 3, behind the school" in task.text
    assert (await vol.expect()).location == PIN


async def test_no_pin_without_a_shared_location(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    u = await bot_env.person("Grandma Li")
    number = await order_through_chat(u)
    await leader.expect(contains=number)
    await bot_env.idle()
    assert all(m.location is None for m in await leader.history())


async def test_a_common_need_takes_five_taps_and_no_typing(bot_env):
    await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    u = await bot_env.person("Grandma Li")
    c = Counting(u)
    await to_the_need(u, c)
    await c.tap("⚡ No need to write: as soon as possible")
    summary = await u.expect(contains="Please check your request")
    assert "When: as soon as possible" in summary.text
    assert "at home in Miaomiaohu Village" in summary.text
    await c.press("✅ Confirm")
    done = await u.expect(contains="order number is")
    assert (c.taps, c.messages) == (5, 0)
    number = order_number(done.text)
    order = await order_by_number(bot_env, number)
    assert order.description == "" and order.address is None
    assert order.preferred_date is not None


async def test_a_typed_note_takes_seven(bot_env):
    u = await bot_env.person("Grandma Li")
    c = Counting(u)
    await to_the_need(u, c)
    await c.send("Check my blood sugar too")
    await u.expect(contains="When would suit you")
    await c.tap("⚡ As soon as possible")
    home = await u.expect(contains="Where should")
    await c.tap(next(b for row in home.reply_keyboard for b in row if b.startswith("🏠")))
    await u.expect(contains="Please check your request")
    await c.press("✅ Confirm")
    await u.expect(contains="order number is")
    assert c.taps + c.messages <= 7


async def test_order_again_asks_only_when(bot_env):
    u = await bot_env.person("Grandma Li")
    first = await order_through_chat(u, need="Blood pressure, as last time")
    await u.tap("📋 My orders")
    listed = await u.expect(contains=first)
    await u.press("✖ Cancel this order", message=listed)
    await u.expect_edit(listed.message_id)
    await u.press("✖ Yes, cancel it", message=listed)
    await u.expect_edit(listed.message_id)
    await u.press("🔁 Order this again", message=listed)
    await u.expect(contains="When would suit you")
    await u.tap("⚡ As soon as possible")
    summary = await u.expect(contains="Please check your request")
    assert "Blood pressure, as last time" in summary.text
    await u.press("✅ Confirm")
    done = await u.expect(contains="order number is")
    again = await order_by_number(bot_env, order_number(done.text))
    assert again.status == OrderStatus.NEW and again.description.startswith("Blood")


async def test_a_proxy_order_for_a_resident_without_a_phone(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await bot_env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    head = await bot_env.person("Secretary Ma", role=Role.STATION_HEAD, phone="+8613900000001")
    asked = await order_for_resident(head, "Old Zhao")
    assert "🚫 No phone" in [b for row in asked.reply_keyboard for b in row]
    await free_clinic_need(head)
    await head.tap("🕒 No need to write: pick a time")
    await head.expect(contains="When would suit you")
    await head.tap("⚡ As soon as possible")
    place = await head.expect(contains="Where should")
    buttons = [b for row in place.reply_keyboard for b in row]
    assert "🏠 At the resident's home in Miaomiaohu Village" in buttons
    assert "📍 Share my location" not in buttons  # that would be the head's own place
    await head.tap("🏠 At the resident's home in Miaomiaohu Village")
    summary = await head.expect(contains="Please check your request")
    assert "at the resident's home" in summary.text and "Old Zhao" in summary.text
    await head.press("✅ Confirm")
    number = order_number((await head.expect(contains="order number is")).text)
    async with bot_env.sessionmaker() as s:
        order = await s.scalar(select(Order).where(Order.number == number))
        assert (await s.get(User, order.resident_id)).phone is None
    card = await leader.expect(contains=number)
    await assign(leader, card, "Nurse Wang")
    task = await vol.expect(contains="new task")
    assert "contact Secretary Ma (station staff): +8613900000001" in task.text


async def test_taking_an_order_edits_the_other_leaders_cards(bot_env):
    zhang = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    liu = await bot_env.person("Dr Liu", role=Role.TEAM_LEADER, team="health")
    u = await bot_env.person("Grandma Li")
    number = await order_through_chat(u)
    mine, theirs = await zhang.expect(contains=number), await liu.expect(contains=number)
    assert "✅ Accept" in theirs.buttons()
    await zhang.press("✅ Accept", message=mine)
    assert "👥 Assign volunteers" in (await zhang.expect_edit(mine.message_id)).buttons()
    closed = await liu.expect_edit(theirs.message_id)
    assert closed.buttons() == []
    assert "has been taken" in closed.text


async def test_cancelling_edits_the_leaders_card(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    u = await bot_env.person("Grandma Li")
    number, card = await order_to(leader, await order_through_chat(u))
    await u.tap("📋 My orders")
    listed = await u.expect(contains=number)
    await u.press("✖ Cancel this order", message=listed)
    await u.expect_edit(listed.message_id)
    await u.press("↩ No, keep it", message=listed)
    kept = await u.expect_edit(listed.message_id)
    assert kept.buttons() == ["✖ Cancel this order"]
    assert (await order_by_number(bot_env, number)).status == OrderStatus.ROUTED
    await u.press("✖ Cancel this order", message=listed)
    await u.expect_edit(listed.message_id)
    await u.press("✖ Yes, cancel it", message=listed)
    assert "Status: Cancelled" in (await u.expect_edit(listed.message_id)).text
    closed = await leader.expect_edit(card.message_id)
    assert closed.buttons() == [] and "was cancelled" in closed.text


async def test_in_chinese_five_taps_and_the_proxy_buttons_speak_of_the_resident(bot_env):
    u = await bot_env.person("王大妈", lang="zh_CN")
    c = Counting(u)
    await c.tap("🙋 我要下单")
    await u.expect(contains="哪方面的帮助")
    await c.tap("看病义诊")
    await u.expect(contains="哪一项")
    await c.tap("义诊看病")
    await u.expect()
    await c.tap("⚡ 不用写了，越快越好")
    summary = await u.expect(contains="请核对您的订单")
    assert "时间：越快越好" in summary.text and "在家（庙庙湖村）" in summary.text
    await c.press("✅ 确认")
    await u.expect(contains="订单号")
    assert (c.taps, c.messages) == (5, 0)

    head = await bot_env.person("马书记", role=Role.STATION_HEAD, lang="zh_CN")
    await head.tap("📝 代群众下单")
    await head.expect()
    await head.send("赵大爷")
    await head.expect(contains="电话")
    await head.tap("🚫 没有电话")
    await head.expect()
    await head.tap("庙庙湖村")
    await head.expect(contains="哪方面的帮助")
    await head.tap("看病义诊")
    await head.expect(contains="哪一项")
    await head.tap("义诊看病")
    await head.expect()
    await head.tap("🕒 不用写了，选个时间")
    await head.expect()
    await head.tap("⚡ 越快越好")
    place = await head.expect()
    assert "🏠 在他/她家（庙庙湖村）" in [b for row in place.reply_keyboard for b in row]
