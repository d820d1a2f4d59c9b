"""Volunteers on an accepted order: assign them and a slot, give a task up, start."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentStatus,
    MembershipStatus,
    Order,
    OrderStatus,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services.context import Ctx
from services.errors import Conflict, DomainError, NotAllowed
from services.i18n import N_
from services.orders.access import (
    can_handle,
    check_actor,
    held_order,
)
from services.orders.notices import handler_users, tell_about, tell_resident
from services.orders.sla import slot_set
from services.orders.state import (
    ACTIVE_ASSIGNMENT,
    display_name,
    expect,
    load_order,
    transition,
)
from services.outbox import NoticeKind, notify
from services.people import Roles, office_staff
from services.uow import fresh, unit


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


async def withdraw_all(session: AsyncSession, order: Order) -> list[int]:
    """End the order's active assignments; returns the volunteers' ids."""
    rows = list(
        await session.scalars(
            select(Assignment).where(
                Assignment.order_id == order.id, Assignment.status.in_(ACTIVE_ASSIGNMENT)
            )
        )
    )
    for a in rows:
        a.status = AssignmentStatus.WITHDRAWN
    return [a.volunteer_id for a in rows]


async def _eligible_volunteers(session: AsyncSession, order: Order) -> set[int]:
    """Active members (and leaders) of the order's team; for an office order, of any team
    in the town, and the office staff themselves."""
    stmt = (
        select(TeamMember.user_id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(User, User.id == TeamMember.user_id)
        .where(
            TeamMember.status == MembershipStatus.ACTIVE,
            Team.active.is_(True),
            User.banned.is_(False),
        )
    )
    if order.team_id is not None:
        ids = set(await session.scalars(stmt.where(Team.id == order.team_id)))
    else:
        ids = set(await session.scalars(stmt.where(Team.town_id == order.town_id)))
        ids |= {u.id for u in await office_staff(session, order.town_id)}
    return ids


async def assignments_of(session: AsyncSession, order_id: int) -> dict[int, Assignment]:
    rows = await session.scalars(
        select(Assignment).where(Assignment.order_id == order_id).order_by(Assignment.id)
    )
    return {a.volunteer_id: a for a in rows}


def _check_slot(slot_start: datetime, slot_end: datetime) -> None:
    if slot_start.tzinfo is None or slot_end.tzinfo is None:
        raise ValueError("slot times must be timezone-aware")
    if slot_end <= slot_start:
        raise DomainError(N_("The end of the time slot must be after its start."))


async def assign(
    session: AsyncSession,
    ctx: Ctx,
    order_id: int,
    actor: User,
    roles: Roles,
    volunteer_ids: Iterable[int],
    slot_start: datetime,
    slot_end: datetime,
) -> list[Assignment]:
    """Assign volunteers and a slot to an accepted order. Assigning again adds people (and
    may move the slot); returns the order's active assignments."""
    async with unit(session, actor):
        order = await held_order(session, order_id, actor, roles, [OrderStatus.ACCEPTED])
        _check_slot(slot_start, slot_end)
        wanted = list(dict.fromkeys(volunteer_ids))
        if not wanted:
            raise DomainError(N_("Choose at least one volunteer."))
        if set(wanted) - await _eligible_volunteers(session, order):
            raise NotAllowed(N_("Only active members of the team can be assigned."))
        current = await assignments_of(session, order.id)
        added = _add_assignments(session, order, actor, wanted, current)
        moved = (order.slot_start, order.slot_end) != (slot_start, slot_end)
        active = [a for a in current.values() if a.status in ACTIVE_ASSIGNMENT]
        active += [a for a in added if a not in active]
        if added or moved:
            await _record_assignment(
                session, ctx, order, actor, active, added, moved, slot_start, slot_end
            )
    return active


def _add_assignments(
    session: AsyncSession,
    order: Order,
    actor: User,
    wanted: list[int],
    current: dict[int, Assignment],
) -> list[Assignment]:
    added: list[Assignment] = []
    for uid in wanted:
        a = current.get(uid)
        if a is None:
            a = Assignment(
                order_id=order.id,
                volunteer_id=uid,
                assigned_by_id=actor.id,
                status=AssignmentStatus.ASSIGNED,
                created_at=utcnow(),
            )
            session.add(a)
        elif a.status == AssignmentStatus.WITHDRAWN:
            a.status, a.assigned_by_id = AssignmentStatus.ASSIGNED, actor.id
        else:
            continue  # already on the task: assigning twice adds nobody
        added.append(a)
    return added


async def _record_assignment(
    session: AsyncSession,
    ctx: Ctx,
    order: Order,
    actor: User,
    active: list[Assignment],
    added: list[Assignment],
    moved: bool,
    slot_start: datetime,
    slot_end: datetime,
) -> None:
    people = {a.volunteer_id: await session.get(User, a.volunteer_id) for a in active}
    names = [display_name(people[a.volunteer_id]) for a in active]
    await transition(
        session,
        order,
        OrderStatus.ACCEPTED,
        actor,
        kind="assigned",
        note=f"{', '.join(names)}; {_iso(slot_start)} – {_iso(slot_end)}",
        values={"slot_start": slot_start, "slot_end": slot_end},
    )
    await session.flush()  # assignment ids for the task buttons
    # New people get their task; if the slot moved, everyone already on it hears again.
    for a in active if moved else added:
        await notify(
            session,
            people[a.volunteer_id] or a.volunteer_id,
            NoticeKind.TASK,
            dedupe_key=f"order:{order.id}:task:{order.version}:{a.volunteer_id}",
            order_id=order.id,
            number=order.number,
            assignment_id=a.id,
            slot_start=_iso(slot_start),
            slot_end=_iso(slot_end),
            updated=a not in added,
        )
    await tell_resident(
        session,
        order,
        actor,
        "assigned",
        volunteers=names,
        slot_start=_iso(slot_start),
        slot_end=_iso(slot_end),
    )
    await slot_set(session, ctx, order)


async def withdraw(session: AsyncSession, assignment_id: int, actor: User) -> Assignment:
    """The volunteer can't make it: the assignment ends and the leader is told."""
    async with unit(session, actor):
        a = await fresh(session, Assignment, assignment_id, N_("This task does not exist."))
        if a.volunteer_id != actor.id:
            raise NotAllowed(N_("This is not your task."))
        order = await load_order(session, a.order_id)
        await expect(session, order, [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
        if a.status != AssignmentStatus.ASSIGNED:
            raise Conflict(N_("This task can no longer be given up."))
        a.status = AssignmentStatus.WITHDRAWN
        await transition(
            session, order, order.status, actor, kind="withdrawn", note=display_name(actor)
        )
        remaining = sum(
            1
            for x in (await assignments_of(session, order.id)).values()
            if x.status in ACTIVE_ASSIGNMENT
        )
        await tell_about(
            session,
            await handler_users(session, order),
            NoticeKind.VOLUNTEER_WITHDREW,
            order,
            f"withdrew:{order.version}",
            urgent=True,
            assignment_id=a.id,
            volunteer_id=actor.id,
            volunteer_name=display_name(actor),
            remaining=remaining,
        )
    return a


async def withdraw_from(session: AsyncSession, order_id: int, actor: User) -> Assignment:
    """The volunteer can't make it to this order (see `withdraw`)."""
    a = await session.scalar(
        select(Assignment).where(
            Assignment.order_id == order_id, Assignment.volunteer_id == actor.id
        )
    )
    if a is None:
        raise NotAllowed(N_("This is not your task."))
    return await withdraw(session, a.id, actor)


async def my_assignment(session: AsyncSession, order_id: int, user_id: int) -> Assignment | None:
    return await session.scalar(
        select(Assignment).where(
            Assignment.order_id == order_id,
            Assignment.volunteer_id == user_id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT),
        )
    )


async def begin_work(
    session: AsyncSession, order: Order, actor: User, note: str | None = None
) -> None:
    """accepted → in progress, from now."""
    values = {"started_at": utcnow()}
    await transition(
        session, order, OrderStatus.IN_PROGRESS, actor, kind="started", note=note, values=values
    )


async def start(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """An assigned volunteer (or the leader) starts the work: accepted → in_progress. A
    second volunteer pressing Start on an order already started just joins in."""
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        mine = await my_assignment(session, order.id, actor.id)
        if mine is None and not can_handle(roles, order):
            raise NotAllowed(N_("This is not your task."))
        joining = mine is not None and mine.status == AssignmentStatus.ASSIGNED
        if order.status == OrderStatus.IN_PROGRESS and joining and mine is not None:
            mine.status = AssignmentStatus.STARTED
            return order
        await expect(session, order, [OrderStatus.ACCEPTED])
        if mine is not None:
            mine.status = AssignmentStatus.STARTED
        await begin_work(session, order, actor)
        await tell_resident(session, order, actor, "started")
    return order
