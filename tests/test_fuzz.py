"""Random sequences of updates at the real bot through the simulator (hypothesis).

Invariants: no handler raises, no order is in an impossible state, and from anywhere
/cancel brings the person back to the menu.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import select

from models import Order, OrderStatus, Role
from simulator.driver import SimulatorError
from tests.harness import running_bot

COMMANDS = [
    "/start",
    "/order",
    "/orders",
    "/cancel",
    "/help",
    "/language",
    "/me",
    "/start bogus-code",
    "/nonsense",
]
text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "🙋 Request a service",
            "📋 My orders",
            "⬅ Back",
            "✖ Cancel",
            "Skip",
            "مرحبا بالعالم",
            "שלום",
            "👨‍👩‍👧‍👦🇨🇳",
            "ｗｉｄｅ",
            "\u200f\u200e",
            "0",
            "-1",
            "99999999999999999999",
        ]
    ),
    st.integers(4000, 4096).map(lambda n: "长" * n),
)
action = st.one_of(
    st.tuples(st.just("text"), text),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
    st.tuples(st.just("tap"), st.integers(0, 40)),
    st.tuples(st.just("press"), st.integers(0, 40)),
    st.tuples(
        st.just("forge"),
        st.text(min_size=1, max_size=30).filter(lambda s: len(s.encode()) <= 64)
        | st.sampled_from(
            [
                "o:accept:1:1",
                "o:done:1:0",
                "r:1:9",
                "p:confirm:x",
                "p:vol:1.1",
                "lang:xx",
                "o:cancel:-5:0",
                "p:ap_role:admin",
                "p:xfer:1.999",
                "lxf:1:999",
                "lav:1:1",
                "lsl:1:2026-13-01:morning",
                "ldr:1:far",
            ]
        ),
    ),
    st.tuples(st.just("photo"), st.none()),
    st.tuples(st.just("contact"), st.booleans()),
    st.tuples(st.just("location"), st.none()),
)
_names = itertools.count(1)


def _errors() -> float:
    """Updates whose handler raised, in this process so far (bot/metrics.py)."""
    return REGISTRY.get_sample_value("civic_dispatch_update_errors_total") or 0.0


@pytest.fixture(scope="module")
def fuzz_counts() -> dict[str, int]:
    return {"updates": 0, "examples": 0}


@pytest.fixture
async def fuzz_env(db_url, tmp_path):
    async with running_bot(db_url, tmp_path / "media", flood_limit=10_000) as env:
        await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        yield env


async def _act(u, kind: str, arg: object) -> None:
    if kind == "text":
        await u.send(arg or ".")
    elif kind == "command":
        await u.send(arg)
    elif kind == "tap":
        keys = [b for row in (await u.reply_keyboard() or []) for b in row]
        if keys:
            await u.tap(keys[arg % len(keys)])
    elif kind == "press":
        messages = [m for m in await u.history() if m.from_bot and m.inline_buttons]
        if messages:
            buttons = [b for row in messages[-1].inline_buttons for b in row if b.callback_data]
            if buttons:
                await u.press_data(messages[-1], buttons[arg % len(buttons)].callback_data)
    elif kind == "forge":
        messages = [m for m in await u.history() if m.from_bot]
        if messages:
            await u.press_data(messages[-1], arg)
    elif kind == "photo":
        await u.send_photo()
    elif kind == "contact":
        await u.send_contact(own=arg)
    elif kind == "location":
        await u.send_location(38.8, 106.6)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(action, min_size=1, max_size=12))
async def test_random_updates_break_nothing(fuzz_env, fuzz_counts, steps):
    env = fuzz_env
    errors_before = _errors()
    registered = next(_names) % 2 == 0
    u = (
        await env.person(f"Fuzz {next(_names)}")
        if registered
        else await env.new_user(f"Fuzz {next(_names)}")
    )
    for kind, arg in steps:
        try:
            await _act(u, kind, arg)
        except SimulatorError:
            continue  # the simulator refused it as Telegram would (e.g. a stale button)
        fuzz_counts["updates"] += 1
    await u.send("/cancel")
    back = await u.expect(contains="Stopped", timeout=10)
    assert back.text
    assert _errors() == errors_before
    async with env.sessionmaker() as s:
        for order in (await s.scalars(select(Order))).all():
            assert order.status in set(OrderStatus)
            assert order.status != OrderStatus.DECLINED  # only ever passing through
            if order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
                assert order.accepted_at is not None and order.accepted_by_id is not None
            if order.status in (OrderStatus.DONE, OrderStatus.RATED):
                assert order.done_at is not None
    fuzz_counts["examples"] += 1


def test_report_fuzz_figures(fuzz_counts, capsys):
    with capsys.disabled():
        print(f"\nfuzz: {fuzz_counts['examples']} sequences, {fuzz_counts['updates']} updates")
