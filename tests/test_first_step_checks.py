"""A button is authorised when it is pressed, before anything is shown: a forged or copied
button of someone else's conversation gets a pop-up, opens no step and shows no name, no
option and no document. The rightful person still gets the question."""

from __future__ import annotations

from sqlalchemy import select

from models import MemberRole, Role, TeamMember
from models import Role as R
from simulator.driver import SimUser
from tests.harness import BotEnv
from tests.test_authorisation_matrix import _order_in, _snapshot, order_cast
from views.me import LeaveTeam, MeItem, MeMenu, RemoveMember
from views.orders import TransferTo
from views.staff import AppointAt


async def _member_id(env: BotEnv, sim_user: SimUser, role: MemberRole) -> int:
    user = await env.db_user(sim_user)
    async with env.sessionmaker() as s:
        found = await s.scalar(
            select(TeamMember.id).where(TeamMember.user_id == user.id, TeamMember.role == role)
        )
        assert found is not None
        return found


async def _refused_silently(env: BotEnv, actor: SimUser, data: str) -> None:
    """`actor` presses `data` on their greeting: a pop-up, and nothing new or edited."""
    greeting = next(m for m in await actor.history() if m.from_bot)
    await env.idle()
    await actor.catch_up()
    before = [(m.message_id, m.text, m.inline_buttons) for m in await actor.history()]
    answer = await actor.callback_answer(query_id=await actor.press_data(greeting, data))
    assert answer.show_alert, (data, answer)
    await env.idle()
    await actor.expect_nothing_new()
    after = [(m.message_id, m.text, m.inline_buttons) for m in await actor.history()]
    assert after == before, data


async def test_other_peoples_buttons_are_refused_before_anything_is_shown(bot_env):
    env: BotEnv = bot_env
    cast = {
        **await order_cast(env),
        "resident": await env.person("Other Resident"),
        "leader_other": await env.person("Law Leader", role=Role.TEAM_LEADER, team="law"),
    }
    resident, stranger = cast["resident"], cast["leader_other"]
    health, law = await env.team("health"), await env.team("law")
    member = await _member_id(env, cast["volunteer"], MemberRole.MEMBER)
    order = await _order_in(env, cast, "routed")  # health's order

    # Walking membership ids must not list the members' names.
    await _refused_silently(env, resident, RemoveMember(member_id=member).pack())
    await _refused_silently(env, stranger, RemoveMember(member_id=member).pack())
    # A stranger's transfer is refused at the team, not after they gave a reason.
    before = await _snapshot(env, order.id)
    await _refused_silently(env, stranger, TransferTo(order_id=order.id, team_id=law.id).pack())
    await stranger.send("because I say so")
    await env.idle()
    assert await _snapshot(env, order.id) == before
    # No appointment options for someone who may not appoint there.
    for at in (
        AppointAt(role=R.VOLUNTEER, team_id=health.id),
        AppointAt(role=R.STATION_HEAD, region_id=(await env.station("dongjie")).id),
    ):
        await _refused_silently(env, resident, at.pack())
    await _refused_silently(env, stranger, AppointAt(role=R.VOLUNTEER, team_id=health.id).pack())
    # No certificate for someone never in a team; no "which team to leave?" for a non-member.
    await _refused_silently(env, resident, MeMenu(item=MeItem.CERTIFICATE).pack())
    await _refused_silently(env, resident, MeMenu(item=MeItem.LEAVE).pack())
    await _refused_silently(env, resident, LeaveTeam(team_id=health.id).pack())
    await _refused_silently(env, stranger, LeaveTeam(team_id=health.id).pack())  # a leader

    # The rightful people are still asked.
    leader, volunteer = cast["leader"], cast["volunteer"]
    greeting = next(m for m in await leader.history() if m.from_bot)
    await leader.catch_up()
    await leader.press_data(greeting, RemoveMember(member_id=member).pack())
    assert "Take Health Volunteer off the team?" in (await leader.expect()).text
    greeting = next(m for m in await volunteer.history() if m.from_bot)
    await volunteer.catch_up()
    await volunteer.press_data(greeting, MeMenu(item=MeItem.LEAVE).pack())
    assert "Which team do you want to leave?" in (await volunteer.expect()).text
    await volunteer.press_data(greeting, MeMenu(item=MeItem.CERTIFICATE).pack())
    assert (await volunteer.expect(contains="certificate")).document is not None
    greeting = next(m for m in await leader.history() if m.from_bot)
    await leader.press_data(greeting, TransferTo(order_id=order.id, team_id=law.id).pack())
    assert "why this team?" in (await leader.expect()).text
