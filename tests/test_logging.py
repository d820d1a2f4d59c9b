"""Logs: phone numbers masked wherever they hide, JSON lines, one line per failed update."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from bot.logs import NOISY_LOGGERS, log_context, mask_phones, setup_logging


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13912345678", "139******78"),
        ("call 13912345678.", "call 139******78."),
        ("+86 139 1234 5678", "+86 139******78"),
        ("+8613912345678", "+86139******78"),
        ("8613912345678", "86139******78"),
        ("139-1234-5678", "139******78"),
        ("+44 20 7946 0958", "+442*******58"),
        ("+1-202-555-0143", "+120******43"),
        ("电话13912345678请回电", "电话139******78请回电"),
        # landlines, full-width digits (a Chinese input method), dotted groups
        ("座机0952-6012345", "座机095******45"),
        ("(010) 1234 5678 ext", "010******78 ext"),
        ("09526012345", "095******45"),
        ("电话１３９１２３４５６７８。", "电话１３９******７８。"),
        ("＋86 １３９ １２３４ ５６７８", "＋86 １３９******７８"),
        ("139.1234.5678", "139******78"),
        ("tel 139.1234.5678, thanks", "tel 139******78, thanks"),
        # not phone numbers: ids, short numbers, dates and times, long digit runs
        ("update 987654 from user 5000001", "update 987654 from user 5000001"),
        ("user 1391234567", "user 1391234567"),
        ("2026-11-30 03:11:41,123", "2026-11-30 03:11:41,123"),
        ("timestamp 1764471101123", "timestamp 1764471101123"),
        ("order TA-20261130-0001", "order TA-20261130-0001"),
        ("at 2026.11.30 0:05, 3.5 h, v0.952", "at 2026.11.30 0:05, 3.5 h, v0.952"),
        ("timestamp 1764471101.5", "timestamp 1764471101.5"),
        ("ids 0 00 012 0123", "ids 0 00 012 0123"),
    ],
)
def test_mask_phones(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.fixture
def log_output() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    """Our log set-up writing to a buffer; the root logger as it was afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    buffer = io.StringIO()
    yield buffer, logging.getLogger("civic_dispatch.test")
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    for name, level in noisy.items():
        logging.getLogger(name).setLevel(level)


def test_phones_are_masked_in_message_args_and_exceptions(log_output) -> None:
    buffer, log = log_output
    setup_logging("INFO", "text", buffer)
    log.info("registered 13912345678")
    log.info("phone %s, contact %r", "+86 139 1234 5678", {"phone": "13800001111"})
    log.info("int phone %d", 13712345678)
    try:
        raise ValueError("duplicate key (phone)=(+8613512345678)")
    except ValueError:
        log.exception("could not save %s", "15912345678")
    out = buffer.getvalue()
    for raw in ("13912345678", "1234 5678", "13800001111", "13712345678", "13512345678"):
        assert raw not in out
    for masked in ("139******78", "+86 139******78", "138******11", "137******78"):
        assert masked in out
    assert "(phone)=(+86135******78)" in out and "Traceback" in out
    assert "could not save 159******78" in out


def test_setting_up_twice_does_not_double_the_lines(log_output) -> None:
    buffer, log = log_output
    setup_logging("INFO", "text", buffer)
    setup_logging("INFO", "text", buffer)
    log.info("once")
    assert buffer.getvalue().count("once") == 1


def test_json_lines(log_output) -> None:
    buffer, log = log_output
    setup_logging("INFO", "json", buffer)
    log.info("plain %s", "line")
    with log_context(update_id=42, user_id=5000001):
        log.warning("in an update of 13912345678")
    log.debug("below the level")
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert len(lines) == 2
    plain, in_update = lines
    assert set(plain) == {"time", "level", "logger", "message"}
    assert plain["level"] == "INFO" and plain["logger"] == "civic_dispatch.test"
    assert plain["message"] == "plain line"
    assert datetime.fromisoformat(plain["time"]).utcoffset().total_seconds() == 0
    assert in_update["update_id"] == 42 and in_update["user_id"] == 5000001
    assert in_update["message"] == "in an update of 139******78"
    assert in_update["level"] == "WARNING"


def test_settings_know_the_log_format(monkeypatch) -> None:
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv("LOG_FORMAT", "json")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        load_settings()


async def test_a_failing_handler_is_logged_once_with_update_and_user(
    bot_env, log_output, monkeypatch, caplog
) -> None:
    """The apology reaches the user; the log has one line for the failure, naming the
    update and the user, with their phone number masked even inside the exception."""
    import handlers.menu

    buffer, log = log_output
    setup_logging("INFO", "json", buffer)
    u = await bot_env.person("Broken", phone="+8613912345678")

    def broken_keyboard(*_args: object, **_kwargs: object) -> None:
        log.info("building a keyboard")
        raise RuntimeError("no keyboard for +8613912345678")

    monkeypatch.setattr(handlers.menu, "main_menu", broken_keyboard)
    caplog.clear()
    await u.send("/help")
    await u.expect(contains="something went wrong")
    monkeypatch.undo()
    await u.send("/help")  # the conversation is usable again
    await u.expect(contains="How to use")

    failures = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    entries = [json.loads(line) for line in buffer.getvalue().splitlines()]
    logged = [e for e in entries if "exception" in e or e["level"] in ("ERROR", "CRITICAL")]
    assert len(logged) == 1
    (entry,) = logged
    assert entry["user_id"] == u.id and isinstance(entry["update_id"], int)
    assert f"update {entry['update_id']} from user {u.id} failed" in entry["message"]
    assert "RuntimeError: no keyboard for +86139******78" in entry["exception"]
    assert "13912345678" not in buffer.getvalue()
    # Lines logged while the update was handled carry it too.
    (inside,) = [e for e in entries if e["message"] == "building a keyboard"]
    assert inside["update_id"] == entry["update_id"] and inside["user_id"] == u.id
