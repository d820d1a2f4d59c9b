"""The process's metrics, in the Prometheus text format (prometheus_client), served at
`/metrics` beside the webhook.

Several workers on one host share theirs through PROMETHEUS_MULTIPROC_DIR: whoever starts
the workers sets it for all of them and empties the directory first (prometheus_client reads
it when first imported, so it cannot be set from here). Each worker then writes its values
to files there, and a scrape of any worker adds up every worker's, the dead ones' included,
so a counter never goes back when one worker restarts.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
if os.environ.get(MULTIPROC_ENV):  # a worker started before anyone made the directory
    os.makedirs(os.environ[MULTIPROC_ENV], exist_ok=True)
disable_created_metrics()  # the `_created` series: one more line per series, read by no one

PREFIX = "civic_dispatch_"

UPDATES = Counter(f"{PREFIX}updates", "Telegram updates received")
UPDATE_ERRORS = Counter(f"{PREFIX}update_errors", "updates whose handler raised")
UPDATES_DUPLICATE = Counter(
    f"{PREFIX}updates_duplicate", "updates skipped because they were already handled"
)
UPDATES_IN_HAND_ELSEWHERE = Counter(
    f"{PREFIX}updates_in_hand_elsewhere", "redeliveries answered 503: another worker has them"
)
UPDATES_THROTTLED = Counter(
    f"{PREFIX}updates_throttled", "updates dropped because the user sent too many too fast"
)
UPDATE_SECONDS = Histogram(
    f"{PREFIX}update_seconds",
    "time to handle an update, middlewares included, by kind and outcome "
    "(handled; unhandled: no handler wanted it or it was throttled; refused: a rule said no; "
    "error)",
    ["kind", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

MESSAGES_SENT = Counter(f"{PREFIX}messages_sent", "outbox messages delivered")
MESSAGES_FAILED = Counter(f"{PREFIX}messages_failed", "outbox messages given up")
MESSAGES_BLOCKED = Counter(
    f"{PREFIX}messages_blocked", "outbox messages to users who blocked the bot"
)
TELEGRAM_429 = Counter(f"{PREFIX}telegram_429", "flood-control answers from Telegram")
OUTBOX_LATENCY_SECONDS = Histogram(
    f"{PREFIX}outbox_latency_seconds",
    "outbox row written to message delivered (quiet hours and retries included), by "
    "priority (urgent, notice, broadcast)",
    ["priority"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600),
)
TELEGRAM_CALL_SECONDS = Histogram(
    f"{PREFIX}telegram_call_seconds",
    "one send to Telegram, from request to answer, by method and outcome "
    "(ok, retry_after, blocked, bad_request, error)",
    ["method", "outcome"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def render() -> tuple[bytes, str]:
    """The text for a scrape and its content type: every worker's, in multiprocess mode."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


UPDATES_FROM_GROUPS = Counter(
    f"{PREFIX}updates_from_groups", "updates from group chats and channels, not handled"
)
UPDATES_MALFORMED = Counter(
    f"{PREFIX}updates_malformed", "updates skipped because they could not be parsed"
)


def count_malformed_update() -> None:
    """An update that could not be parsed was skipped."""
    UPDATES_MALFORMED.inc()
