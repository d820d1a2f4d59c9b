"""Process counters in the Prometheus text format (no extra dependency needed)."""

from __future__ import annotations

from collections import Counter
from threading import Lock

HELP = {
    "updates_total": "Telegram updates received",
    "update_errors_total": "updates whose handler raised",
    "updates_duplicate_total": "updates skipped because they were already handled",
    "updates_in_hand_elsewhere_total": "redeliveries answered 503: another worker has them",
    "updates_throttled_total": "updates dropped because the user sent too many too fast",
    "updates_malformed_total": "updates skipped because they could not be parsed",
    "messages_sent_total": "outbox messages delivered",
    "messages_failed_total": "outbox messages given up",
    "messages_blocked_total": "outbox messages to users who blocked the bot",
    "telegram_429_total": "flood-control answers from Telegram",
}


class Metrics:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = Lock()

    def inc(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def value(self, name: str) -> int:
        return self._counts[name]

    def render(self, prefix: str = "civic_dispatch_") -> str:
        lines = []
        for name, text in HELP.items():
            lines += [
                f"# HELP {prefix}{name} {text}",
                f"# TYPE {prefix}{name} counter",
                f"{prefix}{name} {self._counts[name]}",
            ]
        return "\n".join(lines) + "\n"


METRICS = Metrics()


def count_malformed_update() -> None:
    """An update that could not be parsed was skipped."""
    METRICS.inc("updates_malformed_total")
