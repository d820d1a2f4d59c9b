"""Appointing staff in the chat: by picking a user, by a one-use link; refusals."""

from __future__ import annotations

from sqlalchemy import select

from models import MemberRole, MembershipStatus, Role, StaffRole, TeamMember
from tests.flows import find_person
from tests.harness import from_menu


async def test_admin_appoints_a_registered_user_as_team_leader(bot_env):
    admin = await bot_env.person("Director Li", role=Role.OFFICE)
    async with bot_env.sessionmaker() as s:
        from services import people

        await people.appoint(s, await s.merge(await bot_env.db_user(admin)), Role.ADMIN)
        await s.commit()
    doctor = await bot_env.person("Doctor Zhou")
    await admin.send("/start")
    await admin.expect(contains="Hello")
    await from_menu(admin, "👥 Appoint staff")
    await admin.expect(contains="appoint")
    await admin.press("team leader")
    teams = await admin.expect_edit()
    await admin.press(next(b for b in teams.buttons() if b.startswith("Health")), message=teams)
    await admin.expect_edit()
    await admin.press("👤 Choose someone who uses the bot")
    _, done = await find_person(admin, "Zhou", "Doctor Zhou")
    assert "Doctor Zhou is now team leader" in done.text
    team = await bot_env.team("health")
    async with bot_env.sessionmaker() as s:
        member = await s.scalar(
            select(TeamMember).where(
                TeamMember.team_id == team.id,
                TeamMember.user_id == (await bot_env.db_user(doctor)).id,
            )
        )
    assert member.role == MemberRole.LEADER and member.status == MembershipStatus.ACTIVE
    await doctor.send("/start")
    menu = await doctor.expect(contains="Hello")
    assert "📥 Team orders" in [b for row in menu.reply_keyboard for b in row]


async def test_leader_adds_a_volunteer_with_a_link(bot_env):
    leader = await bot_env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    await from_menu(leader, "➕ Add a volunteer")
    await leader.expect(contains="appoint")
    await leader.press("volunteer")
    teams = await leader.expect_edit()
    assert teams.buttons() == ["Health Volunteer Team"]  # only the leader's own team
    await leader.press("Health Volunteer Team", message=teams)
    await leader.expect_edit()
    await leader.press("🔗 Make an invitation link")
    link = (await leader.expect_edit()).text
    code = link.rsplit("start=", 1)[1].strip()
    newcomer = await bot_env.person("Young Wu")
    await newcomer.send_command("start", code)
    await newcomer.expect(contains="appointed: volunteer")
    team = await bot_env.team("health")
    async with bot_env.sessionmaker() as s:
        member = await s.scalar(
            select(TeamMember).where(TeamMember.user_id == (await bot_env.db_user(newcomer)).id)
        )
    assert member.team_id == team.id and member.role == MemberRole.MEMBER


async def test_a_resident_cannot_appoint_even_with_forged_buttons(bot_env):
    resident = await bot_env.person("Grandma Li")
    await resident.send("👥 Appoint staff")
    await resident.expect(contains="Only the office")
    last = (await resident.history())[-1]
    await resident.press_data(last, "apr:office")
    assert "not allowed" in (await resident.callback_answer()).text
    await resident.press_data(last, "apu:office:1::1")
    assert "not allowed" in (await resident.callback_answer()).text
    async with bot_env.sessionmaker() as s:
        assert (await s.scalars(select(StaffRole))).all() == []
