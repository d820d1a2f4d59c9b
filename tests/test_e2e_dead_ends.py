"""No dead ends, end to end through the simulator: every conversation end gives the menu
keyboard back, a button from a finished step is answered sensibly, and no card keeps a
button that no longer works."""

from __future__ import annotations

from bench.conversation import place_order_rest
from models import Role
from simulator.driver import BotMessage, ChatSession
from tests.flows import order_for_resident, order_through_chat, report_done, to_the_need
from tests.test_e2e_villagers import assign


async def keys(u: ChatSession) -> set[str]:
    return {b for row in await u.reply_keyboard() or [] for b in row}


async def menu_is_back(u: ChatSession) -> None:
    shown = await keys(u)
    assert {"🙋 Request a service", "📋 My orders"} <= shown, shown
    assert shown & {"❓ Help", "☰ More"}, shown  # a long menu keeps help behind «More»
    assert "✖ Cancel" not in shown and "Skip" not in shown


async def a_task(env) -> tuple[ChatSession, ChatSession, BotMessage]:
    """A resident's order, accepted and assigned: the resident, the volunteer, their task."""
    leader = await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Nurse Wang", role=Role.VOLUNTEER, team="health")
    u = await env.person("Grandma Li")
    number = await order_through_chat(u)
    await assign(leader, await leader.expect(contains=number), "Nurse Wang")
    return u, vol, await vol.expect(contains="new task")


async def test_after_a_volunteer_finishes_the_menu_is_back_and_the_task_has_no_buttons(
    bot_env,
):
    _, vol, task = await a_task(bot_env)
    await vol.press("▶ Start", message=task)
    started = await vol.expect_edit(task.message_id)
    assert "▶ Start" not in started.buttons() and "✔ Done" in started.buttons()
    await report_done(vol, task, "2")
    await menu_is_back(vol)
    assert "🧰 My tasks" in await keys(vol)
    assert (await vol.expect_edit(task.message_id)).buttons() == []
    # a «Skip» from a keyboard left over (another device, an old screen): not «did not
    # understand», and no new request
    await vol.send("Skip")
    answer = await vol.expect(contains="already finished")
    assert "did not understand" not in answer.text
    await menu_is_back(vol)


async def test_placing_an_order_ends_with_the_menu(bot_env):
    u = await bot_env.person("Grandma Li")
    await order_through_chat(u)
    await menu_is_back(u)
    await u.send("⚡ As soon as possible")  # the time step's button, the form long over
    await u.expect(contains="already finished")
    await menu_is_back(u)


async def test_dropping_the_summary_ends_with_the_menu(bot_env):
    u = await bot_env.person("Grandma Li")
    await to_the_need(u)
    await u.tap("⚡ No need to write: as soon as possible")
    await u.expect(contains="Please check your request")
    await u.press("✖ Cancel")
    await u.expect(contains="Nothing was sent")
    await menu_is_back(u)


async def test_back_from_the_first_step_ends_with_the_menu(bot_env):
    u = await bot_env.person("Grandma Li")
    await u.tap("🙋 Request a service")
    await u.expect(contains="What kind of help")
    await u.tap("✖ Cancel")
    await u.expect(contains="Stopped")
    await menu_is_back(u)


async def test_a_proxy_order_ends_with_the_menu(bot_env):
    head = await bot_env.person("Secretary Ma", role=Role.STATION_HEAD)
    await order_for_resident(head, "Old Zhao")
    await place_order_rest(head, day="Tomorrow")
    await menu_is_back(head)
    await head.send("🚫 No phone")
    await head.expect(contains="already finished")


async def test_rating_ends_with_the_menu(bot_env):
    u, vol, task = await a_task(bot_env)
    await report_done(vol, task, "1", "All fine")
    rate = await u.expect(contains="How was the service")
    await u.press("⭐⭐⭐⭐", message=rate)
    await u.expect(contains="add a comment")
    await u.tap("Skip")
    await u.expect(contains="Thank you")
    await menu_is_back(u)


async def test_help_speaks_of_buttons(bot_env):
    u = await bot_env.person("Grandma Li")
    await u.tap("❓ Help")
    help_ = await u.expect(contains="How to use")
    assert "/cancel" not in help_.text and "/start" not in help_.text
    assert "✖ Cancel" in help_.text
    await menu_is_back(u)
