"""The bot as a separate process (`python -m bot run`) against a simulator in the test's
loop, so a test can kill it (SIGKILL: no shutdown hook runs) and start it again."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

from bench.common import bot_process_env
from tests.harness import TOKEN

ROOT = Path(__file__).resolve().parent.parent


async def start_bot(
    sim, db_url: str, tmp_path: Path, n: int, **env: str
) -> asyncio.subprocess.Process:
    """Start the bot; its log goes to `tmp_path/bot<n>.log`. `env` adds or overrides settings."""
    defaults = {
        "DATABASE_URL": db_url,
        "MEDIA_DIR": str(tmp_path / "media"),
        "WORKER_NAME": "crash-test",  # a stable name: its own claims come back at start
        "SEND_RATE": "28",
        "SCHEDULER_INTERVAL": "0.5",
    }
    env = bot_process_env(TOKEN, sim.base_url, **{**defaults, **env})
    log = (tmp_path / f"bot{n}.log").open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()  # the child has its own copy


async def stop(proc: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
    if proc.returncode is not None:
        return
    proc.send_signal(sig)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def logs(tmp_path: Path) -> str:
    """The tail of every bot log, for a failure message."""
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("*.log")))


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1 (for a webhook server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
