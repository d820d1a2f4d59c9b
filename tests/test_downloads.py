"""Only what an order keeps is downloaded: a photo sent in the order form and then gone back
over (or the form given up) leaves no file on disk; the placed order's photo is saved once.
One person's downloads are capped per day (beyond, the file id alone is kept)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot import media
from models import Attachment
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


def test_downloads_are_capped_per_person_per_day():
    media._downloads.clear()
    allowed = [media._within_cap(42) for _ in range(media.DOWNLOADS_PER_DAY + 2)]
    assert allowed.count(True) == media.DOWNLOADS_PER_DAY and allowed[-1] is False
    assert media._within_cap(43)  # someone else is not held up
    media._downloads.clear()
