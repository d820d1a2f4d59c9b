"""The plan's KPIs on a seeded town whose figures are worked out by hand below, and the
monthly nudge to volunteers projected to fall short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from models import (
    LedgerSource,
    MemberRole,
    MembershipStatus,
    OutboxMessage,
    PointsEntry,
    TeamMember,
)
from services import kpi
from services.org import KpiTargets
from services.outbox import NoticeKind
from services.points import LOCAL_TZ
from tests.factories import make_org, make_user

# The local year 2026 runs from 2025-12-31 16:00 UTC for 365 days. Seventy-three days in,
# a fifth of it has passed: the projection is hours × 5, and 20 h is missed under 4 h.
YEAR_START = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
NOW = YEAR_START + timedelta(days=73)  # 2026-03-15 00:00 in Taole
IN_2026 = datetime(2026, 2, 1, 4, 0, tzinfo=UTC)


async def seed(session):
    """
    person  village party  teams                 hours in 2026 (ledger rows)
    甲       east    yes    health                6   (order 4 + activity 2)
    乙       east    yes    health                3   (activity 3)
    丙       east    yes    —                     0
    丁       west    yes    law                   25  (order 25)
    戊       west    yes    law, west squad       2   (+10 on 31 Dec 2025 23:00 local: last year)
    己       east    no     health                1   (activity 1)
    庚       west    yes    health                0   (1 booked, then corrected by −1)
    辛       west    yes    law (left the team)   0
    """
    org = await make_org(session)
    people = {}
    for name, station, party in [
        ("甲", org.east, True),
        ("乙", org.east, True),
        ("丙", org.east, True),
        ("丁", org.west, True),
        ("戊", org.west, True),
        ("己", org.east, False),
        ("庚", org.west, True),
        ("辛", org.west, True),
    ]:
        user = await make_user(session, name=name, station=station)
        user.is_party_member = party
        people[name] = user
    for name, team, status in [
        ("甲", org.health, MembershipStatus.ACTIVE),
        ("乙", org.health, MembershipStatus.ACTIVE),
        ("丁", org.law, MembershipStatus.ACTIVE),
        ("戊", org.law, MembershipStatus.ACTIVE),
        ("戊", org.west_squad, MembershipStatus.ACTIVE),
        ("己", org.health, MembershipStatus.ACTIVE),
        ("庚", org.health, MembershipStatus.ACTIVE),
        ("辛", org.law, MembershipStatus.LEFT),
    ]:
        session.add(
            TeamMember(
                team_id=team.id, user_id=people[name].id, role=MemberRole.MEMBER, status=status
            )
        )
    n = 0

    def book(name: str, hours: str, source=LedgerSource.ACTIVITY, at=IN_2026) -> None:
        nonlocal n
        n += 1
        h = Decimal(hours)
        session.add(
            PointsEntry(
                user_id=people[name].id,
                at=at,
                source=source,
                hours=h,
                points=h * 10,
                dedupe_key=f"seed:{n}",
            )
        )

    book("甲", "4", LedgerSource.ORDER)
    book("甲", "2")
    book("乙", "3")
    book("丁", "25", LedgerSource.ORDER)
    book("戊", "2")
    book("戊", "10", at=datetime(2025, 12, 31, 15, 0, tzinfo=UTC))
    book("己", "1")
    book("庚", "1")
    book("庚", "-1", LedgerSource.CORRECTION, at=IN_2026 + timedelta(days=1))
    await session.commit()
    return org, people


async def test_kpi_figures_by_town_station_and_team(session):
    org, _people = await seed(session)
    report = await kpi.kpi_report(session, org.town.id, year=2026, now=NOW, tz=LOCAL_TZ)
    assert abs(report.elapsed - 0.2) < 1e-9
    assert (report.target_rate, report.target_hours) == (0.8, Decimal(20))

    def names(people):
        return [x.name for x in people]

    town = report.town
    # party members: 甲 乙 丙 丁 戊 庚 辛 = 7; took part (any hours): 甲 乙 丁 戊 = 4
    assert (town.party_members, town.participating) == (7, 4)
    assert abs(town.rate - 4 / 7) < 1e-9 and not town.rate_met
    # volunteers (active in a team): 甲 乙 丁 戊 己 庚 = 6 (辛 left)
    assert town.volunteers == 6
    # all hours 6+3+0+25+2+1+0+0 = 37; party members' 36, an average of 36/7 = 5.14
    assert (town.hours, town.party_hours, town.avg_party_hours) == (
        Decimal(37),
        Decimal(36),
        Decimal("5.14"),
    )
    # under 20 h, fewest first (ties by name): 丙 0, 庚 0, 辛 0, 戊 2, 乙 3, 甲 6
    assert names(town.below) == ["丙", "庚", "辛", "戊", "乙", "甲"]
    # projected = hours × 5; under 20: 丙 0, 庚 0, 辛 0, 戊 10, 乙 15 (甲 30 and 丁 125 make it)
    assert names(town.will_miss) == ["丙", "庚", "辛", "戊", "乙"]
    by_name = {x.name: x for x in report.people}
    assert (by_name["乙"].hours, by_name["乙"].projected) == (Decimal(3), Decimal(15))
    assert by_name["戊"].hours == Decimal(2)  # last year's 10 h do not count

    east, west = report.stations
    assert (east.id, west.id) == (org.east.id, org.west.id)
    # east: party 甲 乙 丙, took part 甲 乙; hours 6+3+0+1(己)
    assert (east.party_members, east.participating, east.volunteers, east.hours) == (
        3,
        2,
        3,
        Decimal(10),
    )
    # west: party 丁 戊 庚 辛, took part 丁 戊; hours 25+2
    assert (west.party_members, west.participating, west.volunteers, west.hours) == (
        4,
        2,
        3,
        Decimal(27),
    )
    assert west.rate == 0.5 and names(west.below) == ["庚", "辛", "戊"]

    teams = {t.id: t for t in report.teams}
    health, law = teams[org.health.id], teams[org.law.id]
    # health: 甲 乙 己 庚 (party: 甲 乙 庚; took part 甲 乙)
    assert (health.party_members, health.participating, health.volunteers) == (3, 2, 3 + 1)
    # law: 丁 戊 (辛 left): both took part, 100% ≥ 80%
    assert (law.party_members, law.participating, law.rate, law.rate_met) == (2, 2, 1.0, True)
    assert names(law.will_miss) == ["戊"]
    squad = teams[org.west_squad.id]
    assert (squad.party_members, squad.rate_met) == (1, True)
    empty = teams[org.east_squad.id]
    assert (empty.party_members, empty.rate, empty.rate_met) == (0, None, False)


async def test_targets_come_from_config(session):
    org, _p = await seed(session)
    lenient = KpiTargets(party_participation=0.5, hours_per_year=10)
    report = await kpi.kpi_report(
        session, org.town.id, year=2026, now=NOW, tz=LOCAL_TZ, targets=lenient
    )
    assert report.town.rate_met  # 4/7 ≥ 50%
    # projected under 10 h: 丙 0, 庚 0, 辛 0 (戊 10 is on target)
    assert [x.name for x in report.town.will_miss] == ["丙", "庚", "辛"]
    # the whole of last year has passed: the projection is the hours themselves
    last = await kpi.kpi_report(session, org.town.id, year=2025, now=NOW, tz=LOCAL_TZ)
    assert last.elapsed == 1.0
    assert {x.name: x.projected for x in last.people}["戊"] == Decimal(10)


async def test_monthly_nudge_goes_to_volunteers_projected_to_fall_short(session):
    _org, p = await seed(session)
    sent = await kpi.monthly_kpi_nudges(session, NOW, LOCAL_TZ)
    await session.commit()
    rows = (
        await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.payload["kind"].as_string() == NoticeKind.KPI_NUDGE
            )
        )
    ).all()
    # volunteers projected under 20 h: 乙 15, 戊 10, 己 5, 庚 0 — not 丙 (in no team),
    # not 辛 (left), not 甲 (30) or 丁 (125)
    assert sent == 4
    assert {r.user_id for r in rows} == {p["乙"].id, p["戊"].id, p["己"].id, p["庚"].id}
    assert not any(r.urgent for r in rows)  # the sender holds them through quiet hours
    mine = next(r for r in rows if r.user_id == p["乙"].id)
    assert (mine.payload["hours"], mine.payload["projected"], mine.payload["target"]) == (
        "3.00",
        "15.00",
        "20",
    )
    assert mine.dedupe_key == f"kpi:2026-03:{p['乙'].id}"
    # once a month: again in March sends nothing; April sends again
    assert await kpi.monthly_kpi_nudges(session, NOW + timedelta(days=5), LOCAL_TZ) == 0
    assert await kpi.monthly_kpi_nudges(session, NOW + timedelta(days=20), LOCAL_TZ) == 4
    # January is too early to judge the pace
    assert await kpi.monthly_kpi_nudges(session, YEAR_START + timedelta(days=20), LOCAL_TZ) == 0


def test_projection_and_elapsed_fraction():
    assert kpi.elapsed_fraction(2026, YEAR_START - timedelta(seconds=1), tz=LOCAL_TZ) == 0.0
    assert kpi.elapsed_fraction(2026, YEAR_START + timedelta(days=365), tz=LOCAL_TZ) == 1.0
    assert kpi.project(Decimal(3), 0.25) == Decimal(12)
    assert kpi.project(Decimal(3), 0.0) == Decimal(0)


async def test_the_last_evening_of_the_year_and_the_first_morning_of_the_next(session):
    """The pace is judged in the local year: 23:30 on 31 December in Taole still belongs to
    December (nudges go out, projections are nearly the hours themselves), while 23:30 UTC
    on 31 December is already 07:30 on 1 January there, too early in 2027 to judge."""
    _org, p = await seed(session)
    last_evening = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 on 31 Dec in Taole
    first_morning = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 07:30 on 1 Jan 2027 there
    mid_january = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)

    report = await kpi.kpi_report(session, _org.town.id, year=2026, now=last_evening, tz=LOCAL_TZ)
    assert 0.999 < report.elapsed < 1
    by_name = {x.name: x for x in report.people}
    assert by_name["甲"].projected == Decimal("6.00")  # 6 h at 99.9% of the year
    assert [x.name for x in report.town.will_miss] == ["丙", "庚", "辛", "戊", "乙", "甲"]

    assert await kpi.monthly_kpi_nudges(session, first_morning, LOCAL_TZ) == 0
    assert await kpi.monthly_kpi_nudges(session, mid_january, LOCAL_TZ) == 0
    # volunteers under 20 h by the year's end: 甲 6, 乙 3, 戊 2, 己 1, 庚 0 (not 丁 25)
    assert await kpi.monthly_kpi_nudges(session, last_evening, LOCAL_TZ) == 5
    await session.commit()
    keys = set(
        await session.scalars(
            select(OutboxMessage.dedupe_key).where(
                OutboxMessage.payload["kind"].as_string() == NoticeKind.KPI_NUDGE
            )
        )
    )
    assert keys == {f"kpi:2026-12:{p[n].id}" for n in ("甲", "乙", "戊", "己", "庚")}
    # in 2027 nobody has any hours yet: a fortnight in, the projection is still zero
    january = await kpi.kpi_report(session, _org.town.id, year=2027, now=mid_january, tz=LOCAL_TZ)
    assert 14 / 365 < january.elapsed < 15 / 365
    assert {x.projected for x in january.people} == {Decimal("0.00")}
