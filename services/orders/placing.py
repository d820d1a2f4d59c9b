"""Placing an order: by the resident, or by station staff on a resident's behalf."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AttachmentStage,
    Order,
    OrderStatus,
    Region,
    ServiceArea,
    ServiceCategory,
    Slot,
    User,
    utcnow,
)
from services.attachments import FileIn, keep_files
from services.context import Ctx
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.numbering import next_number, town_prefix
from services.orders import routing
from services.orders.access import (
    check_actor,
    may_place_for,
)
from services.orders.notices import tell_resident
from services.orders.sla import order_routed
from services.orders.state import (
    OPEN_STATUSES,
    clean_text,
    display_name,
    record,
)
from services.people import Roles
from services.uow import unit

MAX_DESCRIPTION = 1000
CREATE_ATTEMPTS = 3


AttachmentIn = FileIn


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
    ctx: Ctx,
    *,
    resident: User,
    placed_by: User,
    roles: Roles,
    category_id: int | None,
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
) -> Order:
    """Create and route an order (one transaction). `roles` are the placer's. A repeated
    `client_token` returns the order it created instead of a second one. No category: a
    «其他需求» order, the need in the resident's own words (text, voice, photo), which the
    institute office triages."""
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
            async with unit(session, resident, placed_by):
                order = await _create_once(
                    session, ctx, resident, placed_by, roles, fields, attachments, max_open
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
    ctx: Ctx,
    resident: User,
    placed_by: User,
    roles: Roles,
    fields: dict[str, Any],
    attachments: Sequence[AttachmentIn],
    max_open: int,
) -> Order:
    check_actor(placed_by, roles)
    existing = await _existing_by_token(session, fields["client_token"], placed_by.id)
    if existing is not None:
        return existing
    if resident.banned:
        raise NotAllowed(N_("You are not allowed to do this."))
    if resident.station_id is None:
        raise DomainError(N_("Please choose your village or community first."))
    proxy = resident.id != placed_by.id
    if proxy and not await may_place_for(session, roles, resident.station_id):
        raise NotAllowed(N_("You cannot place orders for residents of this village."))
    station = await session.get(Region, resident.station_id)
    if station is None or station.parent_id is None:
        raise DomainError(N_("Please choose your village or community first."))
    town = await session.get(Region, station.parent_id)
    if town is None:
        raise DomainError(N_("Please choose your village or community first."))
    if fields["category_id"] is not None:
        await _category_in_town(session, fields["category_id"], town.id)
    text = (fields["description"] or "").strip()
    if not text and not attachments and fields["category_id"] is None:
        # A service chosen from the list may say it all («量血压»); «其他需求» needs words.
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
    await _assign_number(session, order, town, ctx.tz)
    keep_files(session, attachments, AttachmentStage.REQUEST, placed_by, order_id=order.id)
    note = f"placed by {display_name(placed_by)} for {display_name(resident)}" if proxy else None
    record(session, order, placed_by, "created", note, frm=None)
    await routing.receive(session, order, placed_by)
    await order_routed(session, ctx, order)
    await tell_resident(session, order, placed_by, "created")
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
    async with unit(session, placed_by):
        check_actor(placed_by, roles)
        station = await session.get(Region, station_id)
        if station is None or station.parent_id is None:
            raise NotFound(N_("Please choose your village or community first."))
        if not await may_place_for(session, roles, station_id):
            raise NotAllowed(N_("You cannot place orders for residents of this village."))
        clean_name = clean_text(name, required=False, limit=64)
        if clean_name is None:
            raise DomainError(N_("Please enter the resident's name."))
        clean_phone = clean_text(phone, required=False, limit=32)
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
