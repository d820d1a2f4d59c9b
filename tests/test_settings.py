"""Every setting the README documents loads in the form the README shows it, and a wrong
value stops start-up with one line naming the variable.

The README's configuration table is read here, so a new row is tested without anyone
remembering to: its default column (code spans, `empty`, or a bare value), the
`NAME=value` lines of the README's examples, and a comma-separated list where the row says
"comma-separated"."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from bot.settings import MIN_SECRET, Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECRET = "0123456789abcdef" * 4
# What a setting needs beside it to be valid at all (the README says so in the same row).
COMPANIONS = {"WEBHOOK_URL": {"WEBHOOK_SECRET": SECRET}}
# A wrong value for every setting that is not free text; the test below insists that each
# documented setting of a checked kind has one here.
WRONG = {
    "ADMIN_IDS": "9001,nine",
    "DEFAULT_LOCALE": "fr",
    "TIMEZONE": "Mars/Olympus",
    "DATABASE_URL": "mysql://dispatch@localhost/dispatch",
    "QUIET_HOURS_START": "25:00",
    "QUIET_HOURS_END": "seven",
    "DIGEST_TIME": "8 o'clock",
    "SEND_RATE": "fast",
    "SEND_RATE_PER_CHAT": "0",
    "SEND_BURST_PER_CHAT": "100",
    "SCHEDULER_INTERVAL": "-5",
    "WEEKLY_SUMMARY_DAY": "someday",
    "MAX_OPEN_ORDERS": "three",
    "WEBHOOK_SECRET": "short-secret",
    "INBOX_STALE_AFTER": "forever",
    "WEBHOOK_PORT": "70000",
    "SIMULATOR_PORT": "port",
    "DASHBOARD_PORT": "-1",
    "DASHBOARD_PUBLIC_URL": "dash.example.org",
    "DASHBOARD_SECRET": "x" * (MIN_SECRET - 1),
    "FLOOD_LIMIT": "0",
    "FLOOD_WINDOW": "a while",
    "LOG_LEVEL": "LOUD",
    "LOG_FORMAT": "xml",
}


def _table() -> list[tuple[list[str], str, str]]:
    """(variables, default cell, meaning cell) of each row of README's configuration table."""
    section = README.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        rows.append((re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[0]), cells[1], cells[2]))
    return rows


def _example_lines() -> dict[str, list[str]]:
    """`NAME=value` lines in README's code blocks (placeholders with … left out)."""
    found: dict[str, list[str]] = {}
    for block in re.findall(r"```(?:sh|ini|env)?\n(.*?)```", README, re.S):
        for line in block.splitlines():
            m = re.match(r"([A-Z][A-Z0-9_]*)=(\S*)", line.strip())
            if m and "…" not in m.group(2):
                found.setdefault(m.group(1), []).append(m.group(2))
    return found


def documented_values() -> list[tuple[str, str]]:
    examples = _example_lines()
    cases: list[tuple[str, str]] = []
    for names, default, meaning in _table():
        spans = re.findall(r"`([^`]*)`", default)
        if spans and len(spans) == len(names):
            defaults = spans
        elif default == "empty":
            defaults = [""] * len(names)
        else:
            defaults = [default] * len(names)  # a bare value: 60, host-pid
        for name, value in zip(names, defaults, strict=True):
            values = [value, *examples.get(name, [])]
            if "comma-separated" in meaning:
                values.append("9001,9002")
            cases += [(name, v) for v in dict.fromkeys(values)]
    return cases


DOCUMENTED = documented_values()
NAMES = sorted({name for name, _ in DOCUMENTED})


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting from this machine's environment or a `.env` file."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_the_table_is_read() -> None:
    assert len(NAMES) >= 30
    assert ("ADMIN_IDS", "9001,9002") in DOCUMENTED and ("ADMIN_IDS", "") in DOCUMENTED
    assert all(name.lower() in Settings.model_fields for name in NAMES), "a row names no setting"


@pytest.mark.parametrize(("name", "value"), DOCUMENTED, ids=[f"{n}={v}" for n, v in DOCUMENTED])
def test_every_documented_setting_loads_as_the_readme_shows_it(env, name: str, value: str) -> None:
    for other, companion in COMPANIONS.get(name, {}).items():
        env.setenv(other, companion)
    env.setenv(name, value)
    settings = load_settings()
    if name == "ADMIN_IDS":
        assert settings.admin_ids == [int(i) for i in value.split(",") if i]


def _checked(name: str) -> bool:
    """Whether a setting is of a kind that can be wrong (not free text or a path)."""
    field = Settings.model_fields[name.lower()]
    free = field.annotation in (str, Path) and not field.metadata
    validated = name.lower() in {
        f for d in Settings.__pydantic_decorators__.field_validators.values() for f in d.info.fields
    }
    return not free or validated or typing.get_origin(field.annotation) is not None


def test_every_setting_of_a_checked_kind_has_a_wrong_value_here() -> None:
    assert sorted(n for n in NAMES if _checked(n)) == sorted(n for n in WRONG if n in NAMES)


@pytest.mark.parametrize(("name", "value"), sorted(WRONG.items()), ids=sorted(WRONG))
def test_a_wrong_value_is_one_line_naming_the_variable(env, name: str, value: str) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert len(message.splitlines()) == 1 and message.startswith(f"{name}: ")
    if "SECRET" in name:
        assert value not in message  # a secret is never printed back


@pytest.mark.parametrize("name", ["WEBHOOK_SECRET", "DASHBOARD_SECRET"])
def test_a_secret_when_set_has_at_least_32_characters(env, name: str) -> None:
    env.setenv(name, "s" * MIN_SECRET)
    assert getattr(load_settings(), name.lower()) == "s" * MIN_SECRET
    env.setenv(name, "s" * (MIN_SECRET - 1))
    with pytest.raises(SettingsError, match=f"^{name}: .*at least 32 characters"):
        load_settings()
