"""Activities: publishing to the right audience, sign-ups with capacity and a waitlist,
reminders, attendance by list, code and location, hours into the ledger once, photos."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    Activity,
    ActivityStatus,
    Attachment,
    AttachmentStage,
    LedgerSource,
    OutboxMessage,
    PointsEntry,
    Reminder,
    ReminderKind,
    SignupStatus,
    User,
)
from services import activities
from services.activities import ActivityDraft
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.outbox import NoticeKind
from services.points import DEFAULT_RULES, LOCAL_TZ
from tests.factories import CTX, make_cast, make_user, make_volunteer, roles_for

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Taole
START = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # Saturday 09:00 local
PLACE = (38.80, 106.60)


def draft(**changes) -> ActivityDraft:
    values = {
        "title": "义诊进村",
        "content": "量血压、测血糖",
        "place": "庙庙湖村委会",
        "starts_at": START,
        "ends_at": START + timedelta(hours=2, minutes=30),
        "capacity": 2,
        "latitude": PLACE[0],
        "longitude": PLACE[1],
    }
    return ActivityDraft(**{**values, **changes})


async def _notices(session, kind: str) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.payload["kind"].as_string() == kind)
            .order_by(OutboxMessage.id)
        )
    )


async def _publish(session, actor, **changes) -> Activity:
    [activity] = await activities.publish(
        session, actor, await roles_for(session, actor), draft(**changes), now=NOW, tz=LOCAL_TZ
    )
    return activity


async def test_a_leader_publishes_to_the_team_with_reminders(session):
    cast = await make_cast(session)
    org = cast.org
    activity = await _publish(session, cast.health_leader, team_id=org.health.id)
    assert activity.number == "TA-HD-20261205-01"
    assert activity.town_id == org.town.id and activity.status == ActivityStatus.PUBLISHED
    assert len(activity.checkin_code) == 6 and activity.checkin_code.isdigit()
    notices = await _notices(session, NoticeKind.ACTIVITY)
    # the team's members and its other leader; not the publisher, not the law team
    assert {n.user_id for n in notices} == {
        cast.health_leader2.id,
        cast.health_vol.id,
        cast.health_vol2.id,
    }
    assert {n.dedupe_key for n in notices} == {f"act:{activity.id}:{n.user_id}" for n in notices}
    assert not any(n.urgent for n in notices)
    reminders = (
        await session.scalars(select(Reminder).where(Reminder.activity_id == activity.id))
    ).all()
    due = {r.note: r.due_at.astimezone(LOCAL_TZ) for r in reminders}
    assert {r.kind for r in reminders} == {ReminderKind.ACTIVITY}
    assert due["evening"].isoformat() == "2026-12-04T19:00:00+08:00"
    assert due["hour"].isoformat() == "2026-12-05T08:00:00+08:00"
    second = await _publish(session, cast.health_leader, team_id=org.health.id)
    assert second.number == "TA-HD-20261205-02"


async def test_a_station_head_publishes_to_the_village_residents_and_squad(session):
    cast = await make_cast(session)
    org = cast.org
    squad_member = await make_volunteer(session, org.east_squad, name="小分队员")  # lives nowhere
    unregistered = await make_user(session, station=org.east)
    unregistered.registered = False
    await session.commit()
    activity = await _publish(session, cast.east_head, station_id=org.east.id, capacity=None)
    told = {n.user_id for n in await _notices(session, NoticeKind.ACTIVITY)}
    assert told == {cast.resident.id, cast.neighbour.id, squad_member.id}
    assert cast.west_resident.id not in told and activity.team_id is None
    # a head cannot publish for another village, nor a volunteer at all
    with pytest.raises(NotAllowed):
        await _publish(session, cast.east_head, station_id=org.west.id)
    with pytest.raises(NotAllowed):
        await _publish(session, cast.health_vol, team_id=org.health.id)
    # the office may publish for any station of its town
    await _publish(session, cast.office, station_id=org.west.id)


async def test_publishing_checks_the_draft(session):
    cast = await make_cast(session)
    team = {"team_id": cast.org.health.id}
    leader = cast.health_leader
    for bad, msgid in [
        ({"title": " "}, "title"),
        ({"starts_at": NOW - timedelta(hours=1)}, "future"),
        ({"ends_at": START}, "end after"),
        ({"ends_at": START + timedelta(hours=13)}, "12 hours"),
        ({"capacity": 0}, "places"),
        ({"weeks": 13}, "weeks"),
        ({"latitude": 95.0}, "location"),
        ({"team_id": None}, "team or a village"),
    ]:
        with pytest.raises(DomainError, match=msgid):
            await _publish(session, leader, **{**team, **bad})
    assert await session.scalar(select(func.count(Activity.id))) == 0


async def test_weekly_activity_is_one_row_a_week_announced_ahead_of_each(session):
    cast = await make_cast(session)
    created = await activities.publish(
        session,
        cast.health_leader,
        await roles_for(session, cast.health_leader),
        draft(team_id=cast.org.health.id, weeks=3),
        now=NOW,
        tz=LOCAL_TZ,
    )
    assert [a.recurrence for a in created] == ["weekly:1/3", "weekly:2/3", "weekly:3/3"]
    assert [a.starts_at - START for a in created] == [timedelta(weeks=w) for w in range(3)]
    assert [a.number for a in created] == [
        "TA-HD-20261205-01",
        "TA-HD-20261212-01",
        "TA-HD-20261219-01",
    ]
    notices = await _notices(session, NoticeKind.ACTIVITY)
    first_week = [n for n in notices if n.payload["activity_id"] == created[0].id]
    third_week = [n for n in notices if n.payload["activity_id"] == created[2].id]
    assert {n.not_before for n in first_week} == {NOW}  # at once
    assert {n.not_before for n in third_week} == {created[2].starts_at - timedelta(days=6)}
    assert await session.scalar(select(func.count(Reminder.id))) == 6


async def test_capacity_waitlist_and_promotion(session):
    cast = await make_cast(session)
    org = cast.org
    extra = await make_volunteer(session, org.health, name="钱志愿")
    await session.commit()
    activity = await _publish(session, cast.health_leader, team_id=org.health.id)
    a, b, c, d = cast.health_vol, cast.health_vol2, extra, cast.health_leader2
    assert (await activities.sign_up(session, activity.id, a, now=NOW)).status == "signed"
    again = await activities.sign_up(session, activity.id, a, now=NOW)
    assert again.already and again.status == SignupStatus.SIGNED
    assert (await activities.sign_up(session, activity.id, b, now=NOW)).status == "signed"
    third = await activities.sign_up(session, activity.id, c, now=NOW + timedelta(seconds=1))
    assert (third.status, third.position) == (SignupStatus.WAITLIST, 1)
    fourth = await activities.sign_up(session, activity.id, d, now=NOW + timedelta(seconds=2))
    assert (fourth.status, fourth.position) == (SignupStatus.WAITLIST, 2)
    assert await activities.places(session, activity.id) == activities.Places(2, 2, 2)

    with pytest.raises(NotAllowed):  # a team's activity is for its members
        await activities.sign_up(session, activity.id, cast.law_vol, now=NOW)
    # a waitlisted person leaving frees nothing
    assert await activities.cancel_signup(session, activity.id, d, now=NOW) is None
    # a signed person leaving promotes the first in line, who is told
    assert await activities.cancel_signup(session, activity.id, a, now=NOW) == c.id
    assert (await activities.my_signup(session, activity.id, c.id)).status == SignupStatus.SIGNED
    [told] = await _notices(session, NoticeKind.ACTIVITY_UPDATE)
    assert (told.user_id, told.payload["event"]) == (c.id, "promoted")
    with pytest.raises(NotFound):
        await activities.cancel_signup(session, activity.id, a, now=NOW)
    # signing up again after cancelling goes to the back of the line
    back = await activities.sign_up(session, activity.id, a, now=NOW + timedelta(minutes=1))
    assert (back.status, back.position) == (SignupStatus.WAITLIST, 1)
    with pytest.raises(Conflict):
        await activities.sign_up(session, activity.id, d, now=START)
    with pytest.raises(Conflict):
        await activities.cancel_signup(session, activity.id, b, now=START)


async def test_concurrent_sign_ups_never_overfill(sessionmaker):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        people = [await make_volunteer(s, cast.org.health) for _ in range(6)]
        await s.commit()
        activity = await _publish(s, cast.health_leader, team_id=cast.org.health.id)

    async def join(person: User):
        async with sessionmaker() as s:
            me = await s.get(User, person.id)
            return (await activities.sign_up(s, activity.id, me, now=NOW)).status

    results = await asyncio.gather(*(join(p) for p in people))
    assert sorted(results) == ["signed"] * 2 + ["waitlist"] * 4


async def test_reminders_go_to_those_signed_up_and_the_organiser(session):
    cast = await make_cast(session)
    org = cast.org
    activity = await _publish(session, cast.health_leader, team_id=org.health.id, capacity=1)
    await activities.sign_up(session, activity.id, cast.health_vol, now=NOW)
    await activities.sign_up(session, activity.id, cast.health_vol2, now=NOW)  # waitlist
    reminders = {
        r.note: r
        for r in await session.scalars(select(Reminder).where(Reminder.activity_id == activity.id))
    }
    evening, hour = reminders["evening"], reminders["hour"]
    assert await activities.fire_activity_reminder(session, CTX, evening, evening.due_at) == 2
    assert await activities.fire_activity_reminder(session, CTX, evening, evening.due_at) == 0
    assert await activities.fire_activity_reminder(session, CTX, hour, hour.due_at) == 2
    await session.commit()
    sent = await _notices(session, NoticeKind.ACTIVITY_REMINDER)
    assert {n.user_id for n in sent} == {cast.health_vol.id, cast.health_leader.id}
    assert {(n.payload["which"], n.urgent) for n in sent} == {("evening", False), ("hour", True)}
    # too late, or called off: nothing
    assert await activities.fire_activity_reminder(session, CTX, hour, START) == 0
    await activities.cancel_activity(
        session,
        activity.id,
        cast.health_leader,
        await roles_for(session, cast.health_leader),
        reason="下雨",
    )
    assert await activities.fire_activity_reminder(session, CTX, hour, hour.due_at) == 0
    await session.refresh(hour)
    assert hour.cancelled
    cancelled = await _notices(session, NoticeKind.ACTIVITY_UPDATE)
    assert {n.user_id for n in cancelled} == {cast.health_vol.id, cast.health_vol2.id}
    assert cancelled[0].payload["reason"] == "下雨"


async def test_attendance_by_code_location_and_list_then_hours_once(session):
    cast = await make_cast(session)
    org = cast.org
    leader, lroles = cast.health_leader, await roles_for(session, cast.health_leader)
    a, b, c = cast.health_vol, cast.health_vol2, cast.health_leader2
    walk_in = await make_volunteer(session, org.health, name="临时来")
    await session.commit()
    activity = await _publish(session, leader, team_id=org.health.id, capacity=None)
    for person in (a, b, c):
        await activities.sign_up(session, activity.id, person, now=NOW)
    during = START + timedelta(minutes=20)

    with pytest.raises(Conflict, match="hour before"):
        await activities.set_attended(
            session, activity.id, leader, lroles, a.id, True, now=START - timedelta(hours=2)
        )
    with pytest.raises(NotFound):
        await activities.check_in_by_code(
            session, a, "000000" if activity.checkin_code != "000000" else "111111", now=during
        )
    with pytest.raises(DomainError, match="6 digits"):
        await activities.check_in_by_code(session, a, "12", now=during)
    with pytest.raises(NotFound):  # the right code, too early
        await activities.check_in_by_code(
            session, a, activity.checkin_code, now=START - timedelta(hours=3)
        )
    assert (
        await activities.check_in_by_code(session, a, activity.checkin_code, now=during)
    ).id == activity.id
    # someone who came without signing up is added by their code
    await activities.check_in_by_code(session, walk_in, activity.checkin_code, now=during)
    # b is 2 km away, then at the gate (about 100 m)
    with pytest.raises(DomainError, match="m from"):
        await activities.check_in_by_location(session, b, PLACE[0] + 0.018, PLACE[1], now=during)
    await activities.check_in_by_location(session, b, PLACE[0] + 0.0009, PLACE[1], now=during)
    # the leader ticks c on the list, and unticks the walk-in's mistaken check-in… then again
    await activities.set_attended(session, activity.id, leader, lroles, c.id, True, now=during)
    await activities.set_attended(
        session, activity.id, leader, lroles, walk_in.id, False, now=during
    )
    await activities.set_attended(
        session, activity.id, leader, lroles, walk_in.id, True, now=during
    )
    lines = await activities.attendance(session, activity.id, leader, lroles)
    assert {line.name: line.attended for line in lines} == {
        a.name: True,
        b.name: True,
        c.name: True,
        walk_in.name: True,
    }
    with pytest.raises(NotAllowed):
        await activities.attendance(session, activity.id, a, await roles_for(session, a))

    booked = await activities.finish(
        session,
        activity.id,
        leader,
        lroles,
        DEFAULT_RULES,
        per_person={c.id: Decimal(1)},
        now=START + timedelta(hours=3),
    )
    hours = {e.user_id: (e.hours, e.points, e.source) for e in booked}
    assert hours == {
        a.id: (Decimal("2.50"), Decimal("25.00"), LedgerSource.ACTIVITY),
        b.id: (Decimal("2.50"), Decimal("25.00"), LedgerSource.ACTIVITY),
        c.id: (Decimal("1.00"), Decimal("10.00"), LedgerSource.ACTIVITY),
        walk_in.id: (Decimal("2.50"), Decimal("25.00"), LedgerSource.ACTIVITY),
    }
    assert {e.at for e in booked} == {activity.ends_at}
    assert (await session.get(Activity, activity.id)).status == ActivityStatus.DONE
    told = await _notices(session, NoticeKind.ACTIVITY_UPDATE)
    assert {n.user_id for n in told} == {a.id, b.id, c.id, walk_in.id}
    # finishing again books nothing; unticking a booked person needs a correction
    assert (
        await activities.finish(
            session, activity.id, leader, lroles, DEFAULT_RULES, now=START + timedelta(hours=4)
        )
        == []
    )
    with pytest.raises(Conflict, match="correct"):
        await activities.set_attended(
            session, activity.id, leader, lroles, a.id, False, now=START + timedelta(hours=4)
        )
    assert await session.scalar(select(func.count(PointsEntry.id))) == 4


async def test_finish_rules_and_hours_entered_by_the_leader(session):
    cast = await make_cast(session)
    leader, lroles = cast.health_leader, await roles_for(session, cast.health_leader)
    activity = await _publish(session, leader, team_id=cast.org.health.id)
    await activities.sign_up(session, activity.id, cast.health_vol, now=NOW)
    with pytest.raises(Conflict, match="not started"):
        await activities.finish(session, activity.id, leader, lroles, DEFAULT_RULES, now=NOW)
    with pytest.raises(DomainError, match="Nobody"):
        await activities.finish(session, activity.id, leader, lroles, DEFAULT_RULES, now=START)
    await activities.set_attended(
        session, activity.id, leader, lroles, cast.health_vol.id, True, now=START
    )
    for wrong in ("25", "NaN", "inf", "-Infinity", "sNaN"):
        with pytest.raises(DomainError, match="Hours"):
            await activities.finish(
                session, activity.id, leader, lroles, DEFAULT_RULES, hours=wrong, now=START
            )
    [entry] = await activities.finish(
        session, activity.id, leader, lroles, DEFAULT_RULES, hours="1.5", now=START
    )
    assert (entry.hours, entry.points, entry.at) == (Decimal("1.50"), Decimal("15.00"), START)
    other = cast.law_leader
    with pytest.raises(NotAllowed):
        await activities.finish(
            session, activity.id, other, await roles_for(session, other), DEFAULT_RULES, now=START
        )


async def test_photos_are_filed_with_the_activity_once(session):
    cast = await make_cast(session)
    leader, lroles = cast.health_leader, await roles_for(session, cast.health_leader)
    activity = await _publish(session, leader, team_id=cast.org.health.id)
    photos = [("f1", "u1", "data/media/u1.jpg"), ("f2", "u2", None)]
    assert await activities.add_photos(session, activity.id, leader, lroles, photos) == 2
    assert await activities.add_photos(session, activity.id, leader, lroles, photos[:1]) == 0
    rows = (
        await session.scalars(select(Attachment).where(Attachment.activity_id == activity.id))
    ).all()
    assert {(r.stage, r.file_unique_id) for r in rows} == {
        (AttachmentStage.ACTIVITY, "u1"),
        (AttachmentStage.ACTIVITY, "u2"),
    }
    vol = cast.health_vol
    with pytest.raises(NotAllowed):
        await activities.add_photos(
            session, activity.id, vol, await roles_for(session, vol), photos
        )


async def test_upcoming_lists_what_concerns_me(session):
    cast = await make_cast(session)
    org = cast.org
    team_act = await _publish(session, cast.health_leader, team_id=org.health.id)
    east_act = await _publish(session, cast.east_head, station_id=org.east.id)
    west_act = await _publish(session, cast.west_head, station_id=org.west.id)

    async def ids(user):
        got = await activities.upcoming_for(session, user, await roles_for(session, user), now=NOW)
        return {a.id for a in got}

    assert await ids(cast.health_vol) == {team_act.id}
    assert await ids(cast.resident) == {east_act.id}
    assert await ids(cast.office) == {team_act.id, east_act.id, west_act.id}
    assert await ids(cast.west_head) == {west_act.id}
    # after the end (and the late check-in hour) it is gone
    later = START + timedelta(hours=4)
    roles = await roles_for(session, cast.resident)
    assert await activities.upcoming_for(session, cast.resident, roles, now=later) == []


def test_distance_is_roughly_right():
    # one thousandth of a degree of latitude is about 111 m
    assert 110 < activities.distance_m(38.8, 106.6, 38.801, 106.6) < 112
