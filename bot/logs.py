"""Logging, set up in one place: text for a terminal or one JSON object per line for
production (LOG_FORMAT), the update and user each line belongs to, and phone numbers masked.

Residents' phone numbers must never reach a log file (DESIGN: keep phone numbers out of
logs), wherever they hide: in the message, in its arguments, in an exception's text (a
database error quotes the row it choked on).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

_update_id: ContextVar[int | None] = ContextVar("log_update_id", default=None)
_user_id: ContextVar[int | None] = ContextVar("log_user_id", default=None)

# Chinese mobile numbers (11 digits from 13x to 19x), with or without +86 / 0086 / 86 and
# with spaces or dashes inside, or dots between 3-4-4 groups (139.1234.5678); landlines
# (an area code 0xx or 0xxx, then 7 or 8 digits: 0952-6012345, (010) 1234 5678); then any
# other international number written with a "+". A digit may be full-width (１３９…), as
# a Chinese input method types it.
_D = "[0-9\uff10-\uff19]"
_CN_MOBILE = (
    rf"(?P<cc>(?:[+＋]|00)?86[\s-]?)?"
    rf"(?P<cn>[1１][3-9３-９]{_D}(?:(?:[\s-]?{_D}){{8}}|\.{_D}{{4}}\.{_D}{{4}}))"
)
_LANDLINE = rf"(?P<land>\(?[0０][1-9１-９]{_D}{{1,2}}\)?[\s-]?{_D}{{3,4}}[\s-]?{_D}{{4}})"
_INTERNATIONAL = rf"[+＋](?P<intl>{_D}(?:[\s-]?{_D}){{6,14}})"
_PHONE = re.compile(
    rf"(?<![\d+＋]){_CN_MOBILE}(?!\d)"
    rf"|(?<![\d+＋(]){_LANDLINE}(?!\d)"
    rf"|(?<![\d+＋]){_INTERNATIONAL}(?!\d)"
)


def _hide(digits: str) -> str:
    """Keep the first 3 and the last 2 digits: 13912345678 -> 139******78."""
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def _mask_match(match: re.Match[str]) -> str:
    if match.group("cn"):
        return (match.group("cc") or "") + _hide(re.sub(r"\D", "", match.group("cn")))
    if match.group("land"):
        return _hide(re.sub(r"\D", "", match.group("land")))
    return "+" + _hide(re.sub(r"\D", "", match.group("intl")))


def mask_phones(text: str) -> str:
    """`text` with every phone number in it masked."""
    return _PHONE.sub(_mask_match, text)


class PhoneMaskFilter(logging.Filter):
    """Masks phone numbers in a record's message, arguments and exception text.

    The message is rendered with its arguments first, so a number cannot slip through
    inside an int, a dict or an object's repr; the record then carries no arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: mask the parts, let logging report it
            record.msg = mask_phones(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(
                    mask_phones(a) if isinstance(a, str) else a for a in record.args
                )
        else:
            record.msg, record.args = mask_phones(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_phones(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Adds `update_id` and `user_id` (None when unknown) unless the call gave them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "update_id", None) is None:
            record.update_id = _update_id.get()
        if getattr(record, "user_id", None) is None:
            record.user_id = _user_id.get()
        return True


@contextmanager
def log_context(update_id: int | None, user_id: int | None) -> Iterator[None]:
    """Every record logged inside carries this update and user."""
    tokens = (_update_id.set(update_id), _user_id.set(user_id))
    try:
        yield
    finally:
        _update_id.reset(tokens[0])
        _user_id.reset(tokens[1])


class LogContextMiddleware(BaseMiddleware):
    """Outer update middleware: the log lines of an update name it and its user."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")  # set by aiogram's own user-context middleware
        with log_context(getattr(event, "update_id", None), user.id if user else None):
            return await handler(event, data)


def _context(record: logging.LogRecord) -> dict[str, int]:
    found = {}
    for key in ("update_id", "user_id"):
        value = getattr(record, key, None)
        if value is not None:
            found[key] = value
    return found


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = _context(record)
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, update_id and user_id
    when known, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        # ensure_ascii=False: Chinese names stay readable in journalctl.
        return json.dumps(entry, ensure_ascii=False, default=str)


# Every poll, every web-chat request and every run of a scheduler job (two lines each, for
# jobs that run every few seconds) would otherwise be a line in the log; so would APScheduler
# adding its jobs at start-up (scheduler/runner.py says it started, in one line). Their
# warnings and errors (a job that failed) still show.
NOISY_LOGGERS = (
    "aiohttp.access",
    "alembic.runtime.migration",
    "apscheduler.executors",
    "apscheduler.scheduler",
)


class SkippedRunFilter(logging.Filter):
    """Drops APScheduler's warning that a run was skipped because the previous one is still
    going: the jobs run one at a time on purpose (`max_instances=1`, scheduler/runner.py),
    and the skipped run's work is picked up by the one in progress or the next."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)


def setup_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Configure the root logger: one handler on `stream` (stderr), masking and context
    filters on it (so they apply to every logger's records), the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(PhoneMaskFilter())
    handler.set_name("civic_dispatch")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "civic_dispatch"]:
        root.removeHandler(old)  # called twice (tests): replace, never double every line
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    aps = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedRunFilter) for f in aps.filters):
        aps.addFilter(SkippedRunFilter())
