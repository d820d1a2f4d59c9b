"""Every need is heard, end to end through the simulator: words typed at the main menu and a
voice note sent instead of picking an area become «其他需求» orders once the resident says
yes; the institute office sorts them into a service and a team leader accepts; «你好» and
«不用了» make nothing; the office may answer and close an order; on an `auto` team the lead
unit's dispatcher re-dispatches from the chat before anyone accepts, and a dispatcher of
another unit pressing a forged button is refused."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bench.conversation import place_order_rest
from models import (
    Attachment,
    Order,
    OrderEvent,
    OrderStatus,
    Role,
    ServiceArea,
    ServiceCategory,
    Team,
    User,
)
from services.i18n import local_name
from tests.test_e2e_dispatch import appoint_dispatcher, order_by_number
from tests.test_e2e_wording import dashboard_get
from views.heard import SendNeed
from views.unit_queue import Redispatch, RedispatchTo

LEAK = "我家水管漏水了，能来人帮忙修一下吗"
QUESTION_ZH = "要把这件事报给镇上吗？"
YES_ZH, NO_ZH = "✅ 是的，报给镇上", "不用了"
YES, NO = "✅ Yes, pass it on", "No, thanks"
LATIN = re.compile(r"[A-Za-z]")


async def orders_of(env, sim_user) -> int:
    async with env.sessionmaker() as s:
        user = await s.scalar(select(User).where(User.tg_id == sim_user.id))
        return int(await s.scalar(select(func.count(Order.id)).where(Order.resident_id == user.id)))


async def events(env, order_id: int) -> list[tuple[str, str | None]]:
    async with env.sessionmaker() as s:
        rows = await s.execute(
            select(OrderEvent.kind, OrderEvent.note)
            .where(OrderEvent.order_id == order_id)
            .order_by(OrderEvent.id)
        )
        return [(kind, note) for kind, note in rows]


async def names(env, category_code: str) -> tuple[str, str]:
    """The English names of a category's area and of the category, as buttons show them."""
    async with env.sessionmaker() as s:
        category = await s.scalar(
            select(ServiceCategory).where(ServiceCategory.code == f"taole.{category_code}")
        )
        area = await s.get(ServiceArea, category.area_id)
        return local_name(area, "en"), local_name(category, "en")


async def team_name(env, code: str) -> str:
    async with env.sessionmaker() as s:
        return local_name(await s.scalar(select(Team).where(Team.code == f"taole.{code}")), "en")


def number_in(text: str) -> str:
    found = re.search(r"[A-Z]+-\d{8}-\d{4}", text)
    assert found, text
    return found.group(0)


async def triage(office, card, area: str, service: str) -> None:
    await office.press(area, message=card)
    opened = await office.expect_edit(card.message_id)
    await office.press(service, message=opened)
    done = await office.expect_edit(card.message_id)
    assert "Sorted into" in done.text and done.buttons() == []


async def test_words_typed_at_the_menu_become_an_order_the_office_sorts(bot_env):
    env = bot_env
    office = await env.person("Office Liu", role=Role.OFFICE)
    helper = await env.person("Helper Wu", role=Role.TEAM_LEADER, team="poverty")
    grandma = await env.person("王大妈", lang="zh_CN", phone="+8613922223333")

    await grandma.send(LEAK)
    asked = await grandma.expect(contains=QUESTION_ZH)
    assert LEAK in asked.text and "越快越好" in asked.text and "庙庙湖村" in asked.text
    assert not LATIN.search(asked.text)  # no English, no ids
    assert asked.buttons() == [YES_ZH, NO_ZH]
    assert await orders_of(env, grandma) == 0  # nothing is sent before the yes

    await grandma.press(YES_ZH, message=asked)
    told = await grandma.expect(contains="订单号")
    number = number_in(told.text)
    assert not LATIN.search(told.text.replace(number, ""))
    assert (await grandma.expect_edit(asked.message_id)).buttons() == []
    order = await order_by_number(env, number)
    assert (order.status, order.category_id, order.handler_kind) == (
        OrderStatus.NEW,
        None,
        "office",
    )
    assert order.description == LEAK and order.preferred_date is None and order.address is None

    area, repair = await names(env, "home_repair")
    await triage(office, await office.expect(contains=number), area, repair)
    card = await helper.expect(contains=number)
    await helper.press("✅ Accept", message=card)
    await grandma.expect(contains="已转给")  # sorted: the team is named
    await grandma.expect(contains="已接下")
    order = await order_by_number(env, number)
    assert order.status == OrderStatus.ACCEPTED and order.category_id is not None
    kinds = [k for k, _ in await events(env, order.id)]
    assert kinds[:3] == ["created", "received", "triaged"] and kinds[-1] == "accepted"


async def test_a_voice_note_in_the_area_step_becomes_an_order(bot_env):
    env = bot_env
    office = await env.person("Office Liu", role=Role.OFFICE)
    doctor = await env.person("Doctor Zhang", role=Role.TEAM_LEADER, team="health")
    grandpa = await env.person("Grandpa Ma")

    await grandpa.tap("🙋 Request a service")
    await grandpa.expect(contains="What kind of help")
    await grandpa.send("/help")  # a command is no need: the step's old answer
    await grandpa.expect(contains="tap one of the buttons")
    await grandpa.send_voice(b"OggS-my-back-hurts", duration=5)
    asked = await grandpa.expect(contains="Shall we pass this on to the town?")
    assert "You sent a voice message." in asked.text
    await grandpa.press(YES, message=asked)
    number = number_in((await grandpa.expect(contains="order number is")).text)
    order = await order_by_number(env, number)
    assert order.category_id is None
    async with env.sessionmaker() as s:
        kinds = list(
            await s.scalars(select(Attachment.kind).where(Attachment.order_id == order.id))
        )
    assert [str(k) for k in kinds] == ["voice"]

    card = await office.expect(contains=number)
    assert "🎤 Listen" in card.buttons()
    area, clinic = await names(env, "free_clinic")
    await triage(office, card, area, clinic)
    offered = await doctor.expect(contains=number)  # the health team's own units: auto
    await doctor.press("✅ Accept", message=offered)
    await grandpa.expect(contains="accepted")
    assert (await order_by_number(env, number)).status == OrderStatus.ACCEPTED

    # the form is over: the menu works as before
    await grandpa.tap("🙋 Request a service")
    await grandpa.expect(contains="What kind of help")


async def test_hello_and_no_thanks_make_nothing(bot_env):
    env = bot_env
    grandma = await env.person("王大妈", lang="zh_CN")
    await grandma.send("你好")
    asked = await grandma.expect(contains=QUESTION_ZH)
    await grandma.press(NO_ZH, message=asked)
    await grandma.expect(contains="什么也没有发出")
    assert (await grandma.expect_edit(asked.message_id)).buttons() == []
    # the question's «yes», replayed afterwards: no longer valid, still nothing
    token = SendNeed.unpack(asked.button(YES_ZH).callback_data).token
    await grandma.press_data(asked, SendNeed(token=token).pack())
    assert (await grandma.callback_answer()).show_alert
    assert await orders_of(env, grandma) == 0

    # what is not a need keeps its old answer
    await grandma.send("/nonsense")
    await grandma.expect(contains="没看懂")
    await grandma.send("水" * 1001)
    await grandma.expect(contains="内容太长了")
    stranger = await env.new_user("Stranger")
    await stranger.send("my pipe is leaking")
    await stranger.expect(contains="/start")
    await env.idle()
    await grandma.expect_nothing_new()
    await stranger.expect_nothing_new()
    assert await orders_of(env, grandma) == 0


async def _keys(u) -> set[str]:
    return {key for row in await u.reply_keyboard() or [] for key in row}


async def test_the_office_answers_and_closes_an_order(bot_env, db_url, tmp_path):
    env = bot_env
    office = await env.person("Office Liu", role=Role.OFFICE)
    grandma = await env.person("王大妈", lang="zh_CN")
    await grandma.send("低保怎么申请？")
    await grandma.press(YES_ZH, message=await grandma.expect(contains=QUESTION_ZH))
    number = number_in((await grandma.expect(contains="订单号")).text)

    card = await office.expect(contains=number)
    assert "✉ Reply to the resident" in card.buttons()
    await office.press("✅ Reply and close", message=card)
    asked = await office.expect(contains="the order is then closed")
    assert "/cancel" not in asked.text and "“✖ Cancel”" in asked.text
    assert await _keys(office) == {"✖ Cancel"}  # the button the question speaks of
    await office.send("Bring your household register to the town hall on Monday.")
    await office.expect(contains="Sent to the resident; the order is closed.")
    assert "✖ Cancel" not in await _keys(office)  # the menu is back
    told = await grandma.expect(contains=number)
    assert "household register" in told.text and "订单已结束" in told.text

    order = await order_by_number(env, number)
    assert order.status == OrderStatus.CANCELLED
    assert (await events(env, order.id))[-1] == (
        "answered",
        "Bring your household register to the town hall on Monday.",
    )
    await office.press("✅ Reply and close", message=card)  # closed: nothing more to answer
    assert (await office.callback_answer()).show_alert

    # 我的订单 says it was answered, not that anyone cancelled it
    await grandma.tap("📋 我的订单")
    mine = await grandma.expect(contains=number)
    assert "状态：已答复并结单" in mine.text and "已取消" not in mine.text
    # … and the dashboard says the same, on the order's page and in the list
    reader = await env.person("刘主任", role=Role.OFFICE, lang="zh_CN")
    for path in (f"/orders/{order.id}", "/orders"):
        page = await dashboard_get(env, db_url, tmp_path, reader, path)
        assert ">已答复并结单<" in page and ">已取消<" not in page.split("</select>")[-1]


async def test_the_unit_redispatches_from_the_chat_before_accept(bot_env):
    env = bot_env
    doctor = await env.person("Doctor Zhang", role=Role.TEAM_LEADER, team="health")
    head = await env.person("Secretary Ma", station="dongjie", role=Role.STATION_HEAD)
    tian = await env.person("Tian", station="dongjie")
    await appoint_dispatcher(env, tian, "health_centre")
    zheng = await env.person("Zheng", station="dongjie")
    await appoint_dispatcher(env, zheng, "culture_station")
    resident = await env.person("Grandpa Ma", station="dongjie")

    await resident.tap("🙋 Request a service")
    await resident.expect(contains="What kind of help")
    number = await place_order_rest(resident)
    offered = await doctor.expect(contains=number)  # auto: the leader has it at once
    order = await order_by_number(env, number)
    assert order.status == OrderStatus.ROUTED

    # a dispatcher of another unit forges the buttons: refused, shown nothing
    squad = await team_name(env, "squad_dongjie")
    async with env.sessionmaker() as s:
        squad_id = await s.scalar(select(Team.id).where(Team.code == "taole.squad_dongjie"))
    mine = (await zheng.history())[-1]
    for forged in (
        Redispatch(order_id=order.id),
        RedispatchTo(order_id=order.id, team_id=squad_id),
    ):
        await zheng.press_data(mine, forged.pack())
        refused = await zheng.callback_answer()
        assert refused.show_alert and "not received by your unit" in refused.text
    await env.idle()
    await zheng.expect_nothing_new()
    assert (await order_by_number(env, number)).version == order.version

    await tian.send("/start")  # appointed since: the menu now has the unit's orders
    await tian.expect(contains="Hello")
    assert any("🗂 Unit orders" in row for row in await tian.reply_keyboard() or [])
    await tian.tap("🗂 Unit orders")
    card = await tian.expect(contains=number)
    assert "🔁 Re-dispatch" in card.buttons()
    await tian.press("🔁 Re-dispatch", message=card)
    teams = await tian.expect_edit(card.message_id)
    assert squad in teams.buttons() and "Health Volunteer Team" not in teams.buttons()
    await tian.press(squad, message=teams)
    await tian.expect(contains="Why should")
    await tian.send("The village clinic is closer")
    await tian.expect(contains=f"Passed to {squad}")

    squad_card = await head.expect(contains="new order for your team")
    assert number in squad_card.text
    await doctor.expect(contains="passed to another team")
    assert (await doctor.expect_edit(offered.message_id)).buttons() == []  # no Accept now
    await doctor.press_data(offered, offered.button("✅ Accept").callback_data or "")
    assert (await doctor.callback_answer()).show_alert  # its old button, replayed: refused
    await doctor.press_data(offered, offered.button("✅ Accept").callback_data or "")
    assert (await doctor.callback_answer()).show_alert  # and its old button is refused
    assert (await order_by_number(env, number)).status == OrderStatus.ROUTED
    await head.press("✅ Accept", message=squad_card)
    await resident.expect(contains="accepted")
    kinds = [k for k, _ in await events(env, order.id)]
    assert kinds[-2:] == ["redispatched", "accepted"]

    # accepted: too late to re-dispatch, said plainly
    await tian.press_data(card, Redispatch(order_id=order.id).pack())
    late = await tian.callback_answer()
    assert late.show_alert and "accepted" in late.text
