"""At the activity: attendance by list, one-time code or location, finishing with
hours into the points ledger (once), and photos."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Attachment,
    AttachmentStage,
    CheckinTry,
    PointsEntry,
    SignupStatus,
    User,
    utcnow,
)
from models.db import dialect_insert
from services import points
from services.activities.access import (
    CHECKIN_EARLY,
    CHECKIN_LATE,
    CHECKIN_RADIUS_M,
    MAX_HOURS,
    MAX_PHOTOS,
    PhotoIn,
    load_activity,
    may_join,
    may_manage,
    organised,
    signups_of,
    tell_member,
)
from services.activities.signups import (
    duration_hours,
)
from services.attachments import as_photos, keep_files
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.hours import parse_hours
from services.i18n import N_
from services.people import Roles
from services.points import PointsRules
from services.uow import unit

WRONG_CODES_MAX = 5  # wrong codes per person and activity; then only the list ticks them


@dataclass(frozen=True)
class AttendanceLine:
    user_id: int
    name: str
    status: SignupStatus
    attended: bool
    hours: Decimal | None
    booked: bool  # the hours are in the ledger
    unverified: bool = False  # checked in by a location that was not live


@dataclass(frozen=True)
class AttendanceSheet:
    """The organiser's attendance list of one activity."""

    activity_id: int
    title: str
    lines: list[AttendanceLine]


async def attendance_sheet(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles
) -> AttendanceSheet:
    """The sign-ups (signed first, then the waitlist) with who came, for the organiser."""
    activity = await load_activity(session, activity_id)
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
    lines = [
        AttendanceLine(
            user_id=u.id,
            name=u.name or f"#{u.id}",
            status=s.status,
            attended=s.attended,
            hours=s.hours,
            booked=u.id in booked,
            unverified=s.location_unverified,
        )
        for s, u in rows
    ]
    return AttendanceSheet(activity.id, activity.title, lines)


async def attendance(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles
) -> list[AttendanceLine]:
    return (await attendance_sheet(session, activity_id, actor, roles)).lines


async def _booked(session: AsyncSession, activity_id: int) -> set[int]:
    return set(
        await session.scalars(
            select(PointsEntry.user_id).where(
                PointsEntry.dedupe_key.like(f"activity:{activity_id}:hours:%")
            )
        )
    )


async def toggle_attended(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles, user_id: int
) -> AttendanceSheet:
    """The organiser taps a name on the list: ticked becomes unticked and the other way
    round. Commits; returns the list as it is now."""
    before = await attendance(session, activity_id, actor, roles)
    line = next((x for x in before if x.user_id == user_id), None)
    attended = not (line.attended if line else False)
    await set_attended(session, activity_id, actor, roles, user_id, attended)
    return await attendance_sheet(session, activity_id, actor, roles)


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
    async with unit(session, actor):
        activity = await organised(session, activity_id, actor, roles)
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
    # Insert-or-nothing, then tick if not ticked yet: a double tap (two check-ins of one
    # person at once) finds the other's row instead of failing on the unique constraint.
    await session.execute(
        dialect_insert(session)(ActivitySignup)
        .values(
            activity_id=activity.id,
            user_id=user.id,
            status=SignupStatus.SIGNED,
            attended=True,
            checked_in_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["activity_id", "user_id"])
    )
    await session.execute(
        update(ActivitySignup)
        .where(
            ActivitySignup.activity_id == activity.id,
            ActivitySignup.user_id == user.id,
            ActivitySignup.attended.is_(False),
        )
        .values(status=SignupStatus.SIGNED, attended=True, checked_in_at=now)
        .execution_options(synchronize_session=False)
    )
    return (
        await session.scalars(
            select(ActivitySignup)
            .where(ActivitySignup.activity_id == activity.id, ActivitySignup.user_id == user.id)
            .execution_options(populate_existing=True)
        )
    ).one()


def in_checkin_window(activity: Activity, now: datetime) -> bool:
    return activity.starts_at - CHECKIN_EARLY <= now <= activity.ends_at + CHECKIN_LATE


async def check_in_by_code(
    session: AsyncSession, user: User, code: str, *, now: datetime | None = None
) -> Activity:
    """A volunteer types the code the organiser shows. Someone who came without signing up
    is added (if the activity is for them). Commits."""
    now = now or utcnow()
    text = (code or "").strip()
    if not (text.isdigit() and len(text) == 6):
        raise DomainError(N_("The code has 6 digits."))
    async with unit(session, user):
        found = await session.scalars(
            select(Activity)
            .where(
                Activity.status == ActivityStatus.PUBLISHED,
                Activity.starts_at <= now + CHECKIN_EARLY,
                Activity.ends_at >= now - CHECKIN_LATE,
            )
            .order_by(Activity.starts_at, Activity.id)
        )
        open_now = [a for a in found if await may_join(session, a, user)]
        tries = await _wrong_tries(session, user.id, [a.id for a in open_now])
        still = [a for a in open_now if tries.get(a.id, 0) < WRONG_CODES_MAX]
        right = next((a for a in open_now if a.checkin_code == text), None)
        if right is not None and right in still:
            await _check_in(session, right, user, now)
            return right
        if right is None:  # a wrong guess counts against every activity it could be for
            for a in still:
                await _count_wrong(session, a.id, user.id)
                tries[a.id] = tries.get(a.id, 0) + 1
    # committed: a refused guess still counts
    if open_now and (right is not None or all(tries[a.id] >= WRONG_CODES_MAX for a in open_now)):
        raise NotAllowed(N_("That did not work. Please ask the organiser to tick you on the list."))
    raise NotFound(N_("That code is not valid now. Please check it with the organiser."))


async def _wrong_tries(
    session: AsyncSession, user_id: int, activity_ids: list[int]
) -> dict[int, int]:
    rows = await session.execute(
        select(CheckinTry.activity_id, CheckinTry.wrong).where(
            CheckinTry.user_id == user_id, CheckinTry.activity_id.in_(activity_ids)
        )
    )
    return {activity_id: wrong for activity_id, wrong in rows}


async def _count_wrong(session: AsyncSession, activity_id: int, user_id: int) -> None:
    insert = dialect_insert(session)(CheckinTry).values(
        activity_id=activity_id, user_id=user_id, wrong=1
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["activity_id", "user_id"], set_={"wrong": CheckinTry.wrong + 1}
        )
    )


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
    live: bool = True,
    now: datetime | None = None,
) -> Activity:
    """A volunteer sends their location: the nearest activity going on now (one they may
    join, with a known place) within 300 m checks them in. A location that was not `live`
    (it may have been picked on the map) still checks them in, marked for the organiser.
    Commits."""
    now = now or utcnow()
    async with unit(session, user):
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
            if a.latitude is None or a.longitude is None:  # the query asks for a place
                continue
            if await may_join(session, a, user):
                near.append((distance_m(latitude, longitude, a.latitude, a.longitude), a))
        if not near:
            raise NotFound(N_("There is no activity to check in to right now."))
        metres, activity = min(near, key=lambda pair: pair[0])
        if metres > CHECKIN_RADIUS_M:
            raise DomainError(
                N_("You are about {metres} m from «{title}». Please check in at the place."),
                metres=int(round(metres, -1)),
                title=activity.title,
            )
        signup = await _check_in(session, activity, user, now)
        if not live and not signup.location_unverified:
            signup.location_unverified = True
    return activity


def _hours(value: object) -> Decimal:
    return parse_hours(value, most=MAX_HOURS)


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
    async with unit(session, actor):
        activity = await organised(session, activity_id, actor, roles)
        if activity.status == ActivityStatus.CANCELLED:
            raise Conflict(N_("This activity is already finished or cancelled."))
        if now < activity.starts_at:
            raise Conflict(N_("The activity has not started yet."))
        default = _hours(hours) if hours is not None else duration_hours(activity)
        chosen = {int(k): _hours(v) for k, v in (per_person or {}).items()}
        came = [
            s for s in await signups_of(session, activity.id, SignupStatus.SIGNED) if s.attended
        ]
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
            booked_now = {"hours": str(e.hours), "points": str(e.points)}
            tag = f"hours:{e.user_id}"
            await tell_member(session, e.user_id, activity, tag, event="hours", **booked_now)
    return entries


async def add_photos(
    session: AsyncSession, activity_id: int, actor: User, roles: Roles, photos: Sequence[PhotoIn]
) -> int:
    """The organiser files photos of the activity (its record). The same photo twice is
    kept once. Returns how many were added. Commits."""
    async with unit(session, actor):
        activity = await organised(session, activity_id, actor, roles)
        if not 1 <= len(photos) <= MAX_PHOTOS:
            raise DomainError(N_("Please send between 1 and {max} photos."), max=MAX_PHOTOS)
        have = set(
            await session.scalars(
                select(Attachment.file_unique_id).where(Attachment.activity_id == activity.id)
            )
        )
        new: list[PhotoIn] = []
        for photo in photos:
            if photo[1] not in have:  # (file_id, file_unique_id, local_path)
                have.add(photo[1])
                new.append(photo)
        keep_files(
            session, as_photos(new), AttachmentStage.ACTIVITY, actor, activity_id=activity.id
        )
        await session.flush()
    return len(new)
