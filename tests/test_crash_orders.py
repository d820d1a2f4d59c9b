"""Crash consistency of ordering: residents walk the ordering conversation concurrently while
the bot process is killed (SIGKILL) at random moments and started again.

After every kill (the process is dead, so the database is what a restart will find) and at
the end: every order a resident was told about (the confirmation with its number, read from
the simulator's chat) is in the database with the details the resident confirmed; no confirm
made two orders and no order was made that its resident was never told about; every leader
gets the card of every order (the outbox survives the kills); and a resident whose
conversation was cut off gets answers again and can finish, going on or starting over from
the menu.

The kill timings come from a seed (CRASH_SEED, printed). The figures are printed (`pytest -s`)
and written to `crash_orders.json` in the test's tmp_path.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.common import org_database
from bench.conversation import FREE_CLINIC, HEALTH_AREA
from models import Order, Region, Role, ServiceCategory, Team, User
from models.db import make_engine, make_sessionmaker
from services import people
from services.wording import SLOT_WORDS
from simulator.driver import BotMessage, Driver, ExpectationFailed, SimulatorError, SimUser
from simulator.limits import Limits
from simulator.server import Simulator, run_simulator
from tests.harness import TOKEN
from tests.processes import free_port, logs, start_bot, stop
from tests.scheduler_harness import (
    BOT_ID,
    bulk_people,
    notices_in_chat,
    wait_until,
)

SEED = int(os.environ.get("CRASH_SEED") or 8)
KILLS = 5
RESIDENTS = 10
RESIDENT_TG = 8_300_000
LEADERS = {"health": 8_299_001, "law": 8_299_002}
# (area, category, team): two teams, so two leaders share the cards.
SERVICES = [
    (HEALTH_AREA, FREE_CLINIC, "health"),
    (HEALTH_AREA, "Blood pressure and sugar check", "health"),
    ("Legal advice", "Ask a legal question", "law"),
    ("Legal advice", "Unpaid wages", "law"),
]
ANSWER_WAIT = 8.0  # a person waits this long for an answer, then taps again
STEP_PATIENCE = 30.0  # then gives up on the step and starts over from the menu
ORDER_PATIENCE = 300.0  # a stuck bot, not a slow one: five restarts on a busy 2-core machine fit
RECEIVED = "order number is "
# The bot forgot the conversation: the menu is back, and a tap is «did not understand» or,
# for words that are no button of the menu, the question whether to pass them on as a need.
LOST_THREAD = ("did not understand", "Shall we pass this on to the town?")
APOLOGY = "something went wrong"
STALE = "no longer valid"


@dataclass
class Figures:
    seed: int = SEED
    kill_after_seconds: list[float] = field(default_factory=list)
    crashes_survived: int = 0
    updates_sent: int = 0
    answers_waited_out: int = 0  # no answer in time: the person tapped again
    conversations_restarted: int = 0
    orders_confirmed: int = 0
    confirmations_repeated: int = 0  # Confirm pressed again after a crash: the same number
    orders_lost: int = 0
    orders_wrong: int = 0
    duplicate_orders: int = 0
    orders_never_told: int = 0
    leader_cards_delivered: int = 0
    leader_cards_repeated: int = 0
    seconds: float = 0.0


class Restart(Exception):
    """The conversation is lost (the bot forgot it, or the step cannot go on): start over."""


class Stuck(AssertionError):
    """A resident could not get an order through at all."""


def confirmations(sim: Simulator, chat_id: int) -> list[str]:
    """Order numbers the bot told this chat it received (the simulator's record)."""
    chat = sim.world.bots[BOT_ID].chats.get(chat_id)
    if chat is None:
        return []
    return [
        m.text.split(RECEIVED, 1)[1].split(".", 1)[0]
        for m in chat.messages.values()
        if m.from_bot and m.text and RECEIVED in m.text
    ]


class Resident:
    """A scripted resident who behaves like a patient person: with no answer they tap again;
    when the bot has lost the thread they start over from the menu."""

    def __init__(self, u: SimUser, n: int, figures: Figures) -> None:
        self.u, self.n, self.figures = u, n, figures
        self.rng = random.Random(SEED * 1000 + n)
        # Each resident always asks for the same kind of help at the same time, so a late,
        # redelivered tap can never change what they asked for; only the text differs.
        self.area, self.category, _team = SERVICES[n % len(SERVICES)]
        self.day = ("Tomorrow", "This week")[n % 2]
        self.slot = ("Morning", "Afternoon")[n // 2 % 2]
        self.attempts = 0
        self.summaries: dict[str, str] = {}  # the token of each summary → its text
        self.told: list[str] = []

    def _path(self, action: str) -> str:
        return f"/sim/api/bots/{self.u.driver.bot_id}/chats/{self.u.chat_id}/{action}"

    async def _think(self) -> None:
        await asyncio.sleep(self.rng.uniform(0.05, 0.4))

    async def _do(self, action: str, text: str) -> bool:
        """Tap a reply button or send text; False if the button is not on screen any more."""
        self.figures.updates_sent += 1
        try:
            await (self.u.tap(text) if action == "tap" else self.u.send(text))
        except SimulatorError:
            self.figures.updates_sent -= 1
            return False
        return True

    async def _answer(self, wanted: str) -> BotMessage:
        """The bot's answer containing `wanted`, within ANSWER_WAIT."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT
        while (left := deadline - loop.time()) > 0:
            msg = await self.u.expect(timeout=left)
            text = msg.text or ""
            if wanted in text:
                return msg
            if any(lost in text for lost in LOST_THREAD):
                raise Restart
        raise ExpectationFailed(f"no answer containing {wanted!r}")

    async def step(self, action: str, text: str, wanted: str) -> BotMessage:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + STEP_PATIENCE
        while True:
            if not await self._do(action, text):
                raise Restart
            try:
                return await self._answer(wanted)
            except ExpectationFailed:
                self.figures.answers_waited_out += 1
                if loop.time() > give_up:
                    raise Restart from None

    async def _press_confirm(self, summary: BotMessage) -> str | None:
        """Press ✅ Confirm without waiting for the bot to fetch it (it may be down); None if
        the buttons are gone (the bot took them away: it has the order)."""
        body = {"user_id": self.u.id, "text": "✅ Confirm", "message_id": summary.message_id}
        try:
            result = await self.u.driver.call("POST", self._path("press"), json=body)
        except SimulatorError:
            return None
        self.figures.updates_sent += 1
        return result["callback_query_id"]

    async def _alert(self, query_id: str) -> str:
        path = f"/sim/api/bots/{self.u.driver.bot_id}/callbacks/{query_id}"
        result = await self.u.driver.call("GET", path, params={"timeout": 0})
        return ((result["answer"] or {}).get("text") or "") if result["answered"] else ""

    async def confirm(self, summary: BotMessage) -> str:
        """Press Confirm until the bot says the order number (or that the button is dead)."""
        token = summary.button("✅ Confirm").callback_data or ""
        self.summaries[token.rsplit(":", 1)[-1]] = summary.text or ""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + STEP_PATIENCE
        queries: list[str] = []
        while True:
            query = await self._press_confirm(summary)
            if query is None and loop.time() > give_up:
                raise Restart  # no buttons and no number: the last check finds the order
            queries += [query] if query else []
            deadline = loop.time() + ANSWER_WAIT
            while loop.time() < deadline:
                try:
                    msg = await self.u.expect(timeout=0.5)
                except ExpectationFailed:
                    msg = None
                text = (msg.text or "") if msg else ""
                if RECEIVED in text:
                    return text.split(RECEIVED, 1)[1].split(".", 1)[0]
                if APOLOGY in text:
                    break  # the bot failed this press: press again
                alerts = [await self._alert(q) for q in queries]
                if any(STALE in a for a in alerts):
                    # The bot no longer knows this summary and holds no order made from it.
                    raise Restart
            self.figures.answers_waited_out += 1
            if loop.time() > give_up:
                raise Restart

    async def begin(self) -> None:
        """Open the order form from the menu (or /start, if the menu is not on screen)."""
        if await self._do("tap", "🙋 Request a service"):
            try:
                await self._answer("What kind of help")
                return
            except ExpectationFailed:
                self.figures.answers_waited_out += 1
        await self.step("send", "/start", "Hello")
        await self.step("tap", "🙋 Request a service", "What kind of help")

    async def place_order(self) -> str:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + ORDER_PATIENCE
        while True:
            self.attempts += 1
            need = f"Resident {self.n}, request {self.attempts}: please come by"
            try:
                await self.begin()
                for action, text, wanted in (
                    ("tap", self.area, "Which of these"),
                    ("tap", self.category, "Tell us what you need"),
                    ("send", need, "When would suit you"),
                    ("tap", self.day, "Morning or afternoon"),
                    ("tap", self.slot, "Where should"),
                ):
                    await self._think()
                    reply = await self.step(action, text, wanted)
                home = next(b for row in reply.reply_keyboard or [] for b in row if "🏠" in b)
                await self._think()
                summary = await self.step("tap", home, "Please check your request")
                await self._think()
                number = await self.confirm(summary)
                self.told.append(number)
                return number
            except Restart:
                self.figures.conversations_restarted += 1
                if loop.time() > give_up:
                    raise Stuck(
                        f"resident {self.n} got no order through in {ORDER_PATIENCE:.0f}s"
                    ) from None
                await self.u.catch_up()  # what is on screen now is read; start afresh

    async def run(self, stop_ordering: asyncio.Event) -> None:
        await asyncio.sleep(self.rng.uniform(0, 1.0))
        while not stop_ordering.is_set():
            await self.place_order()
            await asyncio.sleep(self.rng.uniform(0.2, 1.0))


async def _prepare(db_url: str, sim: Simulator) -> None:
    """The org, the residents and the two team leaders, all at one station."""
    async with org_database(db_url) as sessionmaker:
        async with sessionmaker() as s:
            station = await s.scalar(select(Region).where(Region.code == "taole.miaomiaohu"))
            assert station is not None and station.parent_id is not None
        tgs = [*range(RESIDENT_TG, RESIDENT_TG + RESIDENTS), *LEADERS.values()]
        await bulk_people(sessionmaker, sim, tgs, [station.id], station.parent_id)
        async with sessionmaker() as s:
            for team_code, tg in LEADERS.items():
                team = await s.scalar(select(Team).where(Team.code == f"taole.{team_code}"))
                leader = await s.scalar(select(User).where(User.tg_id == tg))
                assert leader is not None
                await people.appoint(s, leader, Role.TEAM_LEADER, region=station, team=team)
            await s.commit()


async def _check(
    db_url: str, sim: Simulator, residents: list[Resident], figures: Figures, *, final: bool
) -> None:
    """Told orders are in the database as confirmed; at the end also: no duplicates, and no
    order its resident was not told about (right after a kill one may be: made, not yet told)."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            categories = {c.id: c.name_en for c in await s.scalars(select(ServiceCategory))}
            users = {u.id: u.tg_id for u in await s.scalars(select(User))}
            orders = list(await s.scalars(select(Order)))
    finally:
        await engine.dispose()
    by_number = {o.number: o for o in orders}
    lost, wrong, duplicates, untold, confirmed, repeated = [], [], [], [], 0, 0
    for r in residents:
        messages = confirmations(sim, r.u.id)
        told = set(messages)
        confirmed += len(told)
        repeated += len(messages) - len(told)
        mine = [o for o in orders if users[o.resident_id] == r.u.id]
        lost += [n for n in told if n not in by_number]
        for n in told & by_number.keys():
            order = by_number[n]
            summary = r.summaries.get(order.client_token or "")
            if (
                users[order.resident_id] != r.u.id
                or summary is None
                or f"Service: {categories[order.category_id]}\n" not in summary
                or f"Need: {order.description}\n" not in summary
                or f", {SLOT_WORDS[order.preferred_slot]}\n" not in summary
                or (order.preferred_date is None) != ("Time: this week" in summary)
            ):
                wrong.append(n)
        tokens = [o.client_token for o in mine]
        texts = [o.description for o in mine]
        duplicates += [o.number for o in mine if tokens.count(o.client_token) > 1]
        duplicates += [o.number for o in mine if texts.count(o.description) > 1]
        untold += [o.number for o in mine if o.number not in told]
    figures.orders_confirmed, figures.confirmations_repeated = confirmed, repeated
    figures.orders_lost, figures.orders_wrong = len(lost), len(wrong)
    figures.duplicate_orders, figures.orders_never_told = len(set(duplicates)), len(untold)
    assert lost == [], f"residents were told of orders the database does not have: {lost}"
    assert wrong == [], f"orders differ from what the resident confirmed: {wrong}"
    if final:
        assert duplicates == [], f"one request became several orders: {sorted(set(duplicates))}"
        assert untold == [], f"orders their residents were never told about: {untold}"


async def _leader_cards(db_url: str, sim: Simulator) -> tuple[int, int, int]:
    """(orders, cards delivered to the team's leader, extra copies)."""
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            teams = {t.id: t.code.split(".", 1)[1] for t in await s.scalars(select(Team))}
            orders = list(await s.scalars(select(Order)))
    finally:
        await engine.dispose()
    copies = [notices_in_chat(sim, LEADERS[teams[o.team_id]], o.number) for o in orders]
    return len(orders), sum(1 for c in copies if c), sum(c - 1 for c in copies if c > 1)


async def _wait_polling(sim: Simulator, proc: asyncio.subprocess.Process, tmp_path: Path) -> None:
    bot = sim.world.bots[BOT_ID]
    before = bot.poll_generation
    try:
        await wait_until(lambda: bot.poll_generation > before or proc.returncode is not None, 90)
    except AssertionError:
        raise AssertionError(f"the bot did not start polling:\n{logs(tmp_path)}") from None
    assert proc.returncode is None, f"the bot exited:\n{logs(tmp_path)}"


async def _wait_webhook(proc: asyncio.subprocess.Process, log: Path, tmp_path: Path) -> None:
    """A webhook worker is ready once it has logged that it set the webhook (it listens)."""

    def ready() -> bool:
        return proc.returncode is not None or "webhook at" in log.read_text(errors="replace")

    try:
        await wait_until(ready, 90)
    except AssertionError:
        raise AssertionError(f"the worker did not start:\n{logs(tmp_path)}") from None
    assert proc.returncode is None, f"the worker exited:\n{logs(tmp_path)}"


Launch = Callable[[int, int], Awaitable[asyncio.subprocess.Process]]


async def _order_through_kills(
    db_url: str, tmp_path: Path, sim: Simulator, launch: Launch, *, workers: int = 1
) -> Figures:
    """Residents order while worker after worker is SIGKILLed and started again (by
    `launch(log number, worker slot)`, which returns once it serves); the checks above
    after every kill and at the end. Returns the figures."""
    figures = Figures()
    rng = random.Random(SEED)
    figures.kill_after_seconds = [round(rng.uniform(1.5, 6.0), 2) for _ in range(KILLS)]
    print(f"\ncrash-orders seed {SEED}: SIGKILL after {figures.kill_after_seconds} s of serving")
    started = time.monotonic()
    await _prepare(db_url, sim)
    procs = [await launch(slot + 1, slot) for slot in range(workers)]
    serving = list(procs)  # the process in each worker slot now
    stop_ordering = asyncio.Event()
    try:
        async with Driver(sim.base_url, TOKEN, timeout=ANSWER_WAIT) as driver:
            residents = [
                Resident(await driver.user(f"R{tg}", user_id=tg, language_code="en"), i, figures)
                for i, tg in enumerate(range(RESIDENT_TG, RESIDENT_TG + RESIDENTS))
            ]
            walking = [asyncio.create_task(r.run(stop_ordering)) for r in residents]
            try:
                for kill, delay in enumerate(figures.kill_after_seconds):
                    await asyncio.wait(walking, timeout=delay)
                    for task in walking:
                        if task.done():
                            task.result()  # a resident failed: say why
                    slot = kill % workers
                    serving[slot].kill()  # SIGKILL: no shutdown hook runs
                    await serving[slot].wait()
                    figures.crashes_survived += 1
                    # Dead now: what a restart finds is what the database holds.
                    await _check(db_url, sim, residents, figures, final=False)
                    serving[slot] = await launch(len(procs) + 1, slot)
                    procs.append(serving[slot])
                await asyncio.sleep(3)  # the last restart serves a while, then no new orders
                stop_ordering.set()
                await asyncio.wait_for(asyncio.gather(*walking), ORDER_PATIENCE + 30)
            finally:
                for task in walking:
                    task.cancel()

        async def all_cards() -> bool:
            orders, delivered, _repeated = await _leader_cards(db_url, sim)
            return delivered == orders

        try:
            await wait_until(all_cards, 60, step=0.5)
        except AssertionError:
            orders, delivered, _ = await _leader_cards(db_url, sim)
            raise AssertionError(
                f"{orders - delivered} leader cards never delivered:\n{logs(tmp_path)}"
            ) from None
        (
            orders,
            figures.leader_cards_delivered,
            figures.leader_cards_repeated,
        ) = await _leader_cards(db_url, sim)
    finally:
        for proc in procs:
            await stop(proc)
    await _check(db_url, sim, residents, figures, final=True)
    figures.seconds = round(time.monotonic() - started, 1)
    (tmp_path / "crash_orders.json").write_text(json.dumps(asdict(figures), indent=2))
    print(
        "crash-orders figures: "
        + ", ".join(f"{k}={v}" for k, v in asdict(figures).items() if k != "kill_after_seconds")
    )
    assert figures.orders_confirmed == orders > 0
    assert figures.leader_cards_repeated <= figures.crashes_survived  # at most one in flight
    return figures


# Many orders per resident, fast: neither the open-order cap nor the flood limit applies.
LOAD = {"MAX_OPEN_ORDERS": "100", "FLOOD_LIMIT": "100"}


@pytest.mark.slow
async def test_sigkill_while_residents_order_loses_and_doubles_nothing(db_url, tmp_path):
    async with run_simulator(limits=Limits(private_burst=50)) as sim:
        sim.add_bot(TOKEN)

        async def launch(n: int, _slot: int) -> asyncio.subprocess.Process:
            proc = await start_bot(sim, db_url, tmp_path, n, **LOAD)
            await _wait_polling(sim, proc, tmp_path)
            return proc

        await _order_through_kills(db_url, tmp_path, sim, launch)


@pytest.mark.slow
async def test_sigkill_of_webhook_workers_on_postgresql_and_redis(
    postgres_url, redis_url, tmp_path
):
    """The production profile: two webhook workers on one port, killed in turn. An update
    in a dead worker's hands is redelivered and taken over; conversations live in Redis."""
    port = free_port()
    env = {
        **LOAD,
        "REDIS_URL": redis_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/updates",
        "WEBHOOK_SECRET": "crash-Secret_1-0123456789abcdef012345",
        "WEBHOOK_PORT": str(port),
        "INBOX_STALE_AFTER": "2",
        "LOG_LEVEL": "INFO",  # "webhook at …" says it is ready
    }
    async with run_simulator(limits=Limits(private_burst=50)) as sim:
        sim.add_bot(TOKEN)

        async def launch(n: int, slot: int) -> asyncio.subprocess.Process:
            proc = await start_bot(
                sim, postgres_url, tmp_path, n, WORKER_NAME=f"worker-{slot + 1}", **env
            )
            await _wait_webhook(proc, tmp_path / f"bot{n}.log", tmp_path)
            return proc

        await _order_through_kills(postgres_url, tmp_path, sim, launch, workers=2)
