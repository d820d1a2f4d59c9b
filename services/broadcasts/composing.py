"""Composing, approving, rejecting and cancelling a broadcast; the lists of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Broadcast,
    BroadcastStatus,
    User,
    utcnow,
)
from models.db import rowcount
from services import people
from services.broadcasts.audience import (
    MAX_CAPTION,
    MAX_REASON,
    MAX_TEXT,
    OPEN,
    check_audience,
    may_compose,
    needs_approval,
)
from services.broadcasts.recurrence import check_recurrence, first_run, next_occurrence
from services.errors import Conflict, DomainError, NotAllowed
from services.i18n import N_
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles
from services.text import required_text
from services.uow import fresh, unit, wrote


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
    async with unit(session, author):
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
    return bc


async def _load(session: AsyncSession, broadcast_id: int) -> Broadcast:
    return await fresh(session, Broadcast, broadcast_id, N_("This notice does not exist."))


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
    wrote(session)
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == bc.id, Broadcast.status.in_(list(frm)), Broadcast.runs == bc.runs)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


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
    bc = await _pending(session, broadcast_id, actor, roles)
    due = bc.next_run_at or now
    if due < now:
        due = next_occurrence(bc.recurrence, now, tz) if bc.recurrence else now
    return await _decide(
        session,
        bc,
        actor,
        N_("✅ Your notice #{id} was approved by {name}. It will go out as planned."),
        {},
        status=BroadcastStatus.SCHEDULED,
        approved_by_id=actor.id,
        next_run_at=due,
    )


async def reject(
    session: AsyncSession, broadcast_id: int, actor: User, roles: Roles, reason: str
) -> Broadcast:
    """The office turns a station head's notice down, with a reason the head is told."""
    bc = await _pending(session, broadcast_id, actor, roles)
    why = required_text(reason, limit=MAX_REASON, what=N_("Please give a reason."))
    return await _decide(
        session,
        bc,
        actor,
        N_("❌ Your notice #{id} was not approved by {name}. Reason: {reason}"),
        {"reason": why},
        status=BroadcastStatus.REJECTED,
        reject_reason=why,
        next_run_at=None,
    )


async def _pending(
    session: AsyncSession, broadcast_id: int, actor: User, roles: Roles
) -> Broadcast:
    bc = await _load(session, broadcast_id)
    if roles.user_id != actor.id or not _may_decide(roles, bc):
        raise NotAllowed(N_("Only the office can approve notices."))
    if bc.status != BroadcastStatus.PENDING_APPROVAL:
        raise await _decided_conflict(session, bc)
    return bc


async def _decide(
    session: AsyncSession,
    bc: Broadcast,
    actor: User,
    msgid: str,
    params: dict[str, Any],
    **values: Any,
) -> Broadcast:
    """One decision on a pending notice, told to its author; two at once: one wins."""
    bc_id = bc.id  # the rollback of a lost race expires `bc`
    async with unit(session, actor):
        if not await _move(session, bc, [BroadcastStatus.PENDING_APPROVAL], **values):
            await session.rollback()
            raise await _decided_conflict(session, await _load(session, bc_id))
        await notify(
            session,
            bc.author_id,
            NoticeKind.TEXT,
            dedupe_key=f"bcdecided:{bc.id}",
            broadcast_id=bc.id,
            msgid=msgid,
            params={"id": bc.id, "name": actor.name or "", **params},
        )
    return await _load(session, bc_id)


async def to_decide(session: AsyncSession, broadcast_id: int, roles: Roles) -> Broadcast:
    """A notice still waiting for this office member's decision (before asking why not)."""
    bc = await session.get(Broadcast, broadcast_id)
    if bc is None or not _may_decide(roles, bc):
        raise NotAllowed(N_("Only the office can approve notices."))
    if bc.status != BroadcastStatus.PENDING_APPROVAL:
        raise Conflict(N_("This notice was already decided."))
    return bc


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
    async with unit(session, actor):
        if not await _move(session, bc, OPEN, status=BroadcastStatus.CANCELLED, next_run_at=None):
            await session.rollback()
            raise Conflict(N_("This notice is being sent right now. Try again in a minute."))
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
