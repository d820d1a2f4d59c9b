"""Broadcast notices: composed by the office or a station head, approved, scheduled, fanned out.

Life of a broadcast (`Broadcast.status`):

    pending_approval ──approve──▶ scheduled ──due──▶ sending ──fanned out──▶ sent
          │ reject                   ▲  │ cancel                   │ recurring
          ▼                          │  ▼                          │
       rejected                      │ cancelled                   │
                                     └─────────────────────────────┘ (next_run_at = next time)

A station head's notice waits for the town office; the office's goes straight to
`scheduled`. `next_run_at` is the due time (UTC); while `sending` it is a lease: a fan-out
that died (crash) is resumed by whoever claims it after the lease ran out.

Fan-out writes one outbox row per recipient with `dedupe_key = bc:<id>:<run>:<user id>`, in
chunks (one short transaction each, `INSERT … ON CONFLICT DO NOTHING`): re-running a crashed
fan-out enqueues nobody twice. A recipient who blocked the bot gets a row already marked
`blocked` (never sent), so every recipient has a delivery record and the report counts them.
When no row of a run is left pending, the author gets the delivery report.

    audience.py    limits; who may compose and address whom; the audience a notice reaches
    recurrence.py  daily, weekly, monthly at a local time; when a notice first goes out
    composing.py   create, approve, reject, cancel; the lists of notices
    delivery.py    the fan-out (the scheduler's job), delivery reports, blocked recipients
"""

from services.broadcasts.audience import (
    AUDIENCE_KINDS,
    MAX_CAPTION,
    MAX_REASON,
    MAX_TEXT,
    OPEN,
    AudienceKind,
    audience_ids,
    check_audience,
    count_audience,
    may_compose,
    needs_approval,
    recipients,
    stations_for,
    teams_in,
    towns_for,
)
from services.broadcasts.composing import (
    approve,
    authored,
    cancel,
    create,
    may_manage,
    reject,
    scheduled,
    to_decide,
)
from services.broadcasts.delivery import (
    FANOUT_CHUNK,
    LEASE,
    NAMES_SHOWN,
    Recipient,
    Report,
    Run,
    fan_out,
    mark_blocked,
    release_leases,
    report,
    run_due,
    run_key,
    send_reports,
    unreached,
)
from services.broadcasts.recurrence import (
    RECURRENCE_KINDS,
    Repeat,
    check_recurrence,
    first_run,
    next_occurrence,
    parse_clock,
)

__all__ = [
    "AUDIENCE_KINDS",
    "FANOUT_CHUNK",
    "LEASE",
    "MAX_CAPTION",
    "MAX_REASON",
    "MAX_TEXT",
    "NAMES_SHOWN",
    "OPEN",
    "RECURRENCE_KINDS",
    "AudienceKind",
    "Recipient",
    "Repeat",
    "Report",
    "Run",
    "approve",
    "audience_ids",
    "authored",
    "cancel",
    "check_audience",
    "check_recurrence",
    "count_audience",
    "create",
    "fan_out",
    "first_run",
    "mark_blocked",
    "may_compose",
    "may_manage",
    "needs_approval",
    "next_occurrence",
    "parse_clock",
    "recipients",
    "reject",
    "release_leases",
    "report",
    "run_due",
    "run_key",
    "scheduled",
    "send_reports",
    "stations_for",
    "teams_in",
    "to_decide",
    "towns_for",
    "unreached",
]
