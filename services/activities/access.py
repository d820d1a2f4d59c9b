"""Limits and who may do what with an activity: publish for a team or station, manage
it, see and join it. Loading an activity (locked, for sign-ups) and its sign-ups."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    MembershipStatus,
    Region,
    SignupStatus,
    Team,
    TeamMember,
    User,
)
from services import people
from services.attachments import PhotoIn as PhotoIn
from services.errors import NotAllowed
from services.i18n import N_
from services.outbox import NoticeKind, notify
from services.people import Roles
from services.uow import fresh, wrote

MAX_TITLE = 128
MAX_CONTENT = 1000
MAX_PLACE = 256
MAX_CAPACITY = 1000
MAX_WEEKS = 12
MAX_LENGTH = timedelta(hours=12)
MAX_AHEAD = timedelta(days=366)
MAX_HOURS = Decimal(24)
MAX_PHOTOS = 20
CHECKIN_EARLY = timedelta(hours=1)  # code and location check-in open this long before start
CHECKIN_LATE = timedelta(hours=1)  # … and close this long after the end
CHECKIN_RADIUS_M = 300  # a location within this distance of the place counts as there
HOUR_BEFORE = timedelta(hours=1)
EVENING_AT = time(19, 0)
NOTICE_LEAD = timedelta(days=6)  # later weeks of a series are announced this long before
CENT = Decimal("0.01")


def may_publish_for(roles: Roles, *, team: Team | None, station: Region | None) -> bool:
    """A team's leaders publish for the team, a station head for the station; the town
    office and admins for any of their town."""
    if roles.admin:
        return True
    if team is not None:
        return team.id in roles.leads_teams or team.town_id in roles.office_towns
    if station is not None:
        return station.id in roles.head_of_stations or station.parent_id in roles.office_towns
    return False


def may_manage(roles: Roles, activity: Activity) -> bool:
    """The organiser's side (attendance, photos, cancelling): whoever may publish for the
    activity's team or station, and whoever published it."""
    if roles.admin or activity.town_id in roles.office_towns:
        return True
    if roles.user_id == activity.created_by_id:
        return True
    if activity.team_id is not None and activity.team_id in roles.leads_teams:
        return True
    return activity.station_id is not None and activity.station_id in roles.head_of_stations


def check_actor(actor: User, roles: Roles) -> None:
    if roles.user_id != actor.id or actor.banned:
        raise NotAllowed(N_("You are not allowed to do this."))


async def _active_member_ids(session: AsyncSession, team_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(TeamMember.user_id).where(
                TeamMember.team_id == team_id, TeamMember.status == MembershipStatus.ACTIVE
            )
        )
    )


async def audience(session: AsyncSession, activity: Activity) -> list[User]:
    """Who is told of an activity: the team's active members, or the station's registered
    residents and its squad's members. Banned users and the publisher are left out."""
    if activity.team_id is not None:
        ids = await _active_member_ids(session, activity.team_id)
    else:
        ids = set(
            await session.scalars(
                select(User.id).where(
                    User.station_id == activity.station_id, User.registered.is_(True)
                )
            )
        )
        squad = await people.station_squad(session, activity.station_id or 0)
        if squad is not None:
            ids |= await _active_member_ids(session, squad.id)
    ids.discard(activity.created_by_id)
    if not ids:
        return []
    users = await session.scalars(
        select(User).where(User.id.in_(ids), User.banned.is_(False)).order_by(User.id)
    )
    return list(users)


async def may_join(session: AsyncSession, activity: Activity, user: User) -> bool:
    """A team's activity is for its members (and leaders); a station's activity is open to
    every registered person of the town."""
    if user.banned:
        return False
    if activity.team_id is not None:
        return user.id in await _active_member_ids(session, activity.team_id)
    return user.registered and user.town_id == activity.town_id


async def load_activity(session: AsyncSession, activity_id: int) -> Activity:
    return await fresh(session, Activity, activity_id, N_("This activity does not exist."))


async def managed(session: AsyncSession, activity_id: int, roles: Roles) -> Activity:
    """An activity for its organiser's side (code, attendance, photos, calling off); refused
    alike when it does not exist or is not theirs to manage."""
    activity = await session.get(Activity, activity_id)
    if activity is None or not may_manage(roles, activity):
        raise NotAllowed(N_("Only the organiser can do this."))
    return activity


async def organised(session: AsyncSession, activity_id: int, actor: User, roles: Roles) -> Activity:
    """The activity, for `actor` acting as its organiser (refused otherwise)."""
    check_actor(actor, roles)
    activity = await load_activity(session, activity_id)
    if not may_manage(roles, activity):
        raise NotAllowed(N_("Only the organiser can do this."))
    return activity


async def lock_activity(session: AsyncSession, activity_id: int) -> Activity:
    """Serialise sign-ups of one activity: a no-op UPDATE takes the row lock (PostgreSQL)
    or the write lock (SQLite) before places are counted."""
    wrote(session)
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(status=Activity.status)
        .execution_options(synchronize_session=False)
    )
    return await load_activity(session, activity_id)


async def signups_of(
    session: AsyncSession, activity_id: int, status: SignupStatus
) -> list[ActivitySignup]:
    rows = await session.scalars(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == status)
        .order_by(ActivitySignup.created_at, ActivitySignup.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def tell_member(
    session: AsyncSession, user_id: int, activity: Activity, tag: str, **params: Any
) -> None:
    """An update about the activity (`event=` in `params`) to one person, once per `tag`."""
    key, kind = f"act:{activity.id}:{tag}", NoticeKind.ACTIVITY_UPDATE
    await notify(session, user_id, kind, dedupe_key=key, activity_id=activity.id, **params)
