"""Check-in codes cannot be guessed: wrong codes are counted per person and activity, and a
new /checkin does not start over; after five, even the right code is refused (the organiser
ticks them on the list). A location that was not live still checks in, marked for the
organiser."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import ActivitySignup, Role, User, utcnow
from services import activities, people
from tests.harness import BotEnv
from tests.matrix_world import blood_pressure_day

PLACE = (38.80, 106.60)


async def _open_activity(env: BotEnv) -> tuple[int, str]:
    """A health team activity starting in half an hour: open for check-in now."""
    async with env.sessionmaker() as s:
        team = await env.team("health")
        leader = await s.scalar(select(User).where(User.name == "Health Leader"))
        assert leader is not None
        activity = await blood_pressure_day(
            s,
            leader,
            team.id,
            utcnow() + timedelta(minutes=30),
            env.settings.tz,
            latitude=PLACE[0],
            longitude=PLACE[1],
        )
        return activity.id, activity.checkin_code


async def _signup(env: BotEnv, activity_id: int, user_id: int) -> ActivitySignup | None:
    async with env.sessionmaker() as s:
        return await s.scalar(
            select(ActivitySignup).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id
            )
        )


async def test_a_new_checkin_does_not_reset_the_wrong_codes(bot_env):
    env: BotEnv = bot_env
    await env.person("Health Leader", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Health Volunteer", role=Role.VOLUNTEER, team="health")
    activity_id, code = await _open_activity(env)
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    # three wrong codes, start again, two more: five for this activity
    await vol.send("/checkin")
    await vol.expect(contains="6-digit code")
    for guess in wrong[:3]:
        await vol.send(guess)
        await vol.expect(contains="not valid now")
    await vol.send("/checkin")
    await vol.expect(contains="6-digit code")
    for guess in wrong[3:]:
        await vol.send(guess)
    await vol.expect(contains="ask the organiser")
    await vol.send("/checkin")
    await vol.expect(contains="6-digit code")
    await vol.send(code)  # the right code, too late
    await vol.expect(contains="ask the organiser")
    me = await env.db_user(vol)
    found = await _signup(env, activity_id, me.id)
    assert found is None or not found.attended

    # Someone else's guesses are their own: the right code still works for them.
    other = await env.person("Second Volunteer", role=Role.VOLUNTEER, team="health")
    await other.send("/checkin")
    await other.expect(contains="6-digit code")
    await other.send(code)
    await other.expect(contains="Checked in")


async def test_a_location_that_is_not_live_is_marked_for_the_organiser(bot_env):
    env: BotEnv = bot_env
    await env.person("Health Leader", role=Role.TEAM_LEADER, team="health")
    vol = await env.person("Health Volunteer", role=Role.VOLUNTEER, team="health")
    activity_id, _code = await _open_activity(env)
    await vol.send("/checkin")
    await vol.expect(contains="6-digit code")
    await vol.send_location(*PLACE)  # a plain location: it may have been picked on the map
    await vol.expect(contains="Checked in")
    me = await env.db_user(vol)
    found = await _signup(env, activity_id, me.id)
    assert found is not None and found.attended and found.location_unverified
    async with env.sessionmaker() as s:
        leader = await s.scalar(select(User).where(User.name == "Health Leader"))
        assert leader is not None
        roles = await people.roles_of(s, leader, frozenset())
        sheet = await activities.attendance_sheet(s, activity_id, leader, roles)
    assert [line.unverified for line in sheet.lines if line.user_id == me.id] == [True]
