"""Published activities (the plan's "six haves": activities and records).

A team leader or a station head publishes an activity — title, content, place, start and
end, capacity, for a team or a station, optionally repeated weekly. Its audience (the team's
members, or the station's residents and squad) gets a notice with a Sign-up button. Sign-ups
respect the capacity; the rest wait on a waitlist, and a cancellation promotes the first in
line. Reminders are durable rows the scheduler fires. At the activity the organiser takes
attendance (a list, a one-time code, or a location near the place) and adds photos; the
attended hours enter the points ledger once.

Every public function that changes something is one transaction (it commits), except the
scheduler hooks `fire_activity_reminder`, which flush and leave the commit to the caller.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    MembershipStatus,
    PointsEntry,
    Region,
    RegionLevel,
    Reminder,
    ReminderKind,
    SignupStatus,
    Team,
    TeamKind,
    TeamMember,
    User,
    utcnow,
)
from services import people, points
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.numbering import next_number, town_prefix
from services.outbox import NoticeKind, notify, notify_many
from services.people import Roles
from services.points import LOCAL_TZ, PointsRules
from services.volunteers import WROTE, clean_text, transaction

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

PhotoIn = tuple[str, str, str | None]  # (file_id, file_unique_id, local_path)


# ---------------------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------------------


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


def _check_actor(actor: User, roles: Roles) -> None:
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


# ---------------------------------------------------------------------------------------
# Publishing
# ---------------------------------------------------------------------------------------


async def _assign_number(
    session: AsyncSession, activity: Activity, town: Region, tz: tzinfo
) -> None:
    """ "TA-HD-20261205-01": per town prefix and local day of the start."""
    stem = f"{town_prefix(town.code, 'AC')}-HD-{activity.starts_at.astimezone(tz):%Y%m%d}-"
    activity.number = await next_number(session, Activity.number, stem, width=2)
    await session.flush()


def new_checkin_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _reminder_times(
    starts_at: datetime, now: datetime, tz: tzinfo, evening_at: time
) -> list[tuple[str, datetime]]:
    """("evening", the evening before at `evening_at`) and ("hour", one hour before), those
    still ahead. The evening one is dropped when it would come within the last hour."""
    out = []
    day_before = starts_at.astimezone(tz).date() - timedelta(days=1)
    evening = datetime.combine(day_before, evening_at, tzinfo=tz).astimezone(UTC)
    if now < evening < starts_at - HOUR_BEFORE:
        out.append(("evening", evening))
    hour = starts_at - HOUR_BEFORE
    if now < hour:
        out.append(("hour", hour))
    return out


@dataclass(frozen=True)
class ActivityDraft:
    """What the organiser fills in; times are timezone-aware."""

    title: str
    content: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    team_id: int | None = None
    station_id: int | None = None
    weeks: int = 1  # 1: once; n > 1: weekly, n times
    latitude: float | None = None
    longitude: float | None = None


def _check_draft(draft: ActivityDraft, now: datetime) -> tuple[str, str, str]:
    if draft.starts_at.tzinfo is None or draft.ends_at.tzinfo is None:
        raise ValueError("activity times must be timezone-aware")
    if (draft.team_id is None) == (draft.station_id is None):
        raise DomainError(N_("Choose a team or a village for the activity."))
    title = clean_text(
        draft.title, limit=MAX_TITLE, required=True, what=N_("Please give the activity a title.")
    )
    content = clean_text(draft.content, limit=MAX_CONTENT, required=False, what="") or ""
    place = clean_text(
        draft.place, limit=MAX_PLACE, required=True, what=N_("Please say where it takes place.")
    )
    if draft.starts_at <= now:
        raise DomainError(N_("The activity must start in the future."))
    if draft.starts_at - now > MAX_AHEAD:
        raise DomainError(N_("The activity must start within a year."))
    if not timedelta(0) < draft.ends_at - draft.starts_at <= MAX_LENGTH:
        raise DomainError(N_("The activity must end after it starts, within 12 hours."))
    if draft.capacity is not None and not 1 <= draft.capacity <= MAX_CAPACITY:
        raise DomainError(N_("The number of places must be from 1 to {max}."), max=MAX_CAPACITY)
    if not 1 <= draft.weeks <= MAX_WEEKS:
        raise DomainError(N_("An activity can repeat for at most {max} weeks."), max=MAX_WEEKS)
    if (draft.latitude is None) != (draft.longitude is None) or (
        draft.latitude is not None
        and not (-90 <= draft.latitude <= 90 and -180 <= (draft.longitude or 0) <= 180)
    ):
        raise DomainError(N_("That location is not valid."))
    return title or "", content, place or ""


async def publish(
    session: AsyncSession,
    actor: User,
    roles: Roles,
    draft: ActivityDraft,
    *,
    tz: tzinfo = LOCAL_TZ,
    evening_at: time = EVENING_AT,
    now: datetime | None = None,
) -> list[Activity]:
    """Publish an activity (weekly: one row per week, each with its own sign-ups). Its
    audience gets a notice with a Sign-up button — a later week's notice waits until six
    days before it — and reminders are scheduled for the evening before and one hour
    before. Returns the activities, first first. Commits."""
    now = now or utcnow()
    async with transaction(session, actor):
        _check_actor(actor, roles)
        title, content, place = _check_draft(draft, now)
        team = await session.get(Team, draft.team_id) if draft.team_id else None
        station = await session.get(Region, draft.station_id) if draft.station_id else None
        if (draft.team_id and (team is None or not team.active)) or (
            draft.station_id and (station is None or station.parent_id is None)
        ):
            raise NotFound(N_("This team or village does not exist."))
        if not may_publish_for(roles, team=team, station=station):
            raise NotAllowed(N_("You can publish activities only for your own team or village."))
        town_id = team.town_id if team else station.parent_id  # type: ignore[union-attr]
        town = await session.get(Region, town_id)
        if town is None:
            raise NotFound(N_("This team or village does not exist."))
        created: list[Activity] = []
        for week in range(draft.weeks):
            shift = timedelta(weeks=week)
            activity = Activity(
                number=f"~{uuid.uuid4().hex[:30]}",  # placeholder until the lock is held
                title=title,
                content=content,
                place=place,
                latitude=draft.latitude,
                longitude=draft.longitude,
                starts_at=draft.starts_at + shift,
                ends_at=draft.ends_at + shift,
                capacity=draft.capacity,
                team_id=team.id if team else None,
                station_id=station.id if station else None,
                town_id=town.id,
                recurrence=f"weekly:{week + 1}/{draft.weeks}" if draft.weeks > 1 else None,
                status=ActivityStatus.PUBLISHED,
                created_by_id=actor.id,
                checkin_code=new_checkin_code(),
                created_at=now,
            )
            session.add(activity)
            await session.flush()
            await _assign_number(session, activity, town, tz)
            await _announce(session, activity, now)
            _schedule_reminders(session, activity, now, tz, evening_at)
            created.append(activity)
    return created


async def _announce(session: AsyncSession, activity: Activity, now: datetime) -> int:
    return await notify_many(
        session,
        await audience(session, activity),
        NoticeKind.ACTIVITY,
        dedupe_key=f"act:{activity.id}",  # + ":<user id>" per recipient
        not_before=max(now, activity.starts_at - NOTICE_LEAD),
        activity_id=activity.id,
        number=activity.number,
    )


def _schedule_reminders(
    session: AsyncSession, activity: Activity, now: datetime, tz: tzinfo, evening_at: time
) -> None:
    for which, due in _reminder_times(activity.starts_at, now, tz, evening_at):
        session.add(
            Reminder(
                kind=ReminderKind.ACTIVITY,
                due_at=due,
                activity_id=activity.id,
                dedupe_key=f"act:{activity.id}:reminder:{which}",
                note=which,
            )
        )


async def fire_activity_reminder(session: AsyncSession, reminder: Reminder, now: datetime) -> int:
    """The scheduler's hook for a due `ReminderKind.ACTIVITY` row: queue the reminder for
    everyone signed up (not the waitlist) and the organiser. Nothing once the activity has
    started or was cancelled. The one-hour reminder is urgent (it must not wait for the end
    of quiet hours). Returns how many notices were queued; flushes, does not commit, and
    does not mark the reminder fired (the scheduler does)."""
    if reminder.kind != ReminderKind.ACTIVITY or reminder.activity_id is None:
        return 0
    activity = await session.get(Activity, reminder.activity_id)
    if activity is None or activity.status != ActivityStatus.PUBLISHED:
        return 0
    if activity.starts_at <= now:
        return 0
    signed = list(
        await session.scalars(
            select(ActivitySignup.user_id)
            .where(
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.status == SignupStatus.SIGNED,
            )
            .order_by(ActivitySignup.id)
        )
    )
    count = await notify_many(
        session,
        [*signed, activity.created_by_id],
        NoticeKind.ACTIVITY_REMINDER,
        dedupe_key=f"act:{activity.id}:remind:{reminder.id}",
        urgent=reminder.note == "hour",
        activity_id=activity.id,
        number=activity.number,
        which=reminder.note or "hour",
    )
    await session.flush()
    return count


async def cancel_activity(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles, reason: str | None = None
) -> Activity:
    """The organiser calls an activity off before it starts: pending reminders are dropped
    and everyone signed up or waiting is told. Commits."""
    async with transaction(session, actor):
        _check_actor(actor, roles)
        activity = await _load(session, activity_id)
        if not may_manage(roles, activity):
            raise NotAllowed(N_("Only the organiser can do this."))
        if activity.status != ActivityStatus.PUBLISHED:
            raise Conflict(N_("This activity is already finished or cancelled."))
        why = clean_text(reason, limit=200, required=False, what="")
        activity.status = ActivityStatus.CANCELLED
        await session.execute(
            update(Reminder)
            .where(Reminder.activity_id == activity.id, Reminder.fired_at.is_(None))
            .values(cancelled=True)
        )
        people = await session.scalars(
            select(ActivitySignup.user_id).where(
                ActivitySignup.activity_id == activity.id,
                ActivitySignup.status.in_((SignupStatus.SIGNED, SignupStatus.WAITLIST)),
            )
        )
        await notify_many(
            session,
            list(people),
            NoticeKind.ACTIVITY_UPDATE,
            dedupe_key=f"act:{activity.id}:cancelled",
            activity_id=activity.id,
            event="cancelled",
            reason=why,
        )
    return activity


# ---------------------------------------------------------------------------------------
# Signing up
# ---------------------------------------------------------------------------------------


async def _load(session: AsyncSession, activity_id: int) -> Activity:
    activity = await session.scalar(
        select(Activity).where(Activity.id == activity_id).execution_options(populate_existing=True)
    )
    if activity is None:
        raise NotFound(N_("This activity does not exist."))
    return activity


async def _lock(session: AsyncSession, activity_id: int) -> Activity:
    """Serialise sign-ups of one activity: a no-op UPDATE takes the row lock (PostgreSQL)
    or the write lock (SQLite) before places are counted."""
    session.info[WROTE] = True
    await session.execute(
        update(Activity)
        .where(Activity.id == activity_id)
        .values(status=Activity.status)
        .execution_options(synchronize_session=False)
    )
    return await _load(session, activity_id)


async def _signups(
    session: AsyncSession, activity_id: int, status: SignupStatus
) -> list[ActivitySignup]:
    rows = await session.scalars(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status == status)
        .order_by(ActivitySignup.created_at, ActivitySignup.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


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
    async with transaction(session, user):
        activity = await _load(session, activity_id)
        if activity.status != ActivityStatus.PUBLISHED:
            raise Conflict(N_("This activity is already finished or cancelled."))
        if activity.starts_at <= now:
            raise Conflict(N_("This activity has already started."))
        if not await may_join(session, activity, user):
            raise NotAllowed(N_("This activity is for the members of its team only."))
        activity = await _lock(session, activity_id)
        mine = await session.scalar(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == user.id
            )
        )
        if mine is not None and mine.status != SignupStatus.CANCELLED:
            return await _result(session, activity.id, mine, already=True)
        signed = await _signups(session, activity.id, SignupStatus.SIGNED)
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
        queue = await _signups(session, activity_id, SignupStatus.WAITLIST)
        position = next((i for i, s in enumerate(queue, 1) if s.id == mine.id), None)
    return SignupResult(mine.status, position, already)


async def cancel_signup(
    session: AsyncSession, activity_id: int, user: User, *, now: datetime | None = None
) -> int | None:
    """Cancel one's own sign-up (or waitlist place) before the start. A freed place goes to
    the first on the waitlist, who is told. Returns the promoted user's id, if any.
    Commits."""
    now = now or utcnow()
    async with transaction(session, user):

        async def mine_now() -> ActivitySignup:
            found = await session.scalar(
                select(ActivitySignup)
                .where(ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user.id)
                .execution_options(populate_existing=True)
            )
            if found is None or found.status == SignupStatus.CANCELLED:
                raise NotFound(N_("You are not signed up for this activity."))
            return found

        activity = await _load(session, activity_id)
        await mine_now()  # refusals before the lock leave the caller's objects usable
        if activity.starts_at <= now or activity.status != ActivityStatus.PUBLISHED:
            raise Conflict(N_("This activity has already started."))
        activity = await _lock(session, activity_id)
        mine = await mine_now()
        freed = mine.status == SignupStatus.SIGNED
        mine.status = SignupStatus.CANCELLED
        await session.flush()
        promoted: int | None = None
        if freed:
            waiting = await _signups(session, activity.id, SignupStatus.WAITLIST)
            signed = await _signups(session, activity.id, SignupStatus.SIGNED)
            free = None if activity.capacity is None else activity.capacity - len(signed)
            if waiting and (free is None or free > 0):
                first = waiting[0]
                first.status = SignupStatus.SIGNED
                promoted = first.user_id
                await notify(
                    session,
                    first.user_id,
                    NoticeKind.ACTIVITY_UPDATE,
                    dedupe_key=f"act:{activity.id}:promoted:{first.id}:{int(now.timestamp())}",
                    activity_id=activity.id,
                    event="promoted",
                )
        await session.flush()
    return promoted


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Attendance
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceLine:
    user_id: int
    name: str
    status: SignupStatus
    attended: bool
    hours: Decimal | None
    booked: bool  # the hours are in the ledger


async def attendance(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles
) -> list[AttendanceLine]:
    """The sign-ups (signed first, then the waitlist) with who came, for the organiser."""
    activity = await _load(session, activity_id)
    if not may_manage(roles, activity) or roles.user_id != actor.id:
        raise NotAllowed(N_("Only the organiser can do this."))
    rows = await session.execute(
        select(ActivitySignup, User)
        .join(User, User.id == ActivitySignup.user_id)
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.status != SignupStatus.CANCELLED,
        )
        .order_by(ActivitySignup.status.desc(), ActivitySignup.created_at, ActivitySignup.id)
        .execution_options(populate_existing=True)
    )
    booked = await _booked(session, activity.id)
    return [
        AttendanceLine(
            user_id=u.id,
            name=u.name or f"#{u.id}",
            status=s.status,
            attended=s.attended,
            hours=s.hours,
            booked=u.id in booked,
        )
        for s, u in rows
    ]


async def _booked(session: AsyncSession, activity_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(PointsEntry.user_id).where(
                PointsEntry.dedupe_key.like(f"activity:{activity_id}:hours:%")
            )
        )
    )


def _attendance_open(activity: Activity, now: datetime) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise Conflict(N_("This activity is already finished or cancelled."))
    if now < activity.starts_at - CHECKIN_EARLY:
        raise Conflict(N_("Attendance opens an hour before the start."))


async def set_attended(
    session: AsyncSession,
    activity_id: int,
    actor: User,
    roles: Roles,
    user_id: int,
    attended: bool,
    *,
    now: datetime | None = None,
) -> ActivitySignup:
    """The organiser ticks (or unticks) someone on the list. Someone on the waitlist who
    came takes a place. Once their hours are booked, only a correction can change them.
    Commits."""
    now = now or utcnow()
    async with transaction(session, actor):
        _check_actor(actor, roles)
        activity = await _load(session, activity_id)
        if not may_manage(roles, activity):
            raise NotAllowed(N_("Only the organiser can do this."))
        _attendance_open(activity, now)
        signup = await session.scalar(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        if signup is None or signup.status == SignupStatus.CANCELLED:
            raise NotFound(N_("This person is not signed up for the activity."))
        if user_id in await _booked(session, activity.id):
            raise Conflict(N_("These hours are already recorded; the office can correct them."))
        signup.attended = attended
        signup.checked_in_at = now if attended else None
        if attended:
            signup.status = SignupStatus.SIGNED
        await session.flush()
    return signup


async def _check_in(
    session: AsyncSession, activity: Activity, user: User, now: datetime
) -> ActivitySignup:
    signup = await session.scalar(
        select(ActivitySignup)
        .where(ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == user.id)
        .execution_options(populate_existing=True)
    )
    if signup is None:
        signup = ActivitySignup(activity_id=activity.id, user_id=user.id, created_at=now)
        session.add(signup)
    if not signup.attended:
        signup.status, signup.attended, signup.checked_in_at = SignupStatus.SIGNED, True, now
    await session.flush()
    return signup


def in_checkin_window(activity: Activity, now: datetime) -> bool:
    return activity.starts_at - CHECKIN_EARLY <= now <= activity.ends_at + CHECKIN_LATE


async def check_in_by_code(
    session: AsyncSession, user: User, code: str, *, now: datetime | None = None
) -> Activity:
    """A volunteer types the code the organiser shows. Someone who came without signing up
    is added (if the activity is for them). Commits."""
    now = now or utcnow()
    text = (code or "").strip()
    async with transaction(session, user):
        if not (text.isdigit() and len(text) == 6):
            raise DomainError(N_("The code has 6 digits."))
        found = await session.scalars(
            select(Activity).where(
                Activity.checkin_code == text,
                Activity.status == ActivityStatus.PUBLISHED,
                Activity.starts_at <= now + CHECKIN_EARLY,
                Activity.ends_at >= now - CHECKIN_LATE,
            )
        )
        candidates = [a for a in found if await may_join(session, a, user)]
        if not candidates:
            raise NotFound(N_("That code is not valid now. Please check it with the organiser."))
        activity = candidates[0]
        await _check_in(session, activity, user, now)
    return activity


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


async def check_in_by_location(
    session: AsyncSession,
    user: User,
    latitude: float,
    longitude: float,
    *,
    now: datetime | None = None,
) -> Activity:
    """A volunteer sends their location: the nearest activity going on now (one they may
    join, with a known place) within 300 m checks them in. Commits."""
    now = now or utcnow()
    async with transaction(session, user):
        found = await session.scalars(
            select(Activity).where(
                Activity.status == ActivityStatus.PUBLISHED,
                Activity.latitude.is_not(None),
                Activity.starts_at <= now + CHECKIN_EARLY,
                Activity.ends_at >= now - CHECKIN_LATE,
            )
        )
        near: list[tuple[float, Activity]] = []
        for a in found:
            if await may_join(session, a, user):
                near.append((distance_m(latitude, longitude, a.latitude, a.longitude), a))  # type: ignore[arg-type]
        if not near:
            raise NotFound(N_("There is no activity to check in to right now."))
        metres, activity = min(near, key=lambda pair: pair[0])
        if metres > CHECKIN_RADIUS_M:
            raise DomainError(
                N_("You are about {metres} m from «{title}». Please check in at the place."),
                metres=int(round(metres, -1)),
                title=activity.title,
            )
        await _check_in(session, activity, user, now)
    return activity


def _hours(value: object) -> Decimal:
    try:
        h = Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(N_("Hours must be more than 0 and at most {max}."), max=24) from exc
    if not Decimal(0) < h <= MAX_HOURS:
        raise DomainError(N_("Hours must be more than 0 and at most {max}."), max=24)
    return h


async def finish(
    session: AsyncSession,
    activity_id: int,
    actor: User,
    roles: Roles,
    rules: PointsRules,
    *,
    hours: Decimal | str | None = None,
    per_person: dict[int, Decimal] | None = None,
    now: datetime | None = None,
) -> list[PointsEntry]:
    """The organiser closes attendance: everyone ticked gets their hours in the ledger —
    `per_person`, else `hours` for everyone, else the activity's length — once (finishing
    again books only people ticked since). The activity is done; attendees are told.
    Returns the ledger rows booked now. Commits."""
    now = now or utcnow()
    async with transaction(session, actor):
        _check_actor(actor, roles)
        activity = await _load(session, activity_id)
        if not may_manage(roles, activity):
            raise NotAllowed(N_("Only the organiser can do this."))
        if activity.status == ActivityStatus.CANCELLED:
            raise Conflict(N_("This activity is already finished or cancelled."))
        if now < activity.starts_at:
            raise Conflict(N_("The activity has not started yet."))
        default = _hours(hours) if hours is not None else duration_hours(activity)
        chosen = {int(k): _hours(v) for k, v in (per_person or {}).items()}
        came = [s for s in await _signups(session, activity.id, SignupStatus.SIGNED) if s.attended]
        if not came:
            raise DomainError(N_("Nobody is checked in yet."))
        booked = await _booked(session, activity.id)
        todo: dict[int, Decimal] = {}
        for s in came:
            if s.user_id in booked:
                continue
            h = chosen.get(s.user_id) or (Decimal(s.hours) if s.hours else None) or default
            s.hours = h
            todo[s.user_id] = h
        activity.status = ActivityStatus.DONE
        entries = await points.book_activity_hours(
            session, activity, todo, rules, by=actor, at=min(activity.ends_at, now)
        )
        for e in entries:
            await notify(
                session,
                e.user_id,
                NoticeKind.ACTIVITY_UPDATE,
                dedupe_key=f"act:{activity.id}:hours:{e.user_id}",
                activity_id=activity.id,
                event="hours",
                hours=str(e.hours),
                points=str(e.points),
            )
    return entries


async def add_photos(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles, photos: Sequence[PhotoIn]
) -> int:
    """The organiser files photos of the activity (its record). The same photo twice is
    kept once. Returns how many were added. Commits."""
    async with transaction(session, actor):
        _check_actor(actor, roles)
        activity = await _load(session, activity_id)
        if not may_manage(roles, activity):
            raise NotAllowed(N_("Only the organiser can do this."))
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise DomainError(N_("Please send between 1 and {max} photos."), max=MAX_PHOTOS)
        have = set(
            await session.scalars(
                select(Attachment.file_unique_id).where(Attachment.activity_id == activity.id)
            )
        )
        added = 0
        for file_id, unique_id, local_path in photos:
            if unique_id in have:
                continue
            have.add(unique_id)
            session.add(
                Attachment(
                    activity_id=activity.id,
                    kind=AttachmentKind.PHOTO,
                    stage=AttachmentStage.ACTIVITY,
                    file_id=file_id,
                    file_unique_id=unique_id,
                    local_path=local_path,
                    uploaded_by_id=actor.id,
                    created_at=utcnow(),
                )
            )
            added += 1
        await session.flush()
    return added


async def publishable_targets(
    session: AsyncSession, roles: Roles
) -> tuple[list[Team], list[Region]]:
    """The teams and stations a person may publish activities for."""
    teams = await session.scalars(
        select(Team).where(Team.active.is_(True)).order_by(Team.kind, Team.sort, Team.id)
    )
    stations = await session.scalars(
        select(Region)
        .where(Region.parent_id.is_not(None), Region.active.is_(True))
        .order_by(Region.sort, Region.id)
    )
    return (
        [
            t
            for t in teams
            if t.kind == TeamKind.SPECIALIST and may_publish_for(roles, team=t, station=None)
        ],
        [
            s
            for s in stations
            if s.level == RegionLevel.STATION and may_publish_for(roles, team=None, station=s)
        ],
    )
