"""The unit scorecard (站所考核) in the chat, end to end through the simulator: the office opens
it from a report; a 卫生院 dispatcher, speaking Chinese, opens their own unit's from the menu
and reads nothing in English; a resident is refused."""

from __future__ import annotations

import re

from models import Role
from tests.flows import clinic_orders, month_report, two_village_orders
from tests.test_e2e_dispatch import appoint_dispatcher

LATIN = re.compile(r"[A-Za-z]")


async def test_office_reads_the_units_of_a_report(bot_env):
    office = await two_village_orders(bot_env)
    _, _, chart = await month_report(office)
    assert "🏢 Unit scorecard" in chart.buttons()
    await office.press("🏢 Unit scorecard", message=chart)
    card = await office.expect(contains="Unit scorecard")
    # The free clinic is on no platform: its team's lead units, 计生站 and 卫生院, received
    # both orders, sent to the team at once (on time); nobody has accepted yet.
    assert "1. Family Planning Station" in card.text
    assert "2. Town Health Centre" in card.text
    assert "received 2 · on time 100.0% · dispatch 0 min · accept —" in card.text
    assert "3. " not in card.text
    assert "Nothing recorded in this period: " in card.text and "Culture Station" in card.text
    platforms = await office.expect(contains="By platform")
    assert "· No platform" in platforms.text and "received 2" in platforms.text


async def test_a_dispatcher_reads_their_own_unit_in_chinese(bot_env):
    env = bot_env
    await env.person("张医生", role=Role.TEAM_LEADER, team="health", lang="zh_CN")
    tian = await env.person("田联络员", lang="zh_CN")
    await appoint_dispatcher(env, tian, "health_centre")
    grandma = await env.person("李奶奶", lang="zh_CN")
    await clinic_orders(env, [grandma])
    await env.settle()

    await tian.send("/start")  # the menu, now with the dispatcher's button
    await tian.expect(contains="您好")
    await tian.tap("🏢 站所考核")
    card = await tian.expect(contains="站所考核")
    assert "卫生院" in card.text and "计生站" not in card.text and "文化站" not in card.text
    assert "2. 卫生院" in card.text  # ranked among the town's units: 计生站 ties, first
    assert "接单 1 · 按时派单 100.0%" in card.text
    assert "双报道党员：暂无登记" in card.text
    assert not LATIN.findall(card.text), card.text
    assert card.buttons() == ["本周内", "本月", "本年"]

    await tian.press("本年", message=card)
    year = await tian.expect(contains="站所考核")
    assert "年" in year.text.splitlines()[0] and "2. 卫生院" in year.text

    resident = grandma
    await resident.send("🏢 站所考核")
    refused = await resident.expect()
    assert "站所考核" not in refused.text
