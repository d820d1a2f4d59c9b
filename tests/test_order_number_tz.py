"""An order's number carries the day it was placed in the configured time zone (TIMEZONE),
not the day in UTC nor in the zone the bot ships with."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bench.conversation import HEALTH_AREA, place_order_rest
from scheduler import ManualClock
from simulator.limits import Limits
from simulator.server import run_simulator
from tests.scheduler_harness import bot_on

NEW_YORK = ZoneInfo("America/New_York")


async def test_an_order_placed_late_on_new_years_eve_is_numbered_on_that_day(db_url, tmp_path):
    # 23:30 on 31 December in New York: already 1 January in UTC and in Shanghai.
    placed = datetime(2026, 12, 31, 23, 30, tzinfo=NEW_YORK)
    clock = ManualClock(at=placed)
    async with (
        run_simulator(limits=Limits(private_burst=50)) as sim,
        bot_on(sim, db_url, tmp_path / "media", clock=clock, timezone="America/New_York") as env,
    ):
        grandma = await env.person("Grandma Li")
        await grandma.tap("🙋 Request a service")
        await grandma.expect(contains="What kind of help")
        number = await place_order_rest(grandma, area=HEALTH_AREA, day="Tomorrow")
    assert "-20261231-" in number, number
