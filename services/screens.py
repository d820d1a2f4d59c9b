"""Reads for screens: what a card or a queued notice shows, loaded in one place so views/
renders it from plain data, with no database of its own.

The `*_notice(session, row)` functions are the `reads` of the notice renderers (see
views/notices.py): they load what an outbox row refers to, or return None when it is gone
or moved on so far that the notice has nothing left to say (the sender then drops it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivityStatus,
    Assignment,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    Broadcast,
    BroadcastStatus,
    MemberRole,
    MembershipStatus,
    Order,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Rating,
    Region,
    ServiceArea,
    ServiceCategory,
    SignupStatus,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services import activities, broadcasts, orders, people
from services.activities import Places
from services.orders import units
from services.org import categories_in_area, service_areas
from services.people import Roles

DIGEST_MAX = 20  # orders listed one by one in a leader's morning digest


# --- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    """An order with what its card names: category, village, resident, team, the request's
    photos and voice; and, for some notices, the hours reported, the rating, a volunteer."""

    order: Order
    category: ServiceCategory | None
    station: Region | None
    resident: User | None
    team: Team | None
    media: tuple[Attachment, ...] = ()
    hours: tuple[tuple[str | None, Decimal], ...] = ()
    rating: Rating | None = None
    volunteer: User | None = None
    placed_by: User | None = None  # station staff who ordered for a resident (proxy orders)
    answered: bool = False  # closed by the office's answer: no visit was needed, not cancelled

    @property
    def has_voice(self) -> bool:
        return any(m.kind == AttachmentKind.VOICE for m in self.media)

    @property
    def photo(self) -> str | None:
        return next((m.file_id for m in self.media if m.kind == AttachmentKind.PHOTO), None)


async def request_media(session: AsyncSession, order_id: int) -> list[Attachment]:
    """The photos and voice the resident sent with the request, in order."""
    return list(
        (
            await session.scalars(
                select(Attachment)
                .where(Attachment.order_id == order_id, Attachment.stage == AttachmentStage.REQUEST)
                .order_by(Attachment.id)
            )
        ).all()
    )


async def team(session: AsyncSession, team_id: int | None) -> Team | None:
    return await session.get(Team, team_id) if team_id else None


async def category(session: AsyncSession, category_id: int | None) -> ServiceCategory | None:
    """None for a «其他需求» order, which has no category until the office triages it."""
    return await session.get(ServiceCategory, category_id) if category_id else None


async def order_facts(session: AsyncSession, order: Order, *, media: bool = False) -> OrderFacts:
    return OrderFacts(
        order=order,
        category=await category(session, order.category_id),
        station=await session.get(Region, order.station_id),
        resident=await session.get(User, order.resident_id),
        team=await team(session, order.team_id),
        media=tuple(await request_media(session, order.id)) if media else (),
        placed_by=await session.get(User, order.placed_by_id) if order.is_proxy else None,
        answered=await orders.answered(session, order),
    )


async def order_notice(session: AsyncSession, row: OutboxMessage) -> OrderFacts | None:
    order = await session.get(Order, row.order_id) if row.order_id else None
    return await order_facts(session, order) if order is not None else None


async def order_card_notice(session: AsyncSession, row: OutboxMessage) -> OrderFacts | None:
    """The order with the request's photos and voice (a card to accept)."""
    order = await session.get(Order, row.order_id) if row.order_id else None
    return await order_facts(session, order, media=True) if order is not None else None


async def order_hours_notice(session: AsyncSession, row: OutboxMessage) -> OrderFacts | None:
    """The order with the hours each volunteer reported."""
    facts = await order_notice(session, row)
    if facts is None:
        return None
    rows = await session.execute(
        select(User.name, Assignment.hours)
        .join(User, User.id == Assignment.volunteer_id)
        .where(Assignment.order_id == facts.order.id, Assignment.hours.is_not(None))
    )
    return replace(
        facts, hours=tuple((name, hours) for name, hours in rows.all() if hours is not None)
    )


async def order_rating_notice(session: AsyncSession, row: OutboxMessage) -> OrderFacts | None:
    facts = await order_notice(session, row)
    if facts is None:
        return None
    rating = await session.scalar(select(Rating).where(Rating.order_id == facts.order.id))
    return replace(facts, rating=rating)


async def order_withdrawal_notice(session: AsyncSession, row: OutboxMessage) -> OrderFacts | None:
    """The order with the volunteer (payload `volunteer_id`) who can't make it."""
    facts = await order_notice(session, row)
    if facts is None:
        return None
    volunteer_id = row.payload.get("volunteer_id")
    volunteer = await session.get(User, volunteer_id) if volunteer_id else None
    return replace(facts, volunteer=volunteer)


@dataclass(frozen=True)
class Digest:
    total: int  # open orders in all
    orders: tuple[OrderFacts, ...]  # the first DIGEST_MAX of them


async def leader_digest_notice(session: AsyncSession, row: OutboxMessage) -> Digest | None:
    """The open orders of the teams the recipient leads; None when there are none."""
    team_ids = await session.scalars(
        select(TeamMember.team_id).where(
            TeamMember.user_id == row.user_id,
            TeamMember.role == MemberRole.LEADER,
            TeamMember.status == MembershipStatus.ACTIVE,
        )
    )
    found = await orders.team_open_orders(session, list(team_ids))
    if not found:
        return None
    shown = [
        OrderFacts(
            order=order,
            category=await category(session, order.category_id),
            station=await session.get(Region, order.station_id),
            resident=None,
            team=None,
        )
        for order in found[:DIGEST_MAX]
    ]
    return Digest(total=len(found), orders=tuple(shown))


# --- broadcasts -----------------------------------------------------------------------------


async def audience_places(session: AsyncSession, audience: dict[str, Any]) -> list[Any]:
    """The villages (Region rows, in their order) or the team an audience names; else []."""
    kind, ids = audience.get("kind", ""), list(audience.get("ids") or [])
    if kind == "stations":
        regions = await session.scalars(
            select(Region).where(Region.id.in_(ids)).order_by(Region.sort, Region.id)
        )
        return list(regions)
    if kind == "team":
        found = await session.get(Team, ids[0]) if ids else None
        return [found] if found is not None else []
    return []


@dataclass(frozen=True)
class BroadcastFacts:
    broadcast: Broadcast
    author: User | None = None
    places: tuple[Any, ...] = ()  # see audience_places
    audience_count: int = 0
    report: broadcasts.Report | None = None
    blocked: tuple[broadcasts.Recipient, ...] = ()  # the first names of those not reached
    failed: tuple[broadcasts.Recipient, ...] = ()


async def notices_listed(
    session: AsyncSession, found: list[Broadcast], *, with_reports: bool = False
) -> list[BroadcastFacts]:
    """Notices for a list: each with its villages or team, and (`with_reports`) the
    delivery of its latest run."""
    listed = []
    for bc in found:
        report = (
            await broadcasts.report(session, bc.id, bc.runs) if with_reports and bc.runs else None
        )
        places = tuple(await audience_places(session, bc.audience))
        listed.append(BroadcastFacts(bc, places=places, report=report))
    return listed


async def _broadcast(session: AsyncSession, row: OutboxMessage) -> Broadcast | None:
    return await session.get(Broadcast, row.broadcast_id or row.payload.get("broadcast_id"))


async def broadcast_notice(session: AsyncSession, row: OutboxMessage) -> BroadcastFacts | None:
    bc = await _broadcast(session, row)
    return BroadcastFacts(bc) if bc is not None else None


async def broadcast_approval_notice(
    session: AsyncSession, row: OutboxMessage
) -> BroadcastFacts | None:
    """A notice waiting for approval, its author and audience; None once decided."""
    bc = await _broadcast(session, row)
    if bc is None or bc.status != BroadcastStatus.PENDING_APPROVAL:
        return None  # decided already (by another office member)
    return BroadcastFacts(
        bc,
        author=await session.get(User, bc.author_id),
        audience_count=await broadcasts.count_audience(session, bc.town_id, bc.audience),
        places=tuple(await audience_places(session, bc.audience)),
    )


async def broadcast_report_notice(
    session: AsyncSession, row: OutboxMessage
) -> BroadcastFacts | None:
    """A notice with the delivery of one run (payload `run`, else the latest)."""
    bc = await _broadcast(session, row)
    if bc is None:
        return None
    run = int(row.payload.get("run") or bc.runs)
    return BroadcastFacts(
        bc,
        report=await broadcasts.report(session, bc.id, run),
        places=tuple(await audience_places(session, bc.audience)),
        blocked=tuple(await broadcasts.unreached(session, bc.id, run, OutboxStatus.BLOCKED)),
        failed=tuple(await broadcasts.unreached(session, bc.id, run, OutboxStatus.FAILED)),
    )


# --- volunteers and activities --------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFacts:
    activity: Activity
    organiser: Team | Region | None  # its team, else its village
    seats: Places
    signed: bool = False  # whether the recipient is signed up (or on the waitlist)


async def activity_facts(
    session: AsyncSession, activity: Activity, *, seats: Places | None = None
) -> ActivityFacts:
    if activity.team_id:
        organiser: Team | Region | None = await session.get(Team, activity.team_id)
    else:
        station_id = activity.station_id
        organiser = await session.get(Region, station_id) if station_id else None
    return ActivityFacts(
        activity, organiser, seats or await activities.places(session, activity.id)
    )


async def draft_facts(session: AsyncSession, draft: activities.ActivityDraft) -> ActivityFacts:
    """An activity not yet published, as the organiser checks it before publishing."""
    preview = Activity(
        id=0,
        title=draft.title,
        content=draft.content,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=draft.capacity,
        team_id=draft.team_id,
        station_id=draft.station_id,
        recurrence=f"weekly:1/{draft.weeks}" if draft.weeks > 1 else None,
        status=ActivityStatus.PUBLISHED,
    )
    return await activity_facts(session, preview, seats=Places(0, 0, draft.capacity))


async def _activity(session: AsyncSession, row: OutboxMessage) -> Activity | None:
    return await session.get(Activity, row.payload.get("activity_id"))


async def activity_notice(session: AsyncSession, row: OutboxMessage) -> ActivityFacts | None:
    """A new activity for its audience; None once called off, finished or started."""
    activity = await _activity(session, row)
    if activity is None or activity.status != ActivityStatus.PUBLISHED:
        return None
    if activity.starts_at <= utcnow():
        return None
    facts = await activity_facts(session, activity)
    mine = await activities.my_signup(session, activity.id, row.user_id or 0)
    signed = mine is not None and mine.status != SignupStatus.CANCELLED
    return replace(facts, signed=signed)


async def published_activity_notice(session: AsyncSession, row: OutboxMessage) -> Activity | None:
    activity = await _activity(session, row)
    return (
        activity if activity is not None and activity.status == ActivityStatus.PUBLISHED else None
    )


async def activity_update_notice(session: AsyncSession, row: OutboxMessage) -> Activity | None:
    return await _activity(session, row)


@dataclass(frozen=True)
class EnrolFacts:
    team: Team | None
    applicant: User | None = None  # the one who applied, or whom it is about
    member_id: int = 0
    roles: Roles | None = None  # the applicant's roles, once approved (for their menu)
    volunteer: User | None = None  # the one who left


async def applicant_roles(session: AsyncSession, user: User) -> Roles:
    """The applicant's roles without the settings' admin ids (for the menu in a notice)."""
    return await people.roles_of(session, user, frozenset())


async def enrol_request_notice(session: AsyncSession, row: OutboxMessage) -> EnrolFacts | None:
    """An application waiting for the leader; None once decided (by another leader)."""
    member = await session.get(TeamMember, row.payload.get("member_id"))
    if member is None or member.status != MembershipStatus.PENDING:
        return None
    found = await application(session, member)
    if found is None:
        return None
    applicant, team_ = found
    return EnrolFacts(team_, applicant, member_id=member.id)


async def application(session: AsyncSession, member: TeamMember) -> tuple[User, Team] | None:
    """Who applied and to which team (the leader's card); None if either is gone."""
    applicant = await session.get(User, member.user_id)
    found = await session.get(Team, member.team_id)
    return (applicant, found) if applicant is not None and found is not None else None


async def enrol_result_notice(session: AsyncSession, row: OutboxMessage) -> EnrolFacts:
    p = row.payload
    found = await session.get(Team, p.get("team_id"))
    result = p.get("result")
    if result == "approved":
        user = await session.get(User, row.user_id) if row.user_id else None
        roles = await applicant_roles(session, user) if user is not None else None
        return EnrolFacts(found, user, roles=roles)
    if result == "left":
        return EnrolFacts(found, volunteer=await session.get(User, p.get("volunteer_id")))
    return EnrolFacts(found)


# --- 站所接单 · 派单: the dispatcher's and the office's cards (views/dispatch.py) ------------


@dataclass(frozen=True)
class DispatchFacts:
    """An order waiting with its lead unit: the order, its trail, where it may go."""

    facts: OrderFacts
    trail: units.Trail
    targets: tuple[Team, ...]
    suggested_id: int | None  # the team the reception suggests, if any


async def dispatch_facts(session: AsyncSession, order_id: int) -> DispatchFacts | None:
    order = await session.get(Order, order_id)
    if order is None:
        return None
    facts = await order_facts(session, order, media=True)
    received = await units.reception(session, facts.category) if facts.category else None
    suggested = received.suggested if received else None
    return DispatchFacts(
        facts=facts,
        trail=await units.trail(session, order),
        targets=tuple(await units.dispatch_targets(session, order)),
        suggested_id=suggested.id if suggested else None,
    )


async def dispatch_notice(session: AsyncSession, row: OutboxMessage) -> DispatchFacts | None:
    """The dispatch card (派单); None once the order left the unit (dispatched, cancelled)."""
    found = await dispatch_facts(session, row.order_id) if row.order_id else None
    if found is None:
        return None
    order = found.facts.order
    if order.status != OrderStatus.NEW or order.handler_kind != "unit":
        return None
    return found


async def unit_orders(session: AsyncSession, roles: Roles, limit: int = 10) -> list[DispatchFacts]:
    """站所的订单: the open orders the dispatcher's units received, waiting ones first."""
    seen: dict[int, Order] = {}
    for unit_id in sorted(roles.dispatches_for):
        for order in await orders.unit_queue(session, unit_id, limit):
            seen.setdefault(order.id, order)
    waiting = sorted(seen.values(), key=lambda o: (o.handler_kind != "unit", o.id))[:limit]
    found = [await dispatch_facts(session, o.id) for o in waiting]
    return [f for f in found if f is not None]


@dataclass(frozen=True)
class TriageFacts:
    """A «其他需求» order for the office, with the town's areas to sort it into."""

    facts: OrderFacts
    areas: tuple[ServiceArea, ...]


async def triage_facts(session: AsyncSession, order_id: int) -> TriageFacts | None:
    order = await session.get(Order, order_id)
    if order is None:
        return None
    facts = await order_facts(session, order, media=True)
    return TriageFacts(facts, tuple(await service_areas(session, order.town_id)))


async def triage_notice(session: AsyncSession, row: OutboxMessage) -> TriageFacts | None:
    """The triage card; None once the order has a category or is closed."""
    found = await triage_facts(session, row.order_id) if row.order_id else None
    if found is None:
        return None
    order = found.facts.order
    if order.status != OrderStatus.NEW or order.category_id is not None:
        return None
    return found


async def area_categories(
    session: AsyncSession, order_id: int, area_id: int
) -> list[ServiceCategory] | None:
    """The services of one area, for the triage card; None unless it is an area of the
    order's town."""
    found = await triage_facts(session, order_id)
    if found is None or all(a.id != area_id for a in found.areas):
        return None
    return await categories_in_area(session, area_id)
