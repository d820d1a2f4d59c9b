"""The main menu on a phone: a long menu keeps the day's work in front and the rest behind
«☰ More»; large print (大字大按钮) puts one tall button to a row, for whoever wants it."""

from __future__ import annotations

from models import Role
from simulator.driver import BotMessage, SimUser


def keys(message: BotMessage) -> list[str]:
    return [key for row in message.reply_keyboard or [] for key in row]


async def resized(user: SimUser) -> bool:
    """Whether the keyboard the person sees now asks Telegram for smaller keys."""
    keyboard = (await user.driver.call("GET", user._path))["reply_keyboard"]
    return bool(keyboard["resize_keyboard"])


async def test_a_station_heads_menu_is_grouped_and_everything_stays_reachable(bot_env):
    head = await bot_env.person("Secretary Ma", role=Role.STATION_HEAD)
    await head.send("/start")
    menu = await head.expect(contains="Hello")
    # Four rows of two at most: less than half of a phone's chat. (The harness makes a
    # station head the leader of the village's squad too.)
    assert len(menu.reply_keyboard) <= 4, menu.reply_keyboard
    assert keys(menu) == [
        "🙋 Request a service",
        "📋 My orders",
        "📥 Team orders",
        "🧰 My tasks",
        "🏘 Village orders",
        "📝 Order for a resident",
        "📢 Notices",
        "☰ More",
    ]
    await head.tap("☰ More")
    more = await head.expect(contains="More")
    assert keys(more) == [
        "➕ Add a volunteer",
        "🗓 Activities",
        "👤 Me",
        "👥 Residents",
        "🎯 KPIs",
        "📊 Reports",
        "🌐 Language",
        "❓ Help",
        "🏠 Main menu",
    ]
    await head.tap("🎯 KPIs")
    await head.expect(contains="KPI")
    await head.send("/start")
    await head.expect(contains="Hello")
    await head.tap("☰ More")
    await head.expect(contains="More")
    await head.tap("🏠 Main menu")
    back = await head.expect(contains="Main menu")
    assert keys(back) == keys(menu)


async def test_a_short_menu_shows_everything_at_once(bot_env):
    resident = await bot_env.person("Grandma Wang")
    await resident.send("/start")
    menu = await resident.expect(contains="Hello")
    assert "☰ More" not in keys(menu)
    assert {"🙋 Request a service", "📋 My orders", "❓ Help"} <= set(keys(menu))
    assert len(menu.reply_keyboard) == 3 and await resized(resident)


async def test_large_print_is_one_tall_button_to_a_row_until_switched_off(bot_env):
    resident = await bot_env.person("Grandpa Zhang")
    await resident.send("/language")
    ask = await resident.expect(contains="large print")
    await resident.press("🔠 Large print, big buttons", message=ask)
    on = await resident.expect(contains="Large print is on")
    assert all(len(row) == 1 for row in on.reply_keyboard), on.reply_keyboard
    assert not await resized(resident)
    assert (await resident.expect_edit(ask.message_id)).buttons() == []  # no stale switch

    # Every keyboard from then on, in every conversation, and after a restart of the chat.
    await resident.tap("🙋 Request a service")
    areas = await resident.expect(contains="What kind of help")
    assert all(len(row) == 1 for row in areas.reply_keyboard[:-1]) and not await resized(resident)
    await resident.tap("✖ Cancel")
    await resident.expect(contains="Stopped")
    await resident.send("/start")
    again = await resident.expect(contains="Hello")
    assert all(len(row) == 1 for row in again.reply_keyboard) and not await resized(resident)

    await resident.send("/language")
    ask = await resident.expect(contains="large print")
    await resident.press("🔡 Back to normal buttons", message=ask)
    off = await resident.expect(contains="Normal buttons")
    assert len(off.reply_keyboard[0]) == 2 and await resized(resident)
