"""Random sequences of updates at the real bot through the simulator (hypothesis).

Invariants: no handler raises; every order's history is a chain of allowed transitions
ending in its status; and from anywhere /cancel brings the person back to the menu.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from sqlalchemy import select

from models import Order, OrderEvent, OrderStatus, Role
from simulator.driver import SimulatorError
from tests.flows import order_through_chat
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

S = OrderStatus
# The state machine (DESIGN.md "The loop"): from each status, where an event may lead. An
# event that keeps the status (assigned, withdrawn, hours confirmed, notes) is allowed too.
ALLOWED: dict[OrderStatus | None, set[OrderStatus]] = {
    None: {S.NEW},  # created
    S.NEW: {S.ROUTED, S.CANCELLED},
    S.ROUTED: {S.ROUTED, S.ACCEPTED, S.DECLINED, S.CANCELLED},  # re-dispatch, timeout
    S.DECLINED: {S.ROUTED, S.NEW},  # the next candidate, or nobody: back to the office
    S.ACCEPTED: {S.IN_PROGRESS, S.DONE, S.ROUTED, S.CANCELLED},  # a transfer, a cancel
    S.IN_PROGRESS: {S.DONE},
    S.DONE: {S.RATED},
    S.RATED: set(),
    S.CANCELLED: set(),
}


def history_faults(order: Order, events: list[OrderEvent]) -> list[str]:
    """What is wrong with an order's recorded history: a broken chain, a transition the
    state machine does not allow, or a last state that is not the order's status."""
    faults = []
    state: OrderStatus | None = None
    for e in events:
        if e.to_status is None:  # a note without a state
            continue
        frm = None if e.from_status is None else OrderStatus(e.from_status)
        to = OrderStatus(e.to_status)
        if frm != state:
            faults.append(f"event {e.id} ({e.kind}) starts from {frm}, the order was {state}")
        if to != frm and to not in ALLOWED[frm]:
            faults.append(f"event {e.id} ({e.kind}): {frm} → {to} is not allowed")
        state = to
    if state != order.status:
        faults.append(f"history ends in {state}, the order is {order.status}")
    return faults


def test_history_faults_are_found():
    """The checker above can fail: a skipped step, a wrong ending, a broken chain."""

    def ev(i: int, frm: str | None, to: str) -> OrderEvent:
        return OrderEvent(id=i, kind="x", from_status=frm, to_status=to)

    good = [ev(1, None, "new"), ev(2, "new", "routed"), ev(3, "routed", "accepted")]
    assert history_faults(Order(status=S.ACCEPTED), good) == []
    assert history_faults(Order(status=S.DONE), good) == [
        "history ends in accepted, the order is done"
    ]
    jump = [ev(1, None, "new"), ev(2, "new", "done")]
    assert "new → done is not allowed" in history_faults(Order(status=S.DONE), jump)[0]
    broken = [ev(1, None, "new"), ev(2, "routed", "accepted")]
    assert (
        "starts from routed, the order was new"
        in history_faults(Order(status=S.ACCEPTED), broken)[0]
    )


def _errors() -> float:
    """Updates whose handler raised, in this process so far (bot/metrics.py)."""
    return REGISTRY.get_sample_value("civic_dispatch_update_errors_total") or 0.0


@pytest.fixture(scope="module")
def fuzz_counts():
    """What the fuzzing reached, checked and printed once its examples have all run: a
    fuzz that never got an update to the bot would prove nothing."""
    counts = {"updates": 0, "examples": 0, "orders": 0}
    yield counts
    print(
        f"\nfuzz: {counts['examples']} sequences, {counts['updates']} updates, "
        f"{counts['orders']} orders checked"
    )
    assert counts["examples"] > 0 and counts["updates"] >= counts["examples"]
    assert counts["orders"] >= counts["examples"]  # each example checked the order at least


@pytest.fixture
async def fuzz_env(db_url, tmp_path):
    async with running_bot(db_url, tmp_path / "media", flood_limit=10_000) as env:
        await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
        # an order to aim at: forged buttons name order 1, whose history must stay sound
        await order_through_chat(await env.person("Grandma Li"))
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
    await u.expect(contains="Stopped", timeout=10)
    await env.idle()
    if registered:  # the main menu is back, not what the conversation offered
        keys = [b for row in (await u.reply_keyboard() or []) for b in row]
        assert "🙋 Request a service" in keys, keys
    assert _errors() == errors_before
    async with env.sessionmaker() as s:
        for order in (await s.scalars(select(Order))).all():
            events = list(
                await s.scalars(
                    select(OrderEvent)
                    .where(OrderEvent.order_id == order.id)
                    .order_by(OrderEvent.id)
                )
            )
            assert history_faults(order, events) == [], order.number
            assert order.status != OrderStatus.DECLINED  # only ever passing through
            if order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
                assert order.accepted_at is not None and order.accepted_by_id is not None
            if order.status in (OrderStatus.DONE, OrderStatus.RATED):
                assert order.done_at is not None
            fuzz_counts["orders"] += 1
    fuzz_counts["examples"] += 1
