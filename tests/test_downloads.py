"""Only what an order keeps is downloaded: a photo sent in the order form and then gone back
over (or the form given up) leaves no file on disk; the placed order's photo is saved once.
One person's downloads are capped per day (beyond, the file id alone is kept)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot import media
from models import Attachment, set_clock
from scheduler.clock import ManualClock
from simulator.driver import TINY_JPEG
from tests.flows import to_the_need
from tests.harness import BotEnv


def _files(env: BotEnv) -> list[Path]:
    inbox = Path(env.settings.media_dir) / "inbox"
    return sorted(p for p in inbox.glob("*") if p.is_file()) if inbox.exists() else []


async def test_photo_back_photo_leaves_no_orphan_files(bot_env):
    env: BotEnv = bot_env
    u = await env.person("Zhao")
    await to_the_need(u)
    for n in range(4):
        await u.send_photo(TINY_JPEG + bytes([n]), caption=f"My ankle, take {n}")
        await u.expect(contains="When would suit you")
        await u.tap("⬅ Back")
        await u.expect(contains="Tell us what you need")
    await env.idle()
    assert _files(env) == []
    await u.send_photo(TINY_JPEG + b"kept", caption="My swollen ankle")
    await u.expect(contains="When would suit you")
    await u.tap("Today")
    await u.expect(contains="Morning or afternoon")
    await u.tap("Afternoon")
    await u.expect(contains="Where should")
    await u.send_location(38.8, 106.6)
    await u.expect(contains="Please check your request")
    await u.press("✅ Confirm")
    await u.expect(contains="order number is")
    async with env.sessionmaker() as s:
        [kept] = (await s.scalars(select(Attachment))).all()
    files = _files(env)
    assert [str(p.relative_to(env.settings.media_dir)) for p in files] == [kept.local_path]


def test_downloads_are_capped_per_person_per_day(tmp_path: Path):
    clock = ManualClock(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))
    previous = set_clock(clock.now)
    try:
        allowed = [media._within_cap(tmp_path, 42) for _ in range(media.DOWNLOADS_PER_DAY + 2)]
        assert allowed.count(True) == media.DOWNLOADS_PER_DAY and allowed[-1] is False
        assert media._within_cap(tmp_path, 43)  # someone else is not held up
        clock.advance(days=1)
        assert media._within_cap(tmp_path, 42)  # a new day, a new allowance
        # yesterday's counts are gone once today's first download is counted
        tallies = tmp_path / media.TALLY_DIR
        assert [str(p.relative_to(tallies)) for p in tallies.rglob("*")] == [
            "2026-12-03",
            "2026-12-03/42",
        ]
    finally:
        set_clock(previous)


def test_the_cap_is_shared_by_every_worker(tmp_path: Path):
    """Webhook workers are separate processes sharing the media folder: the count is kept there,
    so a person cannot download the cap once per worker."""
    script = (
        "import sys; from datetime import UTC, datetime; from pathlib import Path; "
        "from bot import media; from models import set_clock; "
        "set_clock(lambda: datetime(2026, 12, 2, 1, 0, tzinfo=UTC)); "
        "print(sum(media._within_cap(Path(sys.argv[1]), 42) for _ in range(40)))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        for _ in range(2)
    ]
    assert [int(r.stdout) for r in runs] == [40, media.DOWNLOADS_PER_DAY - 40]
