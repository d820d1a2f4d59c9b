"""A resident's right to be forgotten: personal data removed, statistics kept.

Orders stay (the institute's figures need them) but no longer say who asked: the user row
loses its name, phone, Telegram id, skills, village, party membership and priority group;
the orders lose their description, contact details and location; the resident's own words
in the orders' events (a rating's comment) and the ratings' comments are erased (the
scores stay); the request's photos and voice notes are deleted with their files; messages
still queued for them are cancelled and every message row forgets their Telegram id. Open
orders that have not started are cancelled first.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Attachment,
    AttachmentStage,
    MembershipStatus,
    Order,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Rating,
    StaffRole,
    TeamMember,
    User,
    utcnow,
)
from services import orders
from services.people import Roles, roles_of
from services.uow import unit
from services.volunteers import phone_key

CANCELLABLE = (OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED)


ERASED = "—"  # what an erased order's description says
QUEUED = (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def forget_user(
    session: AsyncSession, user: User, roles: Roles, media_dir: Path | None = None
) -> int:
    """Anonymise `user` (their request files under `media_dir` are deleted); returns how
    many open orders were cancelled. Commits."""
    open_ids = (
        await session.scalars(
            select(Order.id).where(Order.resident_id == user.id, Order.status.in_(CANCELLABLE))
        )
    ).all()
    for order_id in open_ids:
        await orders.cancel(session, order_id, user, roles, reason="personal data deleted")
    async with unit(session, user):
        await session.execute(
            update(Order)
            .where(Order.resident_id == user.id)
            .values(
                description=ERASED,
                contact_name=None,
                contact_phone=None,
                address=None,
                latitude=None,
                longitude=None,
            )
        )
        await session.execute(
            update(Rating).where(Rating.resident_id == user.id).values(comment=None)
        )
        own_orders = select(Order.id).where(Order.resident_id == user.id)
        # their own words in the orders' trail: a rating's comment, a note when cancelling
        await session.execute(
            update(OrderEvent)
            .where(OrderEvent.order_id.in_(own_orders), OrderEvent.actor_id == user.id)
            .values(note=None)
        )
        requests = Attachment.order_id.in_(own_orders) & (
            Attachment.stage == AttachmentStage.REQUEST
        )
        files = (await session.scalars(select(Attachment.local_path).where(requests))).all()
        await session.execute(delete(Attachment).where(requests))
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.user_id == user.id, OutboxMessage.status.in_(QUEUED))
            .values(status=OutboxStatus.FAILED, last_error="personal data deleted")
        )
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.user_id == user.id).values(chat_id=0)
        )
        await session.execute(
            update(StaffRole).where(StaffRole.user_id == user.id).values(active=False)
        )
        await session.execute(
            update(TeamMember)
            .where(TeamMember.user_id == user.id)
            .values(status=MembershipStatus.LEFT)
        )
        user.name = user.phone = user.tg_username = user.skills = None
        user.tg_id = None  # a later /start from the same account is a new, unknown person
        user.station_id = user.priority_group_id = None
        user.is_party_member = False
        user.registered = False
        user.anonymised_at = utcnow()
    if media_dir is not None:  # after the commit: a failed erasure keeps its files
        for path in files:
            if path:
                (media_dir / path).unlink(missing_ok=True)
    return len(open_ids)


async def forget_by_phone(
    session: AsyncSession, phone: str, media_dir: Path | None = None
) -> list[int]:
    """The office erases residents who have no Telegram (ordered for by station staff, or
    imported): everyone with this phone number and no Telegram account. Returns their ids
    (none: nobody matched; someone with Telegram erases themselves with /forget)."""
    wanted = phone_key(phone)
    if wanted is None:
        return []
    found = await session.scalars(select(User).where(User.tg_id.is_(None), User.phone.is_not(None)))
    people = [u for u in found if phone_key(u.phone) == wanted]
    for person in people:
        await forget_user(session, person, await roles_of(session, person, frozenset()), media_dir)
    return [p.id for p in people]
