"""The CSV roster import: bad rows are reported by line, good rows are imported, importing
the same file again changes nothing; and the `roster import` command line."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import MemberRole, MembershipStatus, TeamMember, User
from services import volunteers
from services.volunteers import RosterError, import_roster
from tests.factories import make_cast, make_user

ROSTER = """\
name,phone,telegram_id,station,skills,party_member
王建国,13900000001,,taole.dongjie,义诊,yes
李秀英,+86 139-0000-0002,7100002,dongjie,理发,否
,13900000003,,dongjie,,no
张志强,13900000004,abc,xijie,,yes
刘桂兰,13900000005,,nowhere,,yes
陈海燕,13900000006,,西街社区,"教学, 辅导",maybe
"杨卫东",13900000007,,xijie,"种植
养殖",是
赵玉梅,139 0000 0001,,xijie,,no
"""


async def _members(session, team_id: int) -> list[tuple[str, str, bool, str | None]]:
    rows = await session.execute(
        select(User.name, User.phone, User.is_party_member, User.skills)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id, TeamMember.status == MembershipStatus.ACTIVE)
        .order_by(User.name)
    )
    return [tuple(r) for r in rows]


async def test_bad_rows_are_reported_by_line_and_good_rows_imported(session):
    cast = await make_cast(session)
    org = cast.org
    await session.commit()
    report = await import_roster(session, ROSTER, "taole.health")
    problems = {p.line: p.message for p in report.problems}
    assert sorted(problems) == [4, 5, 6, 7, 10]
    assert "name" in problems[4]
    assert "telegram_id" in problems[5]
    assert "nowhere" in problems[6]
    assert "maybe" in problems[7]
    assert "line 2" in problems[10]  # the same phone as 王建国, written differently
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    health = await _members(session, org.health.id)
    imported = [m for m in health if m[0] in ("王建国", "李秀英", "杨卫东")]
    assert imported == [
        ("李秀英", "+8613900000002", False, "理发"),
        ("杨卫东", "13900000007", True, "种植\n养殖"),  # a quoted cell over two lines
        ("王建国", "13900000001", True, "义诊"),
    ]
    li = await session.scalar(select(User).where(User.name == "李秀英"))
    assert (li.tg_id, li.station_id, li.town_id, li.registered) == (
        7100002,
        org.east.id,
        org.town.id,
        True,
    )
    # the report reads well on a terminal
    assert str(report.problems[0]).startswith("line 4: ")
    assert report.summary().startswith("3 added, 0 updated, 0 unchanged")


async def test_importing_the_same_file_again_changes_nothing(session):
    cast = await make_cast(session)
    await session.commit()
    await import_roster(session, ROSTER, "health")  # a town-local code works too

    async def snapshot():
        users = (
            await session.execute(
                select(
                    User.id, User.name, User.phone, User.tg_id, User.skills, User.station_id
                ).order_by(User.id)
            )
        ).all()
        members = (
            await session.execute(
                select(TeamMember.id, TeamMember.user_id, TeamMember.status).order_by(TeamMember.id)
            )
        ).all()
        return users, members

    before = await snapshot()
    again = await import_roster(session, ROSTER, "taole.health")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert len(again.problems) == 5
    assert await snapshot() == before
    # a changed cell is an update, and only that
    changed = ROSTER.replace(
        "王建国,13900000001,,taole.dongjie,义诊,yes",
        "王建国,13900000001,,taole.dongjie,义诊、量血压,yes",
    )
    third = await import_roster(session, changed, "taole.health")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    assert cast.health_leader.id  # the cast is untouched


async def test_matches_people_already_using_the_bot_and_keeps_leavers_out(session):
    cast = await make_cast(session)
    org = cast.org
    known = await make_user(session, name="马大姐", station=org.east, phone="+8613900000009")
    leaver = await make_user(session, name="走了的", station=org.east, phone="13900000010")
    session.add(
        TeamMember(
            team_id=org.health.id,
            user_id=leaver.id,
            role=MemberRole.MEMBER,
            status=MembershipStatus.LEFT,
        )
    )
    await session.commit()
    csv_text = (
        "姓名,手机,站点,党员\n"  # Chinese headers, no telegram_id or skills columns
        "马大姐,139 0000 0009,东街社区,是\n"
        "走了的,13900000010,dongjie,否\n"
    )
    report = await import_roster(session, csv_text, "taole.health")
    assert (report.created, report.updated, report.unchanged) == (1, 0, 0)
    assert [p.line for p in report.kept_out] == [3]
    await session.refresh(known)
    assert known.is_party_member and known.tg_id is not None  # the same person, now a member
    assert await session.scalar(select(func.count(User.id)).where(User.name == "马大姐")) == 1
    leaving = await session.scalar(select(TeamMember).where(TeamMember.user_id == leaver.id))
    assert leaving.status == MembershipStatus.LEFT


async def test_a_file_that_cannot_be_used_says_why(session):
    await make_cast(session)
    await session.commit()
    with pytest.raises(RosterError, match="no active team"):
        await import_roster(session, "name,phone,station\n", "taole.nope")
    with pytest.raises(RosterError, match="line 1: missing column"):
        await import_roster(session, "name,telegram_id\n张三,1\n", "taole.health")
    with pytest.raises(RosterError, match="empty"):
        await import_roster(session, "", "taole.health")
    assert volunteers.roster_template().startswith("name,phone,telegram_id")


def test_roster_import_command(tmp_path, monkeypatch, capsys):
    """`python -m bot roster import FILE --team CODE` on a database with the Taole org."""
    from bot.cli import main
    from models.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BOT_TOKEN", "")
    upgrade(url)
    assert main(["org", "load", "config/taole.yaml"]) == 0
    roster = tmp_path / "health.csv"
    roster.write_text(
        "name,phone,telegram_id,station,skills,party_member\n"
        "王建国,13900000001,,miaomiaohu,义诊,yes\n"
        "坏行,,,miaomiaohu,,yes\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["roster", "import", str(roster), "--team", "taole.health"]) == 1
    out = capsys.readouterr().out
    assert "line 3: the phone is empty" in out
    assert "1 added" in out
    assert main(["roster", "import", str(roster), "--team", "health"]) == 1
    assert "0 added, 0 updated, 1 unchanged" in capsys.readouterr().out
    assert main(["roster", "import", str(tmp_path / "missing.csv"), "--team", "health"]) == 2
    assert main(["roster", "import", str(roster), "--team", "nope"]) == 2
