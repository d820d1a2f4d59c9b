"""End to end through the simulator: greeting, registration, language, invites."""

from __future__ import annotations

from sqlalchemy import select

from models import MemberRole, Role, TeamMember
from services import people


async def test_start_greets_in_chinese_with_village_buttons(bot_env):
    u = await bot_env.new_user("王大妈", lang="zh-hans")
    await u.send("/start")
    hello = await u.expect()
    assert "志愿" in hello.text
    ask = await u.expect()
    villages = [b for row in (ask.reply_keyboard or []) for b in row]
    assert "庙庙湖村" in villages and len([v for v in villages if v.endswith(("村", "社区"))]) == 7


async def test_registration_keeps_only_own_phone(bot_env):
    u = await bot_env.new_user("Wang")
    await u.send("/start")
    await u.expect()
    await u.expect(contains="village")
    await u.tap("Miaomiaohu Village")
    await u.expect(contains="name")
    await u.send("x" * 40)  # too long: asked again, nothing saved
    await u.expect(contains="at most")
    await u.send_photo()  # a photo where text is asked
    await u.expect(contains="text")
    await u.send("王秀英")
    await u.expect(contains="phone")
    await u.send_contact("+8613811112222", own=False)
    await u.expect(contains="not your own")
    await u.send_contact(own=True)
    await u.expect(contains="Welcome")
    user = await bot_env.db_user(u)
    assert user.registered and user.name == "王秀英"
    assert user.phone == u.phone_number
    station = await bot_env.station("miaomiaohu")
    assert user.station_id == station.id


async def test_language_switch_is_remembered(bot_env):
    u = await bot_env.person("Li", lang="en")
    await u.send("/language")
    await u.expect(contains="language")
    await u.press("中文")
    await u.expect(contains="语言")
    await u.send("/help")
    assert "下单" in (await u.expect()).text or "服务" in (await u.history())[-1].text
    user = await bot_env.db_user(u)
    assert user.locale == "zh_CN"


async def test_invite_link_appoints_team_leader_once(bot_env):
    team = await bot_env.team("health")
    async with bot_env.sessionmaker() as s:
        invite = await people.create_invite(s, Role.TEAM_LEADER, by=None, team=team)
        await s.commit()
    leader = await bot_env.person("Dr Zhang")
    await leader.send_command("start", invite.code)
    await leader.expect(contains="appointed")
    other = await bot_env.person("Somebody")
    await other.send_command("start", invite.code)
    await other.expect(contains="already been used")
    async with bot_env.sessionmaker() as s:
        rows = (await s.scalars(select(TeamMember).where(TeamMember.team_id == team.id))).all()
    assert [(m.role, m.user_id) for m in rows] == [
        (MemberRole.LEADER, (await bot_env.db_user(leader)).id)
    ]
