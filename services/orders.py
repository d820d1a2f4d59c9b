"""The order state machine: one function per transition, each one transaction.

    new → routed → accepted → in_progress → done → rated
    routed → declined → routed (re-routed at once), new/routed/accepted → cancelled,
    new/routed/accepted → routed by transfer; `escalated` is a flag, not a state.

Every transition checks who is acting (on the server, whatever the button said), checks
the current state (a transition not allowed from it raises `Conflict`), moves the state
with a conditional UPDATE on the version column (so two people pressing at once give one
winner), writes an `OrderEvent` and queues the notices it causes (outbox rows, same
transaction), then commits. Refusals (`DomainError`s) are raised before anything is
written; any failure after a write rolls the whole transaction back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    MembershipStatus,
    Order,
    OrderEvent,
    OrderStatus,
    PointsEntry,
    Rating,
    Region,
    ServiceArea,
    ServiceCategory,
    Slot,
    Team,
    TeamKind,
    TeamMember,
    User,
    utcnow,
)
from services import people, points, reminders, routing
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.numbering import next_number, town_prefix
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles
from services.points import LOCAL_TZ, PointsRules

OPEN_STATUSES = (
    OrderStatus.NEW,
    OrderStatus.ROUTED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)
ACTIVE_ASSIGNMENT = (AssignmentStatus.ASSIGNED, AssignmentStatus.STARTED)
MAX_DESCRIPTION = 1000
MAX_NOTE = 500  # decline/transfer/cancel reasons, completion notes, rating comments
MAX_PHOTOS = 10
MAX_HOURS = Decimal(24)
CREATE_ATTEMPTS = 3
_WROTE = "services.orders.wrote"  # session.info flag: this unit has written something

# (kind, file_id, file_unique_id, local_path) — what the bot got from Telegram.
AttachmentIn = tuple[AttachmentKind | str, str, str, str | None]
# (file_id, file_unique_id, local_path) — completion photos.
PhotoIn = tuple[str, str, str | None]

_ALREADY = {
    OrderStatus.NEW: N_("This order is still waiting to be passed to a team."),
    OrderStatus.ROUTED: N_("This order has not been accepted yet."),
    OrderStatus.ACCEPTED: N_("{name} has already accepted this order."),
    OrderStatus.IN_PROGRESS: N_("The work on this order has already started."),
    OrderStatus.DONE: N_("This order has already been completed."),
    OrderStatus.RATED: N_("This order has already been completed and rated."),
    OrderStatus.DECLINED: N_("This order is being passed to another team."),
    OrderStatus.CANCELLED: N_("This order has been cancelled."),
}


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user.name or (f"@{user.tg_username}" if user.tg_username else f"#{user.id}")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


# ---------------------------------------------------------------------------------------
# The transition primitive
# ---------------------------------------------------------------------------------------


async def transition(
    session: AsyncSession,
    order: Order,
    to: OrderStatus,
    actor: User | None,
    *,
    kind: str,
    note: str | None = None,
    values: dict[str, Any] | None = None,
) -> OrderEvent:
    """Move `order` to `to` (or keep its status and just record `kind`) with optimistic
    concurrency, and write the event. Callers check the allowed from-states first.

    The UPDATE only matches the row as this session saw it (same status and version); if
    someone else changed it meanwhile, nothing is written and `Conflict` says what happened.
    """
    frm = order.status
    session.info[_WROTE] = True
    changes = {"status": to, "version": order.version + 1, **(values or {})}
    result = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.version == order.version, Order.status == frm)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise await _state_conflict(session, await _load(session, order.id))
    for key, value in changes.items():
        set_committed_value(order, key, value)
    event = OrderEvent(
        order_id=order.id,
        at=utcnow(),
        actor_id=actor.id if actor else None,
        kind=kind,
        from_status=frm.value,
        to_status=to.value,
        team_id=order.team_id,
        note=note,
    )
    session.add(event)
    return event


async def _load(session: AsyncSession, order_id: int) -> Order:
    # populate_existing: a long-lived session must not decide on a stale copy of the row.
    order = await session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound(N_("This order does not exist."))
    return order


async def _state_conflict(session: AsyncSession, order: Order) -> Conflict:
    name = ""
    if order.status == OrderStatus.ACCEPTED and order.accepted_by_id:
        name = display_name(await session.get(User, order.accepted_by_id))
    return Conflict(
        _ALREADY[order.status], name=name, status=order.status.value, number=order.number
    )


async def _expect(
    session: AsyncSession, order: Order, allowed: Iterable[OrderStatus], version: int | None = None
) -> None:
    if order.status not in set(allowed):
        raise await _state_conflict(session, order)
    if version is not None and version != order.version:
        raise Conflict(N_("This order has changed since this message. Please look at it again."))


@asynccontextmanager
async def _unit(session: AsyncSession, *keep: User | None) -> AsyncIterator[None]:
    """One transaction: commit at the end; on an error, nothing of it survives."""
    session.info[_WROTE] = False
    try:
        yield
        await session.commit()
    except DomainError:
        # Refusals are checked before anything is written, so usually there is nothing to
        # undo, and not rolling back keeps the caller's loaded objects usable. A refusal
        # after a write (a lost race) must end the transaction: on SQLite the failed
        # UPDATE still holds the write lock.
        if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
            await _rollback_keeping(session, *keep)
        raise
    except BaseException:
        await _rollback_keeping(session, *keep)
        raise


async def _rollback_keeping(session: AsyncSession, *keep: User | None) -> None:
    """Roll back. That expires every loaded object; `keep` (the actor, say) is reloaded
    so the caller can still read it, e.g. to reply in the user's language."""
    await session.rollback()
    for obj in keep:
        if obj is not None and obj in session:
            await session.refresh(obj)


# ---------------------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------------------


def _check_actor(actor: User, roles: Roles) -> None:
    # Roles computed for someone else, or a banned user: refuse before anything else.
    if roles.user_id != actor.id or actor.banned:
        raise NotAllowed(N_("You are not allowed to do this."))


def can_handle(roles: Roles, order: Order) -> bool:
    """May act for whoever holds the order now: accept, decline, assign, confirm."""
    if roles.admin:
        return True
    if order.handler_kind == "office":
        return order.town_id in roles.office_towns
    return order.team_id is not None and order.team_id in roles.leads_teams


def _is_staff_viewer(roles: Roles, order: Order) -> bool:
    return (
        roles.admin
        or order.town_id in roles.office_towns
        or order.station_id in roles.head_of_stations
        or (order.team_id is not None and order.team_id in roles.leads_teams)
    )


def can_view(roles: Roles, order: Order) -> bool:
    """Staff who oversee the order, its resident, and whoever placed it for them."""
    return _is_staff_viewer(roles, order) or roles.user_id in (
        order.resident_id,
        order.placed_by_id,
    )


def _speaks_for_resident(actor: User, order: Order) -> bool:
    return actor.id == order.resident_id or (order.is_proxy and actor.id == order.placed_by_id)


async def _may_place_for(session: AsyncSession, roles: Roles, station_id: int) -> bool:
    """Proxy orders: station heads, the station squad, the town office, admins."""
    if roles.admin or station_id in roles.head_of_stations:
        return True
    station = await session.get(Region, station_id)
    if station is not None and station.parent_id in roles.office_towns:
        return True
    squad = await people.station_squad(session, station_id)
    return squad is not None and squad.id in (roles.leads_teams | roles.member_of_teams)


def _text(value: str | None, *, required: bool, limit: int = MAX_NOTE) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise DomainError(N_("Please give a reason."))
    if len(cleaned) > limit:
        raise DomainError(N_("This text is too long (at most {limit} characters)."), limit=limit)
    return cleaned or None


# ---------------------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------------------


async def _follower_id(session: AsyncSession, order: Order) -> int | None:
    """Who follows the order for the resident: the resident, or for a resident without
    Telegram, the person who placed it on their behalf."""
    resident = await session.get(User, order.resident_id)
    if resident is not None and resident.tg_id is not None:
        return resident.id
    return order.placed_by_id if order.is_proxy else None


async def _tell_resident(
    session: AsyncSession, order: Order, actor: User | None, event: str, **params: Any
) -> None:
    # The person who just tapped gets the handler's reply; a notice would say it twice.
    uid = await _follower_id(session, order)
    if uid is None or (actor is not None and uid == actor.id):
        return
    await notify(
        session,
        uid,
        NoticeKind.ORDER_STATUS,
        dedupe_key=f"order:{order.id}:status:{order.version}",
        order_id=order.id,
        number=order.number,
        status=order.status.value,
        event=event,
        **params,
    )


async def _handler_users(session: AsyncSession, order: Order) -> list[User]:
    """Whoever should act on the order now: the acceptor, else the team's leaders or office."""
    if order.accepted_by_id is not None:
        user = await session.get(User, order.accepted_by_id)
        return [user] if user else []
    if order.handler_kind == "office" or order.team_id is None:
        return await people.office_staff(session, order.town_id)
    return await people.team_leaders(session, order.team_id)


async def _tell_text(
    session: AsyncSession,
    users: Iterable[User | int],
    order: Order,
    msgid: str,
    tag: str,
    actor: User | None,
) -> None:
    skip = actor.id if actor else None
    await notify_many(
        session,
        [u for u in users if (u.id if isinstance(u, User) else u) != skip],
        NoticeKind.TEXT,
        dedupe_key=f"order:{order.id}:{tag}:{order.version}",
        order_id=order.id,
        msgid=msgid,
        params={"number": order.number},
    )


# ---------------------------------------------------------------------------------------
# Creating an order
# ---------------------------------------------------------------------------------------


async def _assign_number(session: AsyncSession, order: Order, town: Region, tz: tzinfo) -> None:
    """Give a just-inserted order its number: per prefix and local day, "TA-20261130-0007"
    (see services/numbering.py for why two never get the same)."""
    stem = f"{town_prefix(town.code, 'OR')}-{utcnow().astimezone(tz):%Y%m%d}-"
    order.number = await next_number(session, Order.number, stem, width=4)
    await session.flush()


async def _existing_by_token(
    session: AsyncSession, client_token: str | None, placed_by_id: int
) -> Order | None:
    if client_token is None:
        return None
    order = await session.scalar(select(Order).where(Order.client_token == client_token))
    if order is not None and order.placed_by_id != placed_by_id:
        raise Conflict(N_("This order has changed since this message. Please look at it again."))
    return order


async def placed_with_token(
    session: AsyncSession, client_token: str, placed_by_id: int
) -> Order | None:
    """The order this person placed from the summary carrying `client_token`, if any: a
    Confirm pressed again (after a crash lost the conversation) is told about that order."""
    return await session.scalar(
        select(Order).where(Order.client_token == client_token, Order.placed_by_id == placed_by_id)
    )


async def _open_count(session: AsyncSession, resident_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(Order.id)).where(
                Order.resident_id == resident_id, Order.status.in_(OPEN_STATUSES)
            )
        )
        or 0
    )


async def _category_in_town(session: AsyncSession, category_id: int, town_id: int) -> None:
    row = await session.execute(
        select(ServiceCategory.id)
        .join(ServiceArea, ServiceArea.id == ServiceCategory.area_id)
        .where(
            ServiceCategory.id == category_id,
            ServiceCategory.active.is_(True),
            ServiceArea.town_id == town_id,
        )
    )
    if row.first() is None:
        raise NotFound(N_("This service is not available."))


async def create_order(
    session: AsyncSession,
    *,
    resident: User,
    placed_by: User,
    roles: Roles,
    category_id: int,
    description: str,
    preferred_date: date | None,
    preferred_slot: Slot | str,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    attachments: Sequence[AttachmentIn] = (),
    client_token: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    max_open: int = 3,
    tz: tzinfo = LOCAL_TZ,
) -> Order:
    """Create and route an order (one transaction). `roles` are the placer's. A repeated
    `client_token` returns the order it created instead of a second one."""
    fields = {
        "category_id": category_id,
        "description": description,
        "preferred_date": preferred_date,
        "preferred_slot": Slot(preferred_slot),
        "address": (address or "").strip() or None,
        "latitude": latitude,
        "longitude": longitude,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "client_token": client_token,
    }
    for attempt in range(CREATE_ATTEMPTS):
        try:
            async with _unit(session, resident, placed_by):
                order = await _create_once(
                    session, resident, placed_by, roles, fields, attachments, max_open, tz
                )
            return order
        except IntegrityError:
            # A double tap raced on the client token (or, as a safety net, a number
            # clashed): the retry finds the other's order and returns it.
            if attempt == CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _create_once(
    session: AsyncSession,
    resident: User,
    placed_by: User,
    roles: Roles,
    fields: dict[str, Any],
    attachments: Sequence[AttachmentIn],
    max_open: int,
    tz: tzinfo,
) -> Order:
    _check_actor(placed_by, roles)
    existing = await _existing_by_token(session, fields["client_token"], placed_by.id)
    if existing is not None:
        return existing
    if resident.banned:
        raise NotAllowed(N_("You are not allowed to do this."))
    if resident.station_id is None:
        raise DomainError(N_("Please choose your village or community first."))
    proxy = resident.id != placed_by.id
    if proxy and not await _may_place_for(session, roles, resident.station_id):
        raise NotAllowed(N_("You cannot place orders for residents of this village."))
    station = await session.get(Region, resident.station_id)
    if station is None or station.parent_id is None:
        raise DomainError(N_("Please choose your village or community first."))
    town = await session.get(Region, station.parent_id)
    await _category_in_town(session, fields["category_id"], town.id)
    text = (fields["description"] or "").strip()
    if not text and not attachments:
        raise DomainError(N_("Please describe what you need."))
    if len(text) > MAX_DESCRIPTION:
        raise DomainError(
            N_("This text is too long (at most {limit} characters)."), limit=MAX_DESCRIPTION
        )
    if (count := await _open_count(session, resident.id)) >= max_open:
        raise DomainError(
            N_("There are already {count} open orders. Please wait until one is finished."),
            count=count,
        )
    order = Order(
        **{**fields, "description": text},
        number=f"~{uuid.uuid4().hex[:30]}",  # placeholder until the lock is held
        town_id=town.id,
        station_id=station.id,
        resident_id=resident.id,
        placed_by_id=placed_by.id,
        is_proxy=proxy,
        status=OrderStatus.NEW,
        version=1,
        escalated=False,
        handler_kind="team",
        created_at=utcnow(),
    )
    session.add(order)
    await session.flush()
    await _assign_number(session, order, town, tz)
    for kind, file_id, unique_id, local_path in attachments:
        session.add(
            Attachment(
                order_id=order.id,
                kind=AttachmentKind(kind),
                stage=AttachmentStage.REQUEST,
                file_id=file_id,
                file_unique_id=unique_id,
                local_path=local_path,
                uploaded_by_id=placed_by.id,
            )
        )
    note = f"placed by {display_name(placed_by)} for {display_name(resident)}" if proxy else None
    session.add(
        OrderEvent(
            order_id=order.id,
            at=utcnow(),
            actor_id=placed_by.id,
            kind="created",
            from_status=None,
            to_status=OrderStatus.NEW.value,
            note=note,
        )
    )
    await routing.route(session, order, placed_by, "new order")
    await reminders.order_routed(session, order)
    await _tell_resident(session, order, placed_by, "created")
    return order


async def create_proxy_resident(
    session: AsyncSession,
    *,
    name: str,
    phone: str | None,
    station_id: int,
    placed_by: User,
    roles: Roles,
) -> User:
    """A resident without a smartphone (no Telegram), registered by station staff. The same
    phone at the same station gives back the person already registered."""
    async with _unit(session, placed_by):
        _check_actor(placed_by, roles)
        station = await session.get(Region, station_id)
        if station is None or station.parent_id is None:
            raise NotFound(N_("Please choose your village or community first."))
        if not await _may_place_for(session, roles, station_id):
            raise NotAllowed(N_("You cannot place orders for residents of this village."))
        clean_name = _text(name, required=False, limit=64)
        if clean_name is None:
            raise DomainError(N_("Please enter the resident's name."))
        clean_phone = _text(phone, required=False, limit=32)
        user = None
        if clean_phone:
            user = await session.scalar(
                select(User).where(
                    User.phone == clean_phone, User.station_id == station_id, User.tg_id.is_(None)
                )
            )
        if user is None:
            user = User(tg_id=None, registered=True, station_id=station_id)
            session.add(user)
        user.name, user.phone, user.town_id = clean_name, clean_phone, station.parent_id
        await session.flush()
    return user


# ---------------------------------------------------------------------------------------
# Accept, decline, transfer, time-out
# ---------------------------------------------------------------------------------------


async def accept(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, version: int | None = None
) -> Order:
    """The team leader (or the office, for office orders) takes the order. Two leaders at
    once: the conditional UPDATE lets exactly one win; the other gets `Conflict` naming the
    winner. `version` (from the card's button) refuses a card older than the last change."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if not can_handle(roles, order):
            raise NotAllowed(N_("This order is not for you."))
        await _expect(session, order, [OrderStatus.ROUTED], version)
        await transition(
            session,
            order,
            OrderStatus.ACCEPTED,
            actor,
            kind="accepted",
            values={"accepted_by_id": actor.id, "accepted_at": utcnow()},
        )
        await _tell_resident(session, order, actor, "accepted", accepted_by=display_name(actor))
    return order


async def decline(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, reason: str
) -> routing.Candidate | None:
    """routed → declined (with the reason) → routed to the next candidate. Returns the new
    candidate, or None when nobody is left (the order is escalated, see routing.route)."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if not can_handle(roles, order):
            raise NotAllowed(N_("This order is not for you."))
        await _expect(session, order, [OrderStatus.ROUTED])
        why = _text(reason, required=True)
        await transition(session, order, OrderStatus.DECLINED, actor, kind="declined", note=why)
        chosen = await routing.route(
            session, order, actor, f"declined by {display_name(actor)} ({why})"
        )
        await reminders.order_routed(session, order)
        await _tell_resident(session, order, actor, "rerouted" if chosen else "escalated")
    return chosen


async def time_out(session: AsyncSession, order_id: int, version: int | None = None) -> bool:
    """For the scheduler: not accepted in time → flag escalated, pass to the next candidate
    (or, with nobody left, back to `new` with the office). Returns False and does nothing
    if the order is no longer routed or moved on since `version` (a reminder fired late)."""
    async with _unit(session):
        order = await _load(session, order_id)
        if order.status != OrderStatus.ROUTED or (version is not None and version != order.version):
            return False
        await transition(
            session,
            order,
            OrderStatus.DECLINED,
            None,
            kind="declined",
            note="not accepted in time",
            values={"escalated": True, "escalated_at": order.escalated_at or utcnow()},
        )
        chosen = await routing.route(session, order, None, "not accepted in time")
        await reminders.order_routed(session, order)
        await _tell_resident(session, order, None, "rerouted" if chosen else "escalated")
    return True


async def _withdraw_all(session: AsyncSession, order: Order) -> list[int]:
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


async def transfer(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, team_id: int, reason: str
) -> Order:
    """Hand the order to another active team of the same town, with a reason.

    From routed (whoever holds it, or the town office), from accepted (the leader who
    accepted; the order goes back to routed and its volunteers are released), and from an
    escalated `new` order nobody could take (the office or an admin)."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if order.status == OrderStatus.ACCEPTED:
            allowed = roles.admin or actor.id == order.accepted_by_id
        else:
            allowed = can_handle(roles, order) or order.town_id in roles.office_towns
        if not allowed:
            raise NotAllowed(N_("This order is not for you."))
        await _expect(session, order, [OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED])
        why = _text(reason, required=True)
        team = await session.get(Team, team_id)
        if team is None or not team.active or team.town_id != order.town_id:
            raise NotFound(N_("That team cannot take orders."))
        if team.id == order.team_id:
            raise DomainError(N_("The order is already with that team."))
        leaders = await people.team_leaders(session, team.id)
        if not leaders:
            raise DomainError(N_("That team has no active leader."))
        old = await session.get(Team, order.team_id) if order.team_id else None
        released = await _withdraw_all(session, order)
        kind = "squad" if team.kind == TeamKind.SQUAD else "team"
        await transition(
            session,
            order,
            OrderStatus.ROUTED,
            actor,
            kind="transferred",
            note=f"from {old.name_zh if old else 'the office'} to {team.name_zh}: {why}",
            values={
                "team_id": team.id,
                "handler_kind": kind,
                "routed_at": utcnow(),
                "accepted_by_id": None,
                "accepted_at": None,
                "slot_start": None,
                "slot_end": None,
            },
        )
        await routing.send_cards(session, order, leaders, kind)
        await reminders.order_routed(session, order)
        await _tell_text(
            session,
            released,
            order,
            N_("Order {number} was passed to another team; your task is cancelled."),
            "released",
            actor,
        )
        await _tell_resident(session, order, actor, "transferred")
    return order


# ---------------------------------------------------------------------------------------
# Assignment, start, withdraw
# ---------------------------------------------------------------------------------------


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
        ids |= {u.id for u in await people.office_staff(session, order.town_id)}
    return ids


async def _assignments(session: AsyncSession, order_id: int) -> dict[int, Assignment]:
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
    order_id: int,
    actor: User,
    roles: Roles,
    volunteer_ids: Iterable[int],
    slot_start: datetime,
    slot_end: datetime,
) -> list[Assignment]:
    """Assign volunteers and a slot to an accepted order. Assigning again adds people (and
    may move the slot); returns the order's active assignments."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if not can_handle(roles, order):
            raise NotAllowed(N_("This order is not for you."))
        await _expect(session, order, [OrderStatus.ACCEPTED])
        _check_slot(slot_start, slot_end)
        wanted = list(dict.fromkeys(volunteer_ids))
        if not wanted:
            raise DomainError(N_("Choose at least one volunteer."))
        if set(wanted) - await _eligible_volunteers(session, order):
            raise NotAllowed(N_("Only active members of the team can be assigned."))
        current = await _assignments(session, order.id)
        added = _add_assignments(session, order, actor, wanted, current)
        moved = (order.slot_start, order.slot_end) != (slot_start, slot_end)
        active = [a for a in current.values() if a.status in ACTIVE_ASSIGNMENT]
        active += [a for a in added if a not in active]
        if added or moved:
            await _record_assignment(
                session, order, actor, active, added, moved, slot_start, slot_end
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
            people[a.volunteer_id],
            NoticeKind.TASK,
            dedupe_key=f"order:{order.id}:task:{order.version}:{a.volunteer_id}",
            order_id=order.id,
            number=order.number,
            assignment_id=a.id,
            slot_start=_iso(slot_start),
            slot_end=_iso(slot_end),
            updated=a not in added,
        )
    await _tell_resident(
        session,
        order,
        actor,
        "assigned",
        volunteers=names,
        slot_start=_iso(slot_start),
        slot_end=_iso(slot_end),
    )
    await reminders.slot_set(session, order)


async def withdraw(session: AsyncSession, assignment_id: int, actor: User) -> Assignment:
    """The volunteer can't make it: the assignment ends and the leader is told."""
    async with _unit(session, actor):
        a = await session.scalar(
            select(Assignment)
            .where(Assignment.id == assignment_id)
            .execution_options(populate_existing=True)
        )
        if a is None:
            raise NotFound(N_("This task does not exist."))
        if a.volunteer_id != actor.id:
            raise NotAllowed(N_("This is not your task."))
        order = await _load(session, a.order_id)
        await _expect(session, order, [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
        if a.status != AssignmentStatus.ASSIGNED:
            raise Conflict(N_("This task can no longer be given up."))
        a.status = AssignmentStatus.WITHDRAWN
        await transition(
            session, order, order.status, actor, kind="withdrawn", note=display_name(actor)
        )
        remaining = sum(
            1
            for x in (await _assignments(session, order.id)).values()
            if x.status in ACTIVE_ASSIGNMENT
        )
        await notify_many(
            session,
            await _handler_users(session, order),
            NoticeKind.VOLUNTEER_WITHDREW,
            dedupe_key=f"order:{order.id}:withdrew:{order.version}",
            order_id=order.id,
            urgent=True,
            number=order.number,
            assignment_id=a.id,
            volunteer_id=actor.id,
            volunteer_name=display_name(actor),
            remaining=remaining,
        )
    return a


async def _my_assignment(session: AsyncSession, order_id: int, user_id: int) -> Assignment | None:
    return await session.scalar(
        select(Assignment).where(
            Assignment.order_id == order_id,
            Assignment.volunteer_id == user_id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT),
        )
    )


async def start(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """An assigned volunteer (or the leader) starts the work: accepted → in_progress. A
    second volunteer pressing Start on an order already started just joins in."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        mine = await _my_assignment(session, order.id, actor.id)
        if mine is None and not can_handle(roles, order):
            raise NotAllowed(N_("This is not your task."))
        joining = mine is not None and mine.status == AssignmentStatus.ASSIGNED
        if order.status == OrderStatus.IN_PROGRESS and joining:
            mine.status = AssignmentStatus.STARTED
            return order
        await _expect(session, order, [OrderStatus.ACCEPTED])
        if mine is not None:
            mine.status = AssignmentStatus.STARTED
        await transition(
            session,
            order,
            OrderStatus.IN_PROGRESS,
            actor,
            kind="started",
            values={"started_at": utcnow()},
        )
        await _tell_resident(session, order, actor, "started")
    return order


# ---------------------------------------------------------------------------------------
# Completion, hours, rating, cancel
# ---------------------------------------------------------------------------------------


def _clean_hours(hours: dict[int, Decimal]) -> dict[int, Decimal]:
    if not hours:
        raise DomainError(N_("Enter the hours of at least one volunteer."))
    clean: dict[int, Decimal] = {}
    for uid, value in hours.items():
        try:
            h = Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        except (InvalidOperation, ValueError):
            h = Decimal(-1)
        if not Decimal(0) < h <= MAX_HOURS:
            raise DomainError(
                N_("Hours must be more than 0 and at most {max}."), max=int(MAX_HOURS)
            )
        clean[int(uid)] = h
    return clean


async def complete(
    session: AsyncSession,
    order_id: int,
    actor: User,
    roles: Roles,
    photos: Sequence[PhotoIn],
    hours: dict[int, Decimal],
    note: str | None,
) -> Order:
    """An assigned volunteer or the leader records the service: photos (1–10), hours per
    volunteer who served, a note. From in_progress, or from accepted (started implicitly:
    two events). The leader is asked to confirm the hours; the resident to rate."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        current = await _assignments(session, order.id)
        active = {u for u, a in current.items() if a.status in ACTIVE_ASSIGNMENT}
        leader = can_handle(roles, order)
        if actor.id not in active and not leader:
            raise NotAllowed(N_("This is not your task."))
        await _expect(session, order, [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise DomainError(N_("Please send between 1 and {max} photos."), max=MAX_PHOTOS)
        clean_note = _text(note, required=False)
        served = _clean_hours(hours)
        may_serve = active | {order.accepted_by_id} | ({actor.id} if leader else set())
        if set(served) - may_serve:
            raise NotAllowed(N_("Hours can only be recorded for the volunteers of this order."))
        if order.status == OrderStatus.ACCEPTED:
            await transition(
                session,
                order,
                OrderStatus.IN_PROGRESS,
                actor,
                kind="started",
                note="started on completion",
                values={"started_at": utcnow()},
            )
        await transition(
            session,
            order,
            OrderStatus.DONE,
            actor,
            kind="done",
            note=clean_note,
            values={"done_at": utcnow(), "completion_note": clean_note},
        )
        _record_service(session, order, actor, current, served, photos)
        await session.flush()
        await _after_completion(session, order, actor, served)
    return order


def _record_service(
    session: AsyncSession,
    order: Order,
    actor: User,
    current: dict[int, Assignment],
    served: dict[int, Decimal],
    photos: Sequence[PhotoIn],
) -> None:
    for uid, h in served.items():
        a = current.get(uid)
        if a is None:  # the leader served without assigning themselves
            a = Assignment(
                order_id=order.id, volunteer_id=uid, assigned_by_id=actor.id, created_at=utcnow()
            )
            session.add(a)
        a.status, a.hours = AssignmentStatus.DONE, h
    for file_id, unique_id, local_path in photos:
        session.add(
            Attachment(
                order_id=order.id,
                kind=AttachmentKind.PHOTO,
                stage=AttachmentStage.COMPLETION,
                file_id=file_id,
                file_unique_id=unique_id,
                local_path=local_path,
                uploaded_by_id=actor.id,
            )
        )


async def _after_completion(
    session: AsyncSession, order: Order, actor: User, served: dict[int, Decimal]
) -> None:
    lines = [
        {"user_id": uid, "name": display_name(await session.get(User, uid)), "hours": str(h)}
        for uid, h in served.items()
    ]
    total = str(sum(served.values(), Decimal(0)))
    await notify_many(
        session,
        await _handler_users(session, order),
        NoticeKind.HOURS_CONFIRM,
        dedupe_key=f"order:{order.id}:hours",
        order_id=order.id,
        number=order.number,
        lines=lines,
        total_hours=total,
    )
    follower = await _follower_id(session, order)
    if follower is not None:
        await notify(
            session,
            follower,
            NoticeKind.RATE_REQUEST,
            dedupe_key=f"order:{order.id}:rate",
            order_id=order.id,
            number=order.number,
        )
    # The rating request itself tells the resident the work is done: no second message.
    await reminders.order_done(session, order)


async def confirm_hours(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, *, rules: PointsRules
) -> list[PointsEntry]:
    """The leader (or the office) confirms the reported hours; they are booked as points.
    Idempotent: a second call books nothing and returns []."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if not (can_handle(roles, order) or order.town_id in roles.office_towns):
            raise NotAllowed(N_("This order is not for you."))
        await _expect(session, order, [OrderStatus.DONE, OrderStatus.RATED])
        pending = [
            a
            for a in (await _assignments(session, order.id)).values()
            if a.status == AssignmentStatus.DONE and a.hours and not a.confirmed
        ]
        if pending:
            now = utcnow()
            for a in pending:
                a.confirmed, a.confirmed_by_id, a.confirmed_at = True, actor.id, now
            total = sum((Decimal(a.hours) for a in pending), Decimal(0))
            await transition(
                session,
                order,
                order.status,
                actor,
                kind="hours_confirmed",
                note=f"{len(pending)} volunteer(s), {total} h",
            )
        booked = await points.book_order_hours(session, order, rules, by=actor)
    return booked


async def rate(
    session: AsyncSession,
    order_id: int,
    actor: User,
    score: int,
    comment: str | None = None,
    *,
    rules: PointsRules,
) -> Rating:
    """The resident (or whoever placed it for them) rates a done order 1–5. A low score
    (≤ 2) alerts the station head(s) and the office; five stars give the volunteers who
    served the five-star bonus."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        if not _speaks_for_resident(actor, order) or actor.banned:
            raise NotAllowed(N_("Only the resident can do this."))
        await _expect(session, order, [OrderStatus.DONE])
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise DomainError(N_("Please choose from 1 to 5 stars."))
        clean = _text(comment, required=False)
        await transition(
            session,
            order,
            OrderStatus.RATED,
            actor,
            kind="rated",
            note=f"{score}/5" + (f": {clean}" if clean else ""),
            values={"rated_at": utcnow()},
        )
        rating = Rating(
            order_id=order.id,
            resident_id=order.resident_id,
            score=score,
            comment=clean,
            created_at=utcnow(),
        )
        session.add(rating)
        if score <= 2:
            alerted = [
                *await people.station_heads(session, order.station_id),
                *await people.office_staff(session, order.town_id),
            ]
            await notify_many(
                session,
                alerted,
                NoticeKind.LOW_RATING,
                dedupe_key=f"order:{order.id}:low",
                order_id=order.id,
                urgent=True,
                number=order.number,
                score=score,
                comment=clean,
            )
        if score == 5:
            await points.book_five_star(session, order, rules, by=actor)
        await session.flush()
    return rating


async def add_rating_comment(
    session: AsyncSession, order_id: int, actor: User, comment: str
) -> Rating:
    """The resident adds a comment after tapping the stars (the score is never lost
    waiting for the comment). Recorded as an event; a low rating's alert shows it too."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        if not _speaks_for_resident(actor, order):
            raise NotAllowed(N_("Only the resident can do this."))
        rating = await session.scalar(select(Rating).where(Rating.order_id == order.id))
        if rating is None:
            raise Conflict(N_("This order has not been rated yet."))
        if rating.comment:
            raise Conflict(N_("A comment was already added to this rating."))
        rating.comment = _text(comment, required=True)
        session.add(
            OrderEvent(
                order_id=order.id,
                actor_id=actor.id,
                kind="comment",
                from_status=order.status.value,
                to_status=order.status.value,
                note=rating.comment,
                at=utcnow(),
            )
        )
        await session.flush()
    return rating


async def cancel(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, reason: str | None = None
) -> Order:
    """The resident (or whoever placed it for them, or the office) cancels before work
    starts. Whoever holds the order and the assigned volunteers are told."""
    async with _unit(session, actor):
        order = await _load(session, order_id)
        _check_actor(actor, roles)
        if not (
            _speaks_for_resident(actor, order) or roles.admin or order.town_id in roles.office_towns
        ):
            raise NotAllowed(N_("Only the resident can do this."))
        await _expect(session, order, [OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED])
        why = _text(reason, required=False)
        holders = [] if order.status == OrderStatus.NEW else await _handler_users(session, order)
        released = await _withdraw_all(session, order)
        await transition(
            session,
            order,
            OrderStatus.CANCELLED,
            actor,
            kind="cancelled",
            note=why,
            values={"cancelled_at": utcnow()},
        )
        await _tell_text(
            session,
            [*holders, *released],
            order,
            N_("Order {number} has been cancelled."),
            "cancelled",
            actor,
        )
        await _tell_resident(session, order, actor, "cancelled")
    return order


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    actor_id: int | None
    actor_name: str | None  # None: the system (routing, a time-out)
    team_id: int | None
    team_name_zh: str | None
    team_name_en: str | None
    note: str | None


# Routing internals (who declined and why) are for staff; the resident sees the steps.
_STAFF_NOTES = {"routed", "declined", "transferred", "escalated", "hours_confirmed", "withdrawn"}


async def history(
    session: AsyncSession, order_id: int, actor: User, roles: Roles
) -> list[HistoryLine]:
    """The audit trail, oldest first, for staff who oversee the order and its resident."""
    order = await _load(session, order_id)
    if not can_view(roles, order) or roles.user_id != actor.id:
        raise NotAllowed(N_("You are not allowed to see this order."))
    staff = _is_staff_viewer(roles, order)
    who = aliased(User)
    rows = await session.execute(
        select(OrderEvent, who, Team)
        .outerjoin(who, who.id == OrderEvent.actor_id)
        .outerjoin(Team, Team.id == OrderEvent.team_id)
        .where(OrderEvent.order_id == order.id)
        .order_by(OrderEvent.id)
    )
    return [
        HistoryLine(
            at=ev.at,
            kind=ev.kind,
            from_status=ev.from_status,
            to_status=ev.to_status,
            actor_id=ev.actor_id,
            actor_name=display_name(user) if user else None,
            team_id=ev.team_id,
            team_name_zh=team.name_zh if team else None,
            team_name_en=team.name_en if team else None,
            note=ev.note if staff or ev.kind not in _STAFF_NOTES else None,
        )
        for ev, user, team in rows
    ]


async def get_order(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """An order for showing: to those who may view it and to its assigned volunteers."""
    order = await _load(session, order_id)
    if roles.user_id != actor.id:
        raise NotAllowed(N_("You are not allowed to see this order."))
    if not can_view(roles, order) and await _my_assignment(session, order.id, actor.id) is None:
        raise NotAllowed(N_("You are not allowed to see this order."))
    return order


async def order_contact(session: AsyncSession, order: Order) -> tuple[str | None, str | None]:
    """(name, phone) to reach the resident: the order's contact, else the resident's own.
    Show the phone only to the acceptor and assigned volunteers (after Accept)."""
    resident = await session.get(User, order.resident_id)
    name = order.contact_name or (resident.name if resident else None)
    phone = order.contact_phone or (resident.phone if resident else None)
    return name, phone


async def resident_orders(session: AsyncSession, resident_id: int, limit: int = 20) -> list[Order]:
    """A resident's orders, newest first."""
    rows = await session.scalars(
        select(Order).where(Order.resident_id == resident_id).order_by(Order.id.desc()).limit(limit)
    )
    return list(rows)


async def team_open_orders(session: AsyncSession, team_ids: Iterable[int]) -> list[Order]:
    """Orders a team holds that are not finished (routed, accepted, in progress)."""
    ids = list(team_ids)
    if not ids:
        return []
    rows = await session.scalars(
        select(Order)
        .where(Order.team_id.in_(ids), Order.status.in_(OPEN_STATUSES[1:]))
        .order_by(Order.id)
    )
    return list(rows)


async def office_open_orders(session: AsyncSession, town_ids: Iterable[int]) -> list[Order]:
    """Open orders the office holds, including escalated ones nobody could take."""
    ids = list(town_ids)
    if not ids:
        return []
    rows = await session.scalars(
        select(Order)
        .where(
            Order.town_id.in_(ids),
            Order.handler_kind == "office",
            Order.status.in_(OPEN_STATUSES),
        )
        .order_by(Order.id)
    )
    return list(rows)


async def station_orders(
    session: AsyncSession, station_ids: Iterable[int], open_only: bool = True, limit: int = 50
) -> list[Order]:
    """Orders from a station's village (a station head sees every one), newest first."""
    ids = list(station_ids)
    if not ids:
        return []
    stmt = select(Order).where(Order.station_id.in_(ids))
    if open_only:
        stmt = stmt.where(Order.status.in_(OPEN_STATUSES))
    return list(await session.scalars(stmt.order_by(Order.id.desc()).limit(limit)))


async def volunteer_tasks(session: AsyncSession, user_id: int) -> list[tuple[Assignment, Order]]:
    """A volunteer's current tasks: active assignments on accepted or started orders."""
    rows = await session.execute(
        select(Assignment, Order)
        .join(Order, Order.id == Assignment.order_id)
        .where(
            Assignment.volunteer_id == user_id,
            Assignment.status.in_(ACTIVE_ASSIGNMENT),
            Order.status.in_((OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)),
        )
        .order_by(Order.slot_start, Order.id)
    )
    return [(a, o) for a, o in rows]


async def proxy_station_ids(session: AsyncSession, roles: Roles) -> set[int]:
    """The stations whose residents this person may place orders for (proxy orders)."""
    stations = (
        await session.scalars(
            select(Region.id).where(Region.parent_id.is_not(None)).where(Region.active.is_(True))
        )
    ).all()
    return {sid for sid in stations if await _may_place_for(session, roles, sid)}
