"""The ordering conversation as a script of steps, played through the simulator's driver.

The end-to-end tests walk it to check the bot; the benchmarks walk it (or, for the bare
aiogram bot, the very same updates without checking the replies) to load the bot.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Literal

from simulator.driver import BotMessage, ChatSession

HEALTH_AREA, FREE_CLINIC = "Health and free clinics", "Free clinic"
ORDER_BUTTON = "🙋 Request a service"
CONFIRM = "✅ Confirm"


@dataclass(frozen=True)
class Step:
    """One thing the person does, and what our bot's answer to it contains."""

    action: Literal["send", "tap", "tap_prefix", "press"]
    text: str
    reply: str


def order_steps(
    *,
    area: str = HEALTH_AREA,
    category: str = FREE_CLINIC,
    need: str = "Cannot walk to the clinic",
    day: str = "This week",
) -> list[Step]:
    """From the choice of area to the order number."""
    return [
        Step("tap", area, "Which of these"),
        Step("tap", category, "Tell us what you need"),
        Step("send", need, "When would suit you"),
        Step("tap", day, "Morning or afternoon"),
        Step("tap", "Morning", "Where should"),
        Step("tap_prefix", "🏠", "Please check your request"),
        Step("press", CONFIRM, "order number is"),
    ]


# Opening the chat and the menu: the whole conversation of a resident who orders.
OPENING = [Step("send", "/start", "Hello"), Step("tap", ORDER_BUTTON, "What kind of help")]
# The scripts a benchmark's residents play, by name (they run in a process of their own).
SCRIPTS = {"order": [*OPENING, *order_steps()]}


async def play(
    u: ChatSession,
    steps: list[Step],
    *,
    check: bool = True,
    timeout: float | None = None,
    think: tuple[float, float] | None = None,
) -> BotMessage:
    """Do each step and wait for the answer; returns the last one. With `check` the
    answer must contain the step's `reply` (other messages before it are passed over);
    without, any one message will do (the bare bot's answers). With `think`, a pause of
    so many seconds (uniformly between the two) before each step, as people take."""
    last: BotMessage | None = None
    pauses = random.Random(u.chat_id)  # the same pauses on every run
    for step in steps:
        if think:
            await asyncio.sleep(pauses.uniform(*think))
        if step.action == "send":
            await u.send(step.text)
        elif step.action == "tap":
            await u.tap(step.text)
        elif step.action == "tap_prefix":
            keyboard = (last.reply_keyboard if last else None) or await u.reply_keyboard() or []
            await u.tap(next(b for row in keyboard for b in row if b.startswith(step.text)))
        else:
            await u.press(step.text)
        last = await u.expect(timeout=timeout, contains=step.reply if check else None)
    assert last is not None
    return last


def order_number(done: str) -> str:
    """The order number in the bot's "… order number is X." answer."""
    return done.split("order number is ")[1].split(".")[0]


async def place_order_rest(
    u: ChatSession,
    *,
    area: str = HEALTH_AREA,
    category: str = FREE_CLINIC,
    need: str = "Cannot walk to the clinic",
    day: str = "This week",
) -> str:
    """From the choice of area to the order number."""
    steps = order_steps(area=area, category=category, need=need, day=day)
    return order_number((await play(u, steps)).text or "")
