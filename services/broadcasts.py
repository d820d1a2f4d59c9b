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
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, String, cast, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    Broadcast,
    BroadcastStatus,
    MembershipStatus,
    OutboxMessage,
    OutboxStatus,
    Region,
    RegionLevel,
    Role,
    StaffRole,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services import people
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles
from services.reminders import insert_ignore

log = logging.getLogger("civic_dispatch.broadcasts")

AUDIENCE_KINDS = ("everyone", "stations", "team", "volunteers", "party", "heads")
RECURRENCE_KINDS = ("daily", "weekly", "monthly")
MAX_TEXT = 3500
MAX_CAPTION = 1000  # a photo caption is at most 1024 characters, with the "📢 Notice" line
MAX_REASON = 300
FANOUT_CHUNK = 500
LEASE = timedelta(minutes=2)
OPEN = (BroadcastStatus.PENDING_APPROVAL, BroadcastStatus.SCHEDULED)
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# ---------------------------------------------------------------------------------------
# Rules: who may address whom
# ---------------------------------------------------------------------------------------


def first_run(
    now: datetime, tz: tzinfo, at: datetime | None = None, rule: dict[str, Any] | None = None
) -> datetime:
    """When a notice composed now would first go out."""
    if rule is not None:
        return next_occurrence(rule, now - timedelta(seconds=1), tz)
    return max(at, now) if at is not None else now


def may_compose(roles: Roles) -> bool:
    return roles.is_office or bool(roles.head_of_stations)


def needs_approval(roles: Roles, town_id: int) -> bool:
    """A station head's notice needs the office; the office's and an admin's do not."""
    return not (roles.admin or town_id in roles.office_towns)


async def towns_for(session: AsyncSession, roles: Roles) -> list[Region]:
    """The towns whose people this user may address."""
    stmt = select(Region).where(Region.level == RegionLevel.TOWN, Region.active.is_(True))
    if not roles.admin:
        head_towns = select(Region.parent_id).where(Region.id.in_(roles.head_of_stations))
        stmt = stmt.where(or_(Region.id.in_(roles.office_towns), Region.id.in_(head_towns)))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


async def stations_for(session: AsyncSession, roles: Roles, town_id: int) -> list[Region]:
    """The villages this user may address in a town: all of them for the office, their own
    for a station head."""
    stmt = select(Region).where(
        Region.level == RegionLevel.STATION, Region.parent_id == town_id, Region.active.is_(True)
    )
    if needs_approval(roles, town_id):
        stmt = stmt.where(Region.id.in_(roles.head_of_stations))
    return list(await session.scalars(stmt.order_by(Region.sort, Region.id)))


async def teams_in(session: AsyncSession, town_id: int) -> list[Team]:
    return list(
        await session.scalars(
            select(Team)
            .where(Team.town_id == town_id, Team.active.is_(True))
            .order_by(Team.kind, Team.sort, Team.id)
        )
    )


async def check_audience(
    session: AsyncSession, roles: Roles, town_id: int, audience: dict[str, Any]
) -> dict[str, Any]:
    """A clean copy of `audience` if this user may address it, else NotAllowed/DomainError."""
    kind = audience.get("kind")
    ids = sorted({int(i) for i in audience.get("ids") or []})
    if kind not in AUDIENCE_KINDS:
        raise DomainError(N_("Please choose who should get the notice."))
    if town_id not in {t.id for t in await towns_for(session, roles)}:
        raise NotAllowed(N_("You are not allowed to do this."))
    if needs_approval(roles, town_id) and kind != "stations":
        raise NotAllowed(N_("A station head can send notices only to their own village."))
    if kind == "stations":
        allowed = {s.id for s in await stations_for(session, roles, town_id)}
        if not ids:
            raise DomainError(N_("Please choose at least one village."))
        if set(ids) - allowed:
            raise NotAllowed(N_("A station head can send notices only to their own village."))
        return {"kind": kind, "ids": ids}
    if kind == "team":
        teams = {t.id for t in await teams_in(session, town_id)}
        if len(ids) != 1 or ids[0] not in teams:
            raise DomainError(N_("Please choose a team."))
        return {"kind": kind, "ids": ids}
    return {"kind": kind, "ids": []}


def audience_ids(town_id: int, audience: dict[str, Any]) -> Select[tuple[int]]:
    """The ids of the users an audience names (reachable or not: the caller filters)."""
    kind, ids = audience.get("kind"), list(audience.get("ids") or [])
    stations = select(Region.id).where(Region.parent_id == town_id)
    in_town = or_(User.town_id == town_id, User.station_id.in_(stations))
    if kind == "stations":
        return select(User.id).where(User.station_id.in_(ids))
    if kind == "team":
        return (
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                TeamMember.team_id.in_(ids),
                Team.town_id == town_id,
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
    if kind == "volunteers":
        return (
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                Team.town_id == town_id,
                Team.active.is_(True),
                TeamMember.status == MembershipStatus.ACTIVE,
            )
        )
    if kind == "party":
        return select(User.id).where(in_town, User.is_party_member.is_(True))
    if kind == "heads":
        return select(StaffRole.user_id).where(
            StaffRole.role == Role.STATION_HEAD,
            StaffRole.active.is_(True),
            StaffRole.region_id.in_(stations),
        )
    return select(User.id).where(in_town)  # everyone


def _recipients(town_id: int, audience: dict[str, Any]) -> Select[Any]:
    return select(User.id, User.tg_id, User.blocked).where(
        User.id.in_(audience_ids(town_id, audience)),
        User.tg_id.is_not(None),
        User.banned.is_(False),
    )


async def count_audience(session: AsyncSession, town_id: int, audience: dict[str, Any]) -> int:
    """How many people would get it now (those who blocked the bot not counted)."""
    query = _recipients(town_id, audience).where(User.blocked.is_(False)).subquery()
    return int(await session.scalar(select(func.count()).select_from(query)) or 0)


# ---------------------------------------------------------------------------------------
# Recurrence
# ---------------------------------------------------------------------------------------


def parse_clock(text: str) -> time | None:
    match = _CLOCK.match(text.strip())
    return time(int(match[1]), int(match[2])) if match else None


def check_recurrence(rule: dict[str, Any] | None) -> dict[str, Any] | None:
    """A clean copy of a recurrence rule, or DomainError."""
    if rule is None:
        return None
    kind, clock = rule.get("kind"), parse_clock(str(rule.get("time", "")))
    if kind not in RECURRENCE_KINDS or clock is None:
        raise DomainError(N_("Please choose how often to repeat the notice."))
    days = sorted({int(d) for d in rule.get("days") or []})
    if kind == "weekly" and (not days or not all(0 <= d <= 6 for d in days)):
        raise DomainError(N_("Please choose at least one day of the week."))
    if kind == "monthly" and (not days or not all(1 <= d <= 31 for d in days)):
        raise DomainError(N_("Please give a day of the month from 1 to 31."))
    return {"kind": kind, "days": days if kind != "daily" else [], "time": f"{clock:%H:%M}"}


def _matches(rule: dict[str, Any], day: date) -> bool:
    kind, days = rule["kind"], rule.get("days") or []
    if kind == "weekly":
        return day.weekday() in days
    if kind == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day in {min(d, last) for d in days}  # "the 31st" is the last day
    return True


def next_occurrence(rule: dict[str, Any], after: datetime, tz: tzinfo) -> datetime:
    """The first moment strictly after `after` that the rule names, in UTC. Local wall-clock
    time is kept across daylight-saving changes (zoneinfo), wherever the zone has them."""
    clock = parse_clock(rule["time"])
    if clock is None:
        raise ValueError(f"bad recurrence time {rule['time']!r}")
    start = after.astimezone(tz).date()
    for offset in range(0, 400):
        day = start + timedelta(days=offset)
        if not _matches(rule, day):
            continue
        when = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
        if when > after:
            return when
    raise ValueError(f"recurrence {rule!r} never falls due")


# ---------------------------------------------------------------------------------------
# Composing, approving, cancelling
# ---------------------------------------------------------------------------------------


def _clean_text(text: str | None, photo: str | None) -> str:
    cleaned = (text or "").strip()
    limit = MAX_CAPTION if photo else MAX_TEXT
    if not cleaned and not photo:
        raise DomainError(N_("Please write the notice."))
    if len(cleaned) > limit:
        raise DomainError(N_("This text is too long (at most {limit} characters)."), limit=limit)
    return cleaned


async def create(
    session: AsyncSession,
    author: User,
    roles: Roles,
    *,
    town_id: int,
    text: str,
    audience: dict[str, Any],
    photo_file_id: str | None = None,
    at: datetime | None = None,
    recurrence: dict[str, Any] | None = None,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> Broadcast:
    """Write a broadcast: scheduled for `at` (None: now) or by `recurrence`; a station
    head's waits for the office, who get Approve / Reject. Commits."""
    now = now or utcnow()
    if roles.user_id != author.id or author.banned or not may_compose(roles):
        raise NotAllowed(N_("Only the office and station heads can send notices."))
    body = _clean_text(text, photo_file_id)
    clean_audience = await check_audience(session, roles, town_id, audience)
    rule = check_recurrence(recurrence)
    if rule is None and at is not None:
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        if at < now - timedelta(minutes=1):
            raise DomainError(N_("That time has already passed. Please choose a later one."))
    first = first_run(now, tz, at, rule)
    approval = needs_approval(roles, town_id)
    bc = Broadcast(
        author_id=author.id,
        town_id=town_id,
        text=body,
        photo_file_id=photo_file_id,
        audience=clean_audience,
        recurrence=rule,
        next_run_at=first,
        status=BroadcastStatus.PENDING_APPROVAL if approval else BroadcastStatus.SCHEDULED,
        runs=0,
        created_at=now,
    )
    session.add(bc)
    await session.flush()
    if approval:  # the town's office decides (admins too, should the office be empty)
        await notify_many(
            session,
            [*await people.office_staff(session, town_id), *await people.admins(session)],
            NoticeKind.BROADCAST_APPROVAL,
            dedupe_key=f"bcapproval:{bc.id}",
            broadcast_id=bc.id,
        )
    await session.commit()
    return bc


async def _load(session: AsyncSession, broadcast_id: int) -> Broadcast:
    bc = await session.scalar(
        select(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .execution_options(populate_existing=True)
    )
    if bc is None:
        raise NotFound(N_("This notice does not exist."))
    return bc


def _may_decide(roles: Roles, bc: Broadcast) -> bool:
    return roles.admin or bc.town_id in roles.office_towns


async def _decided_conflict(session: AsyncSession, bc: Broadcast) -> Conflict:
    if bc.status == BroadcastStatus.REJECTED:
        return Conflict(N_("This notice was already rejected."))
    if bc.status == BroadcastStatus.CANCELLED:
        return Conflict(N_("This notice was cancelled."))
    who = await session.get(User, bc.approved_by_id) if bc.approved_by_id else None
    return Conflict(
        N_("This notice was already approved by {name}."), name=(who.name if who else "") or "?"
    )


async def _move(
    session: AsyncSession, bc: Broadcast, frm: Sequence[BroadcastStatus], **values: Any
) -> bool:
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == bc.id, Broadcast.status.in_(list(frm)), Broadcast.runs == bc.runs)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def approve(
    session: AsyncSession,
    broadcast_id: int,
    actor: User,
    roles: Roles,
    *,
    now: datetime | None = None,
    tz: tzinfo = UTC,
) -> Broadcast:
    """The office lets a station head's notice go out (at its time, or now if that passed).
    Two office staff at once: one wins, the other is told who. Commits."""
    now = now or utcnow()
    bc = await _load(session, broadcast_id)
    if roles.user_id != actor.id or not _may_decide(roles, bc):
        raise NotAllowed(N_("Only the office can approve notices."))
    if bc.status != BroadcastStatus.PENDING_APPROVAL:
        raise await _decided_conflict(session, bc)
    due = bc.next_run_at or now
    if due < now:
        due = next_occurrence(bc.recurrence, now, tz) if bc.recurrence else now
    if not await _move(
        session,
        bc,
        [BroadcastStatus.PENDING_APPROVAL],
        status=BroadcastStatus.SCHEDULED,
        approved_by_id=actor.id,
        next_run_at=due,
    ):
        await session.rollback()
        raise await _decided_conflict(session, await _load(session, broadcast_id))
    await notify(
        session,
        bc.author_id,
        NoticeKind.TEXT,
        dedupe_key=f"bcdecided:{bc.id}",
        broadcast_id=bc.id,
        msgid=N_("✅ Your notice #{id} was approved by {name}. It will go out as planned."),
        params={"id": bc.id, "name": actor.name or ""},
    )
    await session.commit()
    return await _load(session, broadcast_id)


async def reject(
    session: AsyncSession, broadcast_id: int, actor: User, roles: Roles, reason: str
) -> Broadcast:
    """The office turns a station head's notice down, with a reason the head is told."""
    bc = await _load(session, broadcast_id)
    if roles.user_id != actor.id or not _may_decide(roles, bc):
        raise NotAllowed(N_("Only the office can approve notices."))
    if bc.status != BroadcastStatus.PENDING_APPROVAL:
        raise await _decided_conflict(session, bc)
    why = (reason or "").strip()
    if not why:
        raise DomainError(N_("Please give a reason."))
    if len(why) > MAX_REASON:
        raise DomainError(
            N_("This text is too long (at most {limit} characters)."), limit=MAX_REASON
        )
    if not await _move(
        session,
        bc,
        [BroadcastStatus.PENDING_APPROVAL],
        status=BroadcastStatus.REJECTED,
        reject_reason=why,
        next_run_at=None,
    ):
        await session.rollback()
        raise await _decided_conflict(session, await _load(session, broadcast_id))
    await notify(
        session,
        bc.author_id,
        NoticeKind.TEXT,
        dedupe_key=f"bcdecided:{bc.id}",
        broadcast_id=bc.id,
        msgid=N_("❌ Your notice #{id} was not approved by {name}. Reason: {reason}"),
        params={"id": bc.id, "name": actor.name or "", "reason": why},
    )
    await session.commit()
    return await _load(session, broadcast_id)


def may_manage(roles: Roles, bc: Broadcast) -> bool:
    return roles.user_id == bc.author_id or _may_decide(roles, bc)


async def cancel(session: AsyncSession, broadcast_id: int, actor: User, roles: Roles) -> Broadcast:
    """Stop a scheduled (or still unapproved) notice, and every later run of a recurring
    one. A run already being fanned out finishes. Commits."""
    bc = await _load(session, broadcast_id)
    if roles.user_id != actor.id or not may_manage(roles, bc):
        raise NotAllowed(N_("You are not allowed to do this."))
    if bc.status == BroadcastStatus.SENDING:
        raise Conflict(N_("This notice is being sent right now. Try again in a minute."))
    if bc.status not in OPEN:
        raise Conflict(N_("This notice is no longer scheduled."))
    if not await _move(session, bc, OPEN, status=BroadcastStatus.CANCELLED, next_run_at=None):
        await session.rollback()
        raise Conflict(N_("This notice is being sent right now. Try again in a minute."))
    await session.commit()
    return await _load(session, broadcast_id)


async def scheduled(session: AsyncSession, roles: Roles, limit: int = 20) -> list[Broadcast]:
    """Notices still to go out that this user may cancel, soonest first."""
    stmt = select(Broadcast).where(Broadcast.status.in_(list(OPEN)))
    if not roles.admin:
        stmt = stmt.where(
            or_(Broadcast.author_id == roles.user_id, Broadcast.town_id.in_(roles.office_towns))
        )
    return list(await session.scalars(stmt.order_by(Broadcast.next_run_at).limit(limit)))


async def authored(session: AsyncSession, user_id: int, limit: int = 10) -> list[Broadcast]:
    """A user's notices, newest first."""
    return list(
        await session.scalars(
            select(Broadcast)
            .where(Broadcast.author_id == user_id)
            .order_by(Broadcast.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------------------------------
# Delivery reports
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    run: int
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.blocked + self.failed + self.pending

    @property
    def finished(self) -> bool:
        return self.pending == 0


def run_key(broadcast_id: int, run: int) -> str:
    return f"bc:{broadcast_id}:{run}:"


async def report(session: AsyncSession, broadcast_id: int, run: int) -> Report:
    """Delivery of one run: one outbox row per recipient, counted by status."""
    rows = await session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id))
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.dedupe_key.like(run_key(broadcast_id, run) + "%"),
        )
        .group_by(OutboxMessage.status)
    )
    counts = {OutboxStatus(status): n for status, n in rows}
    return Report(
        run=run,
        sent=counts.get(OutboxStatus.SENT, 0),
        blocked=counts.get(OutboxStatus.BLOCKED, 0),
        failed=counts.get(OutboxStatus.FAILED, 0),
        pending=counts.get(OutboxStatus.PENDING, 0) + counts.get(OutboxStatus.SENDING, 0),
    )


def _report_key(broadcast_id: int, run: int) -> str:
    return f"bcreport:{broadcast_id}:{run}"


async def send_reports(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> list[int]:
    """Tell each author whose latest run has nothing left pending how it went (once per
    run: the report is itself an outbox row with a dedupe key). Returns broadcast ids."""
    done: list[int] = []
    report_key = (
        literal("bcreport:")
        + cast(Broadcast.id, String)
        + literal(":")
        + cast(Broadcast.runs, String)
    )
    async with sessionmaker() as session:
        candidates = list(
            await session.scalars(
                select(Broadcast)
                .where(
                    Broadcast.runs > 0,
                    Broadcast.status != BroadcastStatus.SENDING,
                    ~exists().where(OutboxMessage.dedupe_key == report_key),
                )
                .order_by(Broadcast.id)
                .limit(100)
            )
        )
        for bc in candidates:
            result = await report(session, bc.id, bc.runs)
            if not result.finished:
                continue
            key = _report_key(bc.id, bc.runs)
            row = await notify(
                session,
                bc.author_id,
                NoticeKind.BROADCAST_REPORT,
                dedupe_key=key,
                broadcast_id=bc.id,
                run=bc.runs,
            )
            if row is None:  # the author cannot be reached: record that, once
                await insert_ignore(
                    session,
                    OutboxMessage.__table__,
                    [
                        _row(
                            bc, bc.author_id, 0, key, now, OutboxStatus.FAILED, "author unreachable"
                        )
                    ],
                )
            done.append(bc.id)
        await session.commit()
    return done


# ---------------------------------------------------------------------------------------
# Fan-out (the scheduler's job)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    broadcast_id: int
    run: int
    queued: int  # rows written by this fan-out (0 when resuming one already complete)
    finished: bool  # False: cancelled under our feet or taken over


def _row(
    bc: Broadcast,
    user_id: int,
    chat_id: int,
    key: str,
    now: datetime,
    status: OutboxStatus = OutboxStatus.PENDING,
    error: str | None = None,
) -> dict[str, Any]:
    kind = NoticeKind.BROADCAST if key.startswith("bc:") else NoticeKind.BROADCAST_REPORT
    return {
        "chat_id": chat_id,
        "user_id": user_id,
        "method": "notice",
        "payload": {"kind": kind, "broadcast_id": bc.id},
        "urgent": False,
        "not_before": now,
        "status": status,
        "attempts": 0,
        "last_error": error,
        "broadcast_id": bc.id,
        "order_id": None,
        "dedupe_key": key,
        "created_at": now,
    }


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime
) -> tuple[Broadcast, int] | None:
    """One due broadcast (or a fan-out whose lease ran out), moved to `sending` with a fresh
    lease; a scheduled one starts a new run."""
    async with sessionmaker() as session:
        bc = await session.scalar(
            select(Broadcast)
            .where(
                Broadcast.status.in_([BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING]),
                Broadcast.next_run_at <= now,
            )
            .order_by(Broadcast.next_run_at, Broadcast.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if bc is None:
            return None
        if bc.status == BroadcastStatus.SCHEDULED:
            run = bc.runs + 1
            values: dict[str, Any] = {"status": BroadcastStatus.SENDING, "runs": run}
        else:
            run = bc.runs
            values = {}
        claimed = await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == bc.id,
                Broadcast.status == bc.status,
                Broadcast.runs == bc.runs,
                Broadcast.next_run_at == bc.next_run_at,
            )
            .values(next_run_at=now + LEASE, **values)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            await session.rollback()
            return None
        await session.commit()
        return bc, run


async def fan_out(
    sessionmaker: async_sessionmaker[AsyncSession],
    bc: Broadcast,
    run: int,
    now: datetime,
    *,
    chunk: int = FANOUT_CHUNK,
) -> tuple[int, bool]:
    """Write the run's outbox rows, `chunk` recipients per transaction, renewing the lease
    each time. Returns (rows written, completed)."""
    last, written = 0, 0
    while True:
        async with sessionmaker() as session:
            people = (
                await session.execute(
                    _recipients(bc.town_id, bc.audience)
                    .where(User.id > last)
                    .order_by(User.id)
                    .limit(chunk)
                )
            ).all()
            if not people:
                return written, True
            rows = [
                _row(bc, uid, tg_id, f"{run_key(bc.id, run)}{uid}", now)
                if not blocked
                else _row(
                    bc,
                    uid,
                    tg_id,
                    f"{run_key(bc.id, run)}{uid}",
                    now,
                    OutboxStatus.BLOCKED,
                    "skipped: blocked the bot earlier",
                )
                for uid, tg_id, blocked in people
            ]
            written += await insert_ignore(session, OutboxMessage.__table__, rows)
            lease = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == bc.id,
                    Broadcast.status == BroadcastStatus.SENDING,
                    Broadcast.runs == run,
                )
                .values(next_run_at=now + LEASE)
            )
            if lease.rowcount != 1:  # cancelled meanwhile: write nothing more
                await session.rollback()
                return written, False
            await session.commit()
            last = people[-1][0]


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    bc: Broadcast,
    run: int,
    now: datetime,
    tz: tzinfo,
) -> None:
    nxt = next_occurrence(bc.recurrence, now, tz) if bc.recurrence else None
    async with sessionmaker() as session:
        await session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == bc.id,
                Broadcast.status == BroadcastStatus.SENDING,
                Broadcast.runs == run,
            )
            .values(
                status=BroadcastStatus.SCHEDULED if nxt else BroadcastStatus.SENT,
                next_run_at=nxt,
            )
        )
        await session.commit()


async def run_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    tz: tzinfo,
    chunk: int = FANOUT_CHUNK,
    limit: int = 20,
) -> list[Run]:
    """Fan out every broadcast due at `now` (and resume fan-outs whose lease ran out)."""
    runs: list[Run] = []
    for _ in range(limit):
        claimed = await _claim(sessionmaker, now)
        if claimed is None:
            break
        bc, run = claimed
        written, complete = await fan_out(sessionmaker, bc, run, now, chunk=chunk)
        if complete:
            await _finish(sessionmaker, bc, run, now, tz)
        log.info("broadcast %s run %s: %s rows queued", bc.id, run, written)
        runs.append(Run(bc.id, run, written, complete))
    return runs


async def release_leases(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """On start-up of the only instance (SQLite): fan-outs left `sending` by a crash resume
    at once instead of after their lease."""
    async with sessionmaker() as session:
        result = await session.execute(
            update(Broadcast)
            .where(Broadcast.status == BroadcastStatus.SENDING, Broadcast.next_run_at > now)
            .values(next_run_at=now)
        )
        await session.commit()
        return result.rowcount or 0


# ---------------------------------------------------------------------------------------
# Reachability
# ---------------------------------------------------------------------------------------


async def mark_blocked(session: AsyncSession, user: User, blocked: bool) -> bool:
    """The user blocked (or unblocked) the bot, as Telegram told us (`my_chat_member`).
    Returns True if anything changed. Commits."""
    if user.blocked == blocked:
        return False
    user.blocked = blocked
    user.blocked_at = utcnow() if blocked else None
    await session.commit()
    return True
