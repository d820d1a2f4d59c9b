"""Signing up and cancelling: the capacity holds, the rest wait on a waitlist, and a
cancellation promotes the first in line. Reading places and what is coming up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    SignupStatus,
    User,
    utcnow,
)
from services.activities.access import (
    CENT,
    CHECKIN_LATE,
    MAX_HOURS,
    load_activity,
    lock_activity,
    may_join,
    signups_of,
    tell_member,
)
from services.errors import Conflict, NotAllowed, NotFound
from services.i18n import N_
from services.people import Roles
from services.uow import unit


@dataclass(frozen=True)
class SignupResult:
    status: SignupStatus  # signed or waitlist
    position: int | None  # place on the waitlist, from 1
    already: bool  # nothing changed: they were signed up (or waiting) already


async def sign_up(
    session: AsyncSession, activity_id: int, user: User, *, now: datetime | None = None
) -> SignupResult:
    """Sign up for an activity before it starts. With all places taken, the person joins
    the waitlist. Signing up twice changes nothing. Commits."""
    now = now or utcnow()
    async with unit(session, user):
        activity = await load_activity(session, activity_id)
        if activity.status != ActivityStatus.PUBLISHED:
            raise Conflict(N_("This activity is already finished or cancelled."))
        if activity.starts_at <= now:
            raise Conflict(N_("This activity has already started."))
        if not await may_join(session, activity, user):
            raise NotAllowed(N_("This activity is for the members of its team only."))
        activity = await lock_activity(session, activity_id)
        mine = await session.scalar(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == user.id
            )
        )
        if mine is not None and mine.status != SignupStatus.CANCELLED:
            return await _result(session, activity.id, mine, already=True)
        signed = await signups_of(session, activity.id, SignupStatus.SIGNED)
        status = (
            SignupStatus.SIGNED
            if activity.capacity is None or len(signed) < activity.capacity
            else SignupStatus.WAITLIST
        )
        if mine is None:
            mine = ActivitySignup(activity_id=activity.id, user_id=user.id)
            session.add(mine)
        mine.status, mine.created_at, mine.attended = status, now, False
        await session.flush()
        result = await _result(session, activity.id, mine, already=False)
    return result


async def _result(
    session: AsyncSession, activity_id: int, mine: ActivitySignup, *, already: bool
) -> SignupResult:
    position = None
    if mine.status == SignupStatus.WAITLIST:
        queue = await signups_of(session, activity_id, SignupStatus.WAITLIST)
        position = next((i for i, s in enumerate(queue, 1) if s.id == mine.id), None)
    return SignupResult(mine.status, position, already)


async def cancel_signup(
    session: AsyncSession, activity_id: int, user: User, *, now: datetime | None = None
) -> int | None:
    """Cancel one's own sign-up (or waitlist place) before the start. A freed place goes to
    the first on the waitlist, who is told. Returns the promoted user's id, if any.
    Commits."""
    now = now or utcnow()
    async with unit(session, user):

        async def mine_now() -> ActivitySignup:
            found = await session.scalar(
                select(ActivitySignup)
                .where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user.id)
                .execution_options(populate_existing=True)
            )
            if found is None or found.status == SignupStatus.CANCELLED:
                raise NotFound(N_("You are not signed up for this activity."))
            return found

        activity = await load_activity(session, activity_id)
        await mine_now()  # refusals before the lock leave the caller's objects usable
        if activity.starts_at <= now or activity.status != ActivityStatus.PUBLISHED:
            raise Conflict(N_("This activity has already started."))
        activity = await lock_activity(session, activity_id)
        mine = await mine_now()
        freed = mine.status == SignupStatus.SIGNED
        mine.status = SignupStatus.CANCELLED
        await session.flush()
        promoted: int | None = None
        if freed:
            waiting = await signups_of(session, activity.id, SignupStatus.WAITLIST)
            signed = await signups_of(session, activity.id, SignupStatus.SIGNED)
            free = None if activity.capacity is None else activity.capacity - len(signed)
            if waiting and (free is None or free > 0):
                first = waiting[0]
                first.status = SignupStatus.SIGNED
                promoted = first.user_id
                tag = f"promoted:{first.id}:{int(now.timestamp())}"
                await tell_member(session, first.user_id, activity, tag, event="promoted")
        await session.flush()
    return promoted


@dataclass(frozen=True)
class Places:
    signed: int
    waiting: int
    capacity: int | None

    @property
    def left(self) -> int | None:
        return None if self.capacity is None else max(0, self.capacity - self.signed)


async def places(session: AsyncSession, activity_id: int) -> Places:
    rows = await session.execute(
        select(ActivitySignup.status, func.count(ActivitySignup.id))
        .where(ActivitySignup.activity_id == activity_id)
        .group_by(ActivitySignup.status)
    )
    counts = {status: n for status, n in rows}
    activity = await session.get(Activity, activity_id)
    return Places(
        counts.get(SignupStatus.SIGNED, 0),
        counts.get(SignupStatus.WAITLIST, 0),
        activity.capacity if activity else None,
    )


async def my_signup(session: AsyncSession, activity_id: int, user_id: int) -> ActivitySignup | None:
    return await session.scalar(
        select(ActivitySignup).where(
            ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id
        )
    )


async def upcoming_for(
    session: AsyncSession, user: User, roles: Roles, *, now: datetime | None = None, limit: int = 8
) -> list[Activity]:
    """Activities not yet over that concern the user: for their village, their teams, the
    ones they signed up for, and (for organisers) the ones they run."""
    now = now or utcnow()
    teams = set(roles.member_of_teams | roles.leads_teams)
    mine = select(ActivitySignup.activity_id).where(
        ActivitySignup.user_id == user.id, ActivitySignup.status != SignupStatus.CANCELLED
    )
    who = [
        Activity.id.in_(mine),
        Activity.created_by_id == user.id,
        Activity.station_id.in_(roles.head_of_stations),
    ]
    if user.station_id is not None:
        who.append(Activity.station_id == user.station_id)
    if teams:
        who.append(Activity.team_id.in_(teams))
    if roles.admin:
        who.append(Activity.id.is_not(None))
    elif roles.office_towns:
        who.append(Activity.town_id.in_(roles.office_towns))
    rows = await session.scalars(
        select(Activity)
        .where(
            or_(*who),
            Activity.status != ActivityStatus.CANCELLED,
            Activity.ends_at > now - CHECKIN_LATE,
        )
        .order_by(Activity.starts_at, Activity.id)
        .limit(limit)
    )
    return list(rows)


def duration_hours(activity: Activity) -> Decimal:
    seconds = Decimal((activity.ends_at - activity.starts_at).total_seconds())
    return min(MAX_HOURS, (seconds / Decimal(3600)).quantize(CENT, ROUND_HALF_UP))
