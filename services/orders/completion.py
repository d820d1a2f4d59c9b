"""The end of an order: completion with photos and hours, confirming the hours,
the resident's rating."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentStatus,
    AttachmentStage,
    Order,
    OrderStatus,
    PointsEntry,
    Rating,
    User,
    utcnow,
)
from services import points
from services.attachments import PhotoIn, as_photos, keep_files
from services.context import Ctx
from services.errors import Conflict, DomainError, NotAllowed
from services.hours import parse_hours
from services.i18n import N_
from services.orders.access import (
    can_handle,
    check_actor,
    speaks_for_resident,
)
from services.orders.assignment import assignments_of, begin_work
from services.orders.notices import follower_id, handler_users, tell_about, tell_one
from services.orders.sla import order_done
from services.orders.state import (
    ACTIVE_ASSIGNMENT,
    clean_text,
    display_name,
    expect,
    load_order,
    record,
    transition,
)
from services.outbox import NoticeKind
from services.people import Roles, office_staff, station_heads
from services.points import PointsRules
from services.uow import unit

MAX_PHOTOS = 10
MAX_HOURS = Decimal(24)


def _clean_hours(hours: dict[int, Decimal]) -> dict[int, Decimal]:
    if not hours:
        raise DomainError(N_("Enter the hours of at least one volunteer."))
    return {int(uid): parse_hours(value, most=MAX_HOURS) for uid, value in hours.items()}


async def may_complete(session: AsyncSession, order_id: int, actor: User, roles: Roles) -> Order:
    """The first step of recording the service: the order, if the actor was sent to it (or
    holds it) and it is accepted or in progress."""
    order = await session.get(Order, order_id, populate_existing=True)
    sent = order is not None and actor.id in {
        a.volunteer_id
        for a in (await assignments_of(session, order.id)).values()
        if a.status != AssignmentStatus.WITHDRAWN
    }
    if order is None or not (sent or can_handle(roles, order)):
        raise NotAllowed(N_("This is not your task."))
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        raise Conflict(N_("This order is already {status}."), status=order.status.value)
    return order


async def complete(
    session: AsyncSession,
    ctx: Ctx,
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
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        current = await assignments_of(session, order.id)
        active = {u for u, a in current.items() if a.status in ACTIVE_ASSIGNMENT}
        leader = can_handle(roles, order)
        if actor.id not in active and not leader:
            raise NotAllowed(N_("This is not your task."))
        await expect(session, order, [OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise DomainError(N_("Please send between 1 and {max} photos."), max=MAX_PHOTOS)
        clean_note = clean_text(note, required=False)
        served = _clean_hours(hours)
        may_serve = active | {order.accepted_by_id} | ({actor.id} if leader else set())
        if set(served) - may_serve:
            raise NotAllowed(N_("Hours can only be recorded for the volunteers of this order."))
        if order.status == OrderStatus.ACCEPTED:
            await begin_work(session, order, actor, note="started on completion")
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
        await _after_completion(session, ctx, order, actor, served)
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
    keep_files(session, as_photos(photos), AttachmentStage.COMPLETION, actor, order_id=order.id)


async def _after_completion(
    session: AsyncSession, ctx: Ctx, order: Order, actor: User, served: dict[int, Decimal]
) -> None:
    lines = [
        {"user_id": uid, "name": display_name(await session.get(User, uid)), "hours": str(h)}
        for uid, h in served.items()
    ]
    total = str(sum(served.values(), Decimal(0)))
    await tell_about(
        session,
        await handler_users(session, order),
        NoticeKind.HOURS_CONFIRM,
        order,
        "hours",
        lines=lines,
        total_hours=total,
    )
    follower = await follower_id(session, order)
    if follower is not None:
        await tell_one(session, follower, NoticeKind.RATE_REQUEST, order, "rate")
    # The rating request itself tells the resident the work is done: no second message.
    await order_done(session, ctx, order)


async def confirm_hours(
    session: AsyncSession, order_id: int, actor: User, roles: Roles, *, rules: PointsRules
) -> list[PointsEntry]:
    """The leader (or the office) confirms the reported hours; they are booked as points.
    Idempotent: a second call books nothing and returns []."""
    async with unit(session, actor):
        order = await load_order(session, order_id)
        check_actor(actor, roles)
        if not (can_handle(roles, order) or order.town_id in roles.office_towns):
            raise NotAllowed(N_("This order is not for you."))
        await expect(session, order, [OrderStatus.DONE, OrderStatus.RATED])
        pending = [
            a
            for a in (await assignments_of(session, order.id)).values()
            if a.status == AssignmentStatus.DONE and a.hours and not a.confirmed
        ]
        if pending:
            now = utcnow()
            for a in pending:
                a.confirmed, a.confirmed_by_id, a.confirmed_at = True, actor.id, now
            total = sum((Decimal(a.hours or 0) for a in pending), Decimal(0))
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
    async with unit(session, actor):
        order = await load_order(session, order_id)
        if not speaks_for_resident(actor, order) or actor.banned:
            raise NotAllowed(N_("Only the resident can do this."))
        await expect(session, order, [OrderStatus.DONE])
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise DomainError(N_("Please choose from 1 to 5 stars."))
        clean = clean_text(comment, required=False)
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
                *await station_heads(session, order.station_id),
                *await office_staff(session, order.town_id),
            ]
            await tell_about(
                session,
                alerted,
                NoticeKind.LOW_RATING,
                order,
                "low",
                urgent=True,
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
    async with unit(session, actor):
        order = await load_order(session, order_id)
        if not speaks_for_resident(actor, order):
            raise NotAllowed(N_("Only the resident can do this."))
        rating = await session.scalar(select(Rating).where(Rating.order_id == order.id))
        if rating is None:
            raise Conflict(N_("This order has not been rated yet."))
        if rating.comment:
            raise Conflict(N_("A comment was already added to this rating."))
        rating.comment = clean_text(comment, required=True)
        record(session, order, actor, "comment", rating.comment, frm=order.status)
        await session.flush()
    return rating
