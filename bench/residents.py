"""The scripted residents of the throughput and latency benchmarks, in a process of their
own: the simulator stays in the bench process, so the load's CPU is two figures (the
simulator's and the residents') and neither takes the bot's core from it.

    python -m bench.residents   (a job as JSON on stdin; see `Residents`)

The child reads its job, opens a chat for each resident, says `ready`, waits for `go`,
plays the script, and writes one JSON line: each resident's last answer, the callback query
id of their last press, and the CPU seconds the playing took.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from typing import Any

from bench.common import own_cpu
from bench.conversation import SCRIPTS, play
from simulator.driver import Driver

STEP_TIMEOUT = 120.0  # a step waits this long at most; a slow run shows as a slow figure


async def _child() -> None:
    job = json.loads(sys.stdin.readline())
    script = SCRIPTS[job["script"]]
    think = tuple(job["think"]) if job["think"] else None
    async with Driver(
        job["base_url"], job["token"], timeout=STEP_TIMEOUT, connections=4 * len(job["ids"])
    ) as driver:
        users = [await driver.user(f"R{tg}", user_id=tg, language_code="en") for tg in job["ids"]]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # "go"
        cpu = own_cpu()
        answers = await asyncio.gather(
            *(play(u, script, check=job["check"], timeout=STEP_TIMEOUT, think=think) for u in users)
        )
        result = {
            "cpu": own_cpu() - cpu,
            "last": {str(u.id): a.text or "" for u, a in zip(users, answers, strict=True)},
            "pressed": {str(u.id): u.last_query_id or "" for u in users},
        }
    print(json.dumps(result), flush=True)


@dataclass
class Residents:
    """A child process playing `script` (a key of SCRIPTS) for the residents `ids`."""

    base_url: str
    token: str
    ids: list[int]
    script: str = "order"
    check: bool = True
    think: tuple[float, float] | None = None
    proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Residents:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.residents",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        job = {**self.__dict__, "proc": None}
        await self._say(json.dumps(job))
        assert (await self._line()) == "ready"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def play(self) -> dict[str, Any]:
        """Go; the child's result once every resident is through."""
        await self._say("go")
        result: dict[str, Any] = json.loads(await self._line())
        assert self.proc is not None
        await self.proc.wait()
        return result

    async def _say(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def _line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the residents' process ended without an answer")
        return line.decode().strip()


if __name__ == "__main__":
    asyncio.run(_child())
