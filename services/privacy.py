"""A resident's right to be forgotten: personal data removed, statistics kept.

Orders stay (the institute's figures need them) but no longer say who asked: the user row
loses its name, phone, Telegram id and skills, and the orders lose their contact details
and free-text comments. Open orders that have not started are cancelled first.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Attachment,
    AttachmentStage,
    MembershipStatus,
    Order,
    OrderStatus,
    Rating,
    StaffRole,
    TeamMember,
    User,
    utcnow,
)
from services import orders
from services.people import Roles
from services.uow import unit

CANCELLABLE = (OrderStatus.NEW, OrderStatus.ROUTED, OrderStatus.ACCEPTED)


async def forget_user(session: AsyncSession, user: User, roles: Roles) -> int:
    """Anonymise `user`; returns how many open orders were cancelled. Commits."""
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
                contact_name=None, contact_phone=None, address=None, latitude=None, longitude=None
            )
        )
        await session.execute(
            update(Rating).where(Rating.resident_id == user.id).values(comment=None)
        )
        own_orders = select(Order.id).where(Order.resident_id == user.id)
        await session.execute(
            update(Attachment)
            .where(Attachment.order_id.in_(own_orders), Attachment.stage == AttachmentStage.REQUEST)
            .values(caption=None)
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
        user.registered = False
        user.anonymised_at = utcnow()
    return len(open_ids)
