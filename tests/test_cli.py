"""The command line, as a newcomer and an administrator use it (real subprocesses)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.driver import Driver

ROOT = Path(__file__).resolve().parent.parent
DEMO_TOKEN = "100000001:SIMULATOR-demo-token-for-local-use-only"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        MEDIA_DIR=str(tmp_path / "media"),
        **extra,
    )
    return env


async def bot_run(tmp_path: Path, **extra: str) -> asyncio.subprocess.Process:
    """`python -m bot run` in the background, on the database in `tmp_path`; its output
    (both streams) is `proc.stdout`."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=_env(tmp_path, **extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


def cli(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_speaks_to_a_newcomer(tmp_path):
    out = cli(tmp_path, "--help")
    assert out.returncode == 0
    assert "simulator" in out.stdout and "org show" in out.stdout


def test_a_wrong_setting_stops_with_one_line_naming_it(tmp_path):
    out = cli(tmp_path, "org", "show", TIMEZONE="Mars/Olympus", MAX_OPEN_ORDERS="many")
    assert out.returncode == 2
    lines = out.stderr.splitlines()[1:]  # after the heading, one line per wrong variable
    assert len(lines) == 2
    assert any(line.startswith("TIMEZONE:") for line in lines)
    assert any(line.startswith("MAX_OPEN_ORDERS:") for line in lines)


def test_org_show_prints_the_plan(tmp_path):
    assert cli(tmp_path, "db", "upgrade").returncode == 0
    assert cli(tmp_path, "org", "load").returncode == 0
    again = cli(tmp_path, "org", "load")
    assert "no changes" in again.stdout
    out = cli(tmp_path, "org", "show").stdout
    for station in (
        "东街社区",
        "西街社区",
        "庙庙湖村",
        "王家庄村",
        "东园村",
        "马太沟村",
        "施家台子村",
    ):
        assert station in out
    assert re.search(r"科技科普服务平台.*\n\s+牵头单位 lead:\s+农业服务中心、畜牧站", out)
    assert re.search(r"法律普及志愿服务队.*\n\s+牵头单位 lead:\s+司法所、陶乐法院、陶乐派出所", out)
    assert out.count("志愿服务队  ") >= 9


def test_org_load_reports_a_broken_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ntown: [unclosed\n", encoding="utf-8")
    assert cli(tmp_path, "db", "upgrade").returncode == 0
    out = cli(tmp_path, "org", "load", str(bad))
    assert out.returncode == 1
    assert "bad.yaml" in out.stderr


def test_staff_add_list_remove(tmp_path):
    cli(tmp_path, "db", "upgrade")
    cli(tmp_path, "org", "load")
    add = cli(
        tmp_path,
        "staff",
        "add",
        "--tg-id",
        "42",
        "--name",
        "马书记",
        "--role",
        "station_head",
        "--station",
        "taole.miaomiaohu",
    )
    assert add.returncode == 0, add.stdout + add.stderr
    lead = cli(
        tmp_path, "staff", "add", "--tg-id", "43", "--role", "team_leader", "--team", "taole.health"
    )
    assert lead.returncode == 0
    wrong = cli(tmp_path, "staff", "add", "--tg-id", "44", "--role", "team_leader", "--team", "x")
    assert wrong.returncode == 2 and "--team" in wrong.stdout
    listed = cli(tmp_path, "staff", "list").stdout
    assert "马书记" in listed and "station_head" in listed and "卫生健康志愿服务队" in listed
    assert (
        cli(tmp_path, "staff", "remove", "--tg-id", "43", "--role", "team_leader").returncode == 0
    )
    assert "卫生健康志愿服务队" not in cli(tmp_path, "staff", "list").stdout


def test_staff_add_a_units_dispatcher(tmp_path):
    cli(tmp_path, "db", "upgrade")
    cli(tmp_path, "org", "load")
    assert "taole.culture_station" in cli(tmp_path, "org", "show").stdout  # codes to give
    add = cli(
        tmp_path,
        "staff",
        "add",
        "--tg-id",
        "45",
        "--name",
        "郑联络员",
        "--role",
        "dispatcher",
        "--unit",
        "taole.culture_station",
    )
    assert add.returncode == 0, add.stdout + add.stderr
    wrong = cli(tmp_path, "staff", "add", "--tg-id", "46", "--role", "dispatcher", "--unit", "x")
    assert wrong.returncode == 2 and "--unit" in wrong.stdout
    listed = cli(tmp_path, "staff", "list").stdout
    assert "郑联络员" in listed and "dispatcher" in listed and "文化站" in listed
    assert cli(tmp_path, "staff", "remove", "--tg-id", "45", "--role", "dispatcher").returncode == 0
    assert "郑联络员" not in cli(tmp_path, "staff", "list").stdout


async def test_run_without_token_starts_the_simulator_and_chats(tmp_path):
    """What `make run` does for a newcomer: migrate, load Taole, start, print the address."""
    proc = await bot_run(tmp_path, SIMULATOR_PORT="0", DASHBOARD_PORT="0")
    try:
        address = None
        async with asyncio.timeout(60):
            while address is None:
                line = (await proc.stdout.readline()).decode()
                assert line, "the bot exited before printing the web chat address"
                if match := re.search(r"Web chat .*?(http://127\.0\.0\.1:\d+)/", line):
                    address = match.group(1)
        assert (tmp_path / "cli.sqlite3").exists()
        async with Driver(address, DEMO_TOKEN) as d:
            personas = await d.users()
            assert any("队长" in (p.get("label") or "") for p in personas)
            newcomer = await d.user("新居民", user_id=7_000_999)
            await newcomer.send("/start")
            greeting = await newcomer.expect(timeout=15)
            assert "志愿" in greeting.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode in (0, -signal.SIGINT), proc.returncode


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch):
    monkeypatch.delenv("BOT_TOKEN", raising=False)


# --- the operator's terminal ------------------------------------------------------------

TRACEBACK = "Traceback (most recent call last)"


def test_a_database_not_yet_set_up_gets_one_line_saying_what_to_run(tmp_path):
    for command in (["org", "show"], ["staff", "list"], ["export", "xlsx", "--out", "a.xlsx"]):
        out = cli(tmp_path, *command)
        assert out.returncode == 1, command
        assert TRACEBACK not in out.stderr + out.stdout
        assert out.stderr.strip().splitlines() == [
            "The database is not set up yet: run `python -m bot org load` "
            "(or `make run`, which also starts the bot)."
        ]
    # A command that changes something sets the database up itself, as `run` does.
    load = cli(tmp_path, "org", "load")
    assert load.returncode == 0, load.stderr
    assert "陶乐镇" in cli(tmp_path, "org", "show").stdout


def test_a_port_in_use_stops_with_one_line_naming_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = cli(tmp_path, "run", SIMULATOR_PORT=str(port), DASHBOARD_PORT="0")
    assert out.returncode == 1
    said = out.stdout + out.stderr
    assert TRACEBACK not in said and "OSError" not in said
    lines = [line for line in said.splitlines() if str(port) in line]
    assert len(lines) == 1, said
    assert f"port {port} on 127.0.0.1 is in use: set SIMULATOR_PORT" in lines[0]


async def test_an_idle_run_keeps_the_terminal_quiet(tmp_path):
    """The scheduler looks for due rows every 0.1 s here (50 times as often as by default);
    none of its runs may reach the terminal."""
    proc = await bot_run(tmp_path, SIMULATOR_PORT="0", DASHBOARD_PORT="0", SCHEDULER_INTERVAL="0.1")
    try:
        async with asyncio.timeout(60):  # ready: the scheduler has started
            while b"scheduler started" not in (line := await proc.stdout.readline()):
                assert line, "the bot exited before it was ready"
        await asyncio.sleep(5)  # ~50 runs of each scheduler job
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    idle = rest.decode().splitlines()
    assert TRACEBACK not in rest.decode()
    assert not [line for line in idle if "apscheduler" in line], idle[:10]
    assert len(idle) < 20, idle
