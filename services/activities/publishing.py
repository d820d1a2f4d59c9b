"""Publishing an activity (optionally weekly), announcing it to its audience, its
reminders, and cancelling it."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Region,
    RegionLevel,
    Reminder,
    ReminderKind,
    SignupStatus,
    Team,
    TeamKind,
    User,
    utcnow,
)
from services.activities.access import (
    EVENING_AT,
    HOUR_BEFORE,
    MAX_AHEAD,
    MAX_CAPACITY,
    MAX_CONTENT,
    MAX_LENGTH,
    MAX_PLACE,
    MAX_TITLE,
    MAX_WEEKS,
    NOTICE_LEAD,
    audience,
    check_actor,
    may_publish_for,
    organised,
)
from services.context import Ctx
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.i18n import N_
from services.numbering import next_number, town_prefix
from services.outbox import NoticeKind, notify_many
from services.people import Roles
from services.uow import unit
from services.volunteers.common import clean_text


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
    tz: tzinfo,
    evening_at: time = EVENING_AT,
    now: datetime | None = None,
) -> list[Activity]:
    """Publish an activity (weekly: one row per week, each with its own sign-ups). Its
    audience gets a notice with a Sign-up button — a later week's notice waits until six
    days before it — and reminders are scheduled for the evening before and one hour
    before. Returns the activities, first first. Commits."""
    now = now or utcnow()
    async with unit(session, actor):
        check_actor(actor, roles)
        title, content, place = _check_draft(draft, now)
        team = await session.get(Team, draft.team_id) if draft.team_id else None
        station = await session.get(Region, draft.station_id) if draft.station_id else None
        if (draft.team_id and (team is None or not team.active)) or (
            draft.station_id and (station is None or station.parent_id is None)
        ):
            raise NotFound(N_("This team or village does not exist."))
        if not may_publish_for(roles, team=team, station=station):
            raise NotAllowed(N_("You can publish activities only for your own team or village."))
        if team is not None:
            town_id = team.town_id
        elif station is not None and station.parent_id is not None:
            town_id = station.parent_id
        else:
            raise NotFound(N_("This team or village does not exist."))
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


async def fire_activity_reminder(
    session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime
) -> int:
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
    async with unit(session, actor):
        activity = await organised(session, activity_id, actor, roles)
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
