"""Webhook mode: updates pushed by the Bot API server with the secret header; a wrong
secret is refused with 401 and nothing is processed; an update in another worker's hands is
answered 503 until its claim is stale; health, readiness and counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import attach_sender, build_bot, build_dispatcher
from bot.settings import Settings
from bot.webhook import run_webhook
from models import ProcessedUpdate, utcnow
from services.inbox import claim_update
from services.outbox import NoticeKind, notify
from services.people import get_or_create_user
from simulator.driver import Driver
from simulator.server import Simulator, run_simulator
from tests.harness import TOKEN, malformed_message, taole_db
from tests.processes import free_port

SECRET = "s3cret-Token_1-0123456789abcdef0123"


@dataclass
class Hook:
    """The bot in webhook mode, pushed to by the simulator; `http` posts as a stranger."""

    sim: Simulator
    http: aiohttp.ClientSession
    driver: Driver
    url: str
    port: int
    sessionmaker: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def webhook_bot(
    db_url: str, tmp_path: Path, *, sender: bool = False, stale_after: float | None = 1.0
) -> AsyncIterator[Hook]:
    """The real bot in webhook mode (with the outbox's sender if `sender`), listening by the
    time the block starts; `stale_after`: the inbox's setting (None: as shipped)."""
    cfg, engine, sessionmaker = await taole_db(db_url)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    async with run_simulator() as sim:
        overrides = {} if stale_after is None else {"inbox_stale_after": stale_after}
        settings = Settings(
            database_url=db_url,
            media_dir=tmp_path / "media",
            bot_token=TOKEN,
            telegram_api_base=sim.base_url,
            webhook_url=url,
            webhook_secret=SECRET,
            webhook_port=port,
            **overrides,
        )
        bot = build_bot(TOKEN, sim.base_url)
        dp = build_dispatcher(settings, sessionmaker, cfg.policy)
        if sender:
            attach_sender(dp, bot, settings, sessionmaker)
        stop = asyncio.Event()
        server = asyncio.create_task(run_webhook(dp, bot, settings, sessionmaker, stop))
        try:
            timeout = aiohttp.ClientTimeout(total=5)
            async with AsyncExitStack() as stack:
                http = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
                for _ in range(100):  # until it listens
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.05)
                d = await stack.enter_async_context(Driver(sim.base_url, TOKEN))
                yield Hook(sim, http, d, url, port, sessionmaker)
        finally:
            await bot.delete_webhook()  # as an operator does before switching back to polling
            stop.set()
            await asyncio.wait_for(server, 30)
            await bot.session.close()
            await engine.dispose()


async def test_webhook_mode_checks_the_secret_and_serves_health(db_url, tmp_path):
    async with webhook_bot(db_url, tmp_path) as hook:
        http, url, port, d = hook.http, hook.url, hook.port, hook.driver
        u = await d.user("Hook", user_id=6_100_001, language_code="en")
        await u.send("/help")  # pushed by the simulator with the secret header
        await u.expect(contains="How to use", timeout=10)
        forged = {
            "update_id": 424242,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 6_100_001, "type": "private"},
                "from": {"id": 6_100_001, "is_bot": False, "first_name": "X"},
                "text": "/help",
            },
        }
        async with http.post(
            url, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
        ) as resp:
            assert resp.status == 401
        async with http.post(url, json=forged) as resp:
            assert resp.status == 401
        # An update another worker holds is answered 503 (Telegram sends it again),
        # then taken over once that claim is stale, and handled once.
        held = {**forged, "update_id": 434343}
        async with hook.sessionmaker() as s:
            await claim_update(s, 434343, "another-worker")
        secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with http.post(url, json=held, headers=secret) as resp:
            assert resp.status == 503
        async with hook.sessionmaker() as s:  # that worker died a while ago
            await s.execute(
                update(ProcessedUpdate)
                .where(ProcessedUpdate.update_id == 434343)
                .values(received_at=utcnow() - timedelta(seconds=2))
            )
            await s.commit()
        async with http.post(url, json=held, headers=secret) as resp:
            assert resp.status == 200
        await u.expect(contains="使用说明", timeout=10)  # no language: the default
        async with http.post(url, json=held, headers=secret) as resp:
            assert resp.status == 200
        await hook.driver.until_updates_handled()  # answered 200 only once handled
        await u.expect_nothing_new()
        async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert "civic_dispatch_updates_total" in await resp.text()
        async with hook.sessionmaker() as s:
            assert await s.get(ProcessedUpdate, 424242) is None
            assert (await s.scalars(select(ProcessedUpdate))).first() is not None


async def test_bad_requests_are_refused_and_a_malformed_update_is_skipped(db_url, tmp_path):
    """A non-ASCII secret is a wrong secret (401, not 500); a body that is not JSON is a
    400; an update aiogram cannot parse is answered 200 (Telegram stops sending it), leaves
    no inbox claim behind and is counted; the next update is handled as usual."""
    async with webhook_bot(db_url, tmp_path) as hook:
        http, url = hook.http, hook.url
        for wrong in ("秘密", SECRET[:-1] + "é"):
            async with http.post(
                url, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": wrong}
            ) as resp:
                assert resp.status == 401
        secret = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for body in (b"{not json", b"\xff\xfe{}"):
            headers = {**secret, "Content-Type": "application/json"}
            async with http.post(url, data=body, headers=headers) as resp:
                assert resp.status == 400
        async with hook.sessionmaker() as s:
            assert (await s.scalars(select(ProcessedUpdate))).first() is None

        u = await hook.driver.user("Hook", user_id=6_100_002, language_code="en")
        malformed_before = malformed()
        sim_bot = hook.sim.world.bot_for_token(TOKEN)
        bad = sim_bot.enqueue_raw("message", malformed_message(6_100_002))
        await u.send("/help")
        await u.expect(contains="How to use", timeout=10)
        assert sim_bot.webhook is not None and sim_bot.webhook.last_error_message is None
        assert malformed() == malformed_before + 1
        async with hook.sessionmaker() as s:
            assert await s.get(ProcessedUpdate, bad) is None  # never claimed


def malformed() -> float:
    """How many updates this process skipped as unparseable."""
    return REGISTRY.get_sample_value("civic_dispatch_updates_malformed_total") or 0.0


def scraped(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A /metrics answer as {(sample name, labels): value}."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def grown(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_updates_and_time_them_and_the_sends(db_url, tmp_path):
    """After an update and a queued notice, /metrics shows them in the counters and in the
    histograms of handling time, Telegram call time and outbox latency."""
    async with webhook_bot(db_url, tmp_path, sender=True, stale_after=None) as hook:
        metrics_url = f"http://127.0.0.1:{hook.port}/metrics"

        async def scrape() -> dict:
            async with hook.http.get(metrics_url) as resp:
                assert resp.status == 200
                assert resp.content_type == "text/plain"
                return scraped(await resp.text())

        before = await scrape()
        u = await hook.driver.user("Counted", user_id=6_100_002, language_code="en")
        await u.send("/help")
        await u.expect(contains="How to use", timeout=10)
        async with hook.sessionmaker() as s:
            user = await get_or_create_user(s, u.id, locale="en")
            await notify(s, user, NoticeKind.TEXT, msgid="A volunteer withdrew", params={})
            await s.commit()
        await u.expect(contains="A volunteer withdrew", timeout=10)  # via the outbox
        after = await scrape()
        while grown(before, after, "civic_dispatch_messages_sent_total") < 1:
            await asyncio.sleep(0.05)  # counted just after Telegram's answer
            after = await scrape()

    assert grown(before, after, "civic_dispatch_updates_total") == 1
    handled = {"kind": "message", "outcome": "handled"}
    assert grown(before, after, "civic_dispatch_update_seconds_count", **handled) == 1
    assert grown(before, after, "civic_dispatch_update_seconds_sum", **handled) > 0
    assert grown(before, after, "civic_dispatch_messages_sent_total") == 1
    call = {"method": "sendMessage", "outcome": "ok"}
    assert grown(before, after, "civic_dispatch_telegram_call_seconds_count", **call) == 1
    assert grown(before, after, "civic_dispatch_telegram_call_seconds_sum", **call) > 0
    latency = "civic_dispatch_outbox_latency_seconds_count"
    assert grown(before, after, latency, priority="notice") == 1
    assert grown(before, after, "civic_dispatch_update_errors_total") == 0
