"""The bot works in private chats only. Added to a group, it tells the group once, briefly,
to write to it privately; it hands out no sign-in link, no export, no phone and no
conversation there, and a button pressed in the group is refused and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from models import Order, Role, WebLoginToken
from simulator.driver import SimUser
from tests.harness import BotEnv

PRIVATE_ONLY = "I work in private chat only"


async def _count(env: BotEnv, model: type) -> int:
    async with env.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_staff_commands_in_a_group_get_one_brief_reply_and_nothing_else(bot_env):
    env: BotEnv = bot_env
    head: SimUser = await env.person("Miaomiaohu Head", role=Role.STATION_HEAD)
    office: SimUser = await env.person("Office Clerk", role=Role.OFFICE)
    grandma: SimUser = await env.person("Grandma Wang", lang="zh")
    group = await env.driver.group("Village volunteers", [head, office, grandma])
    as_head, as_office = await group.member(head), await group.member(office)
    as_grandma = await group.member(grandma)

    await as_head.send("/dashboard")
    told = await as_head.expect()
    assert PRIVATE_ONLY in told.text
    # Not chatty: more commands, menu texts and plain talk in the group get no more words.
    for session, text in [
        (as_office, "/reports"),
        (as_head, "/kpi"),
        (as_office, "/start"),
        (as_grandma, "📝 Order for a resident"),
        (as_grandma, "My phone is 13912345678"),
        (as_office, "/publish"),
    ]:
        await session.send(text)
    await env.idle()
    await as_head.expect_nothing_new()
    group_texts = [m.text or "" for m in await as_head.history() if m.from_bot]
    assert group_texts == [told.text]
    assert await _count(env, WebLoginToken) == 0  # no sign-in link was even made

    # Buttons pressed in the group, forged or copied from a private chat, are refused.
    await as_office.catch_up()
    for data in ["rpx:xlsx:month:2026-11-01:2026-11-30", "rpd", "o:accept:1:1", "mec"]:
        query = await as_office.press_data(told, data)
        answer = await as_office.callback_answer(query_id=query)
        assert answer.show_alert and PRIVATE_ONLY in (answer.text or ""), (data, answer)
    await env.idle()
    await as_office.expect_nothing_new()
    assert await _count(env, Order) == 0


async def test_the_private_chat_still_works_and_chinese_groups_are_told_in_chinese(bot_env):
    env: BotEnv = bot_env
    head = await env.person("Miaomiaohu Head", role=Role.STATION_HEAD, lang="zh")
    group = await env.driver.group("志愿者群", [head])
    in_group = await group.member(head)
    await in_group.send("/dashboard")
    reply = await in_group.expect()
    assert reply.text == "我只在私聊中工作，请直接给我发消息。"

    await head.send("/dashboard")  # privately the head gets the link as before
    assert "/login/" in (await head.expect(contains="/login/")).text
