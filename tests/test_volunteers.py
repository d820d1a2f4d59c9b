"""Volunteers: applying, the leader's decision, leaving, deactivation; the points ledger's
rules (corrections, bonuses, the local year); the certificate of hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    LedgerSource,
    MembershipStatus,
    OrderStatus,
    OutboxMessage,
    PointsEntry,
    TeamMember,
    User,
)
from services import points, volunteers
from services.certificate import certificate_data, cjk_font, render_certificate
from services.errors import Conflict, DomainError, NotAllowed, NotFound
from services.outbox import NoticeKind
from services.points import DEFAULT_RULES, LOCAL_TZ, PointsRules, totals, year_bounds
from tests.conftest import missing
from tests.factories import (
    advance_to,
    ledger_year,
    make_cast,
    make_user,
    place_order,
    roles_for,
)

SHANGHAI_NEW_YEAR_2027 = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 2027-01-01 00:00 local


async def _notices(session, kind: str, user_id: int | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).where(OutboxMessage.payload["kind"].as_string() == kind)
    if user_id is not None:
        stmt = stmt.where(OutboxMessage.user_id == user_id)
    return list(await session.scalars(stmt.order_by(OutboxMessage.id)))


async def apply(
    session: AsyncSession,
    user: User,
    team_id: int,
    *,
    name: str,
    phone: str | None = None,
    skills: str | None = None,
    party_member: bool = False,
) -> TeamMember:
    """`volunteers.apply` with no phone, no skills and no party membership unless given."""
    return await volunteers.apply(
        session, user, team_id, name=name, phone=phone, skills=skills, party_member=party_member
    )


# --- enrolment ---------------------------------------------------------------------------


async def test_apply_then_leader_approves(session):
    cast = await make_cast(session)
    org = cast.org
    applicant = await make_user(session, name="小马", station=org.east)
    await session.commit()
    member = await apply(
        session,
        applicant,
        org.health.id,
        name="马小花",
        phone="+86 139-0000-1234",
        skills="量血压",
        party_member=True,
    )
    assert member.status == MembershipStatus.PENDING
    assert (applicant.name, applicant.phone, applicant.is_party_member) == (
        "马小花",
        "+8613900001234",
        True,
    )
    cards = await _notices(session, NoticeKind.ENROL_REQUEST)
    # both health leaders are asked, nobody else
    assert {c.user_id for c in cards} == {cast.health_leader.id, cast.health_leader2.id}
    assert cards[0].payload["member_id"] == member.id

    leader_roles = await roles_for(session, cast.health_leader)
    await volunteers.decide(session, member.id, cast.health_leader, leader_roles, approve=True)
    assert member.status == MembershipStatus.ACTIVE
    assert org.health.id in (await roles_for(session, applicant)).member_of_teams
    [told] = await _notices(session, NoticeKind.ENROL_RESULT, applicant.id)
    assert told.payload["result"] == "approved"

    # the second leader's button is stale now
    roles2 = await roles_for(session, cast.health_leader2)
    with pytest.raises(Conflict):
        await volunteers.decide(session, member.id, cast.health_leader2, roles2, approve=False)


async def test_only_the_teams_leader_or_office_decides_and_rejection_can_be_reapplied(session):
    cast = await make_cast(session)
    org = cast.org
    applicant = await make_user(session, station=org.west)
    await session.commit()
    member = await apply(session, applicant, org.law.id, name="周律", phone="13900000002")
    with pytest.raises(NotAllowed):
        await volunteers.decide(
            session,
            member.id,
            cast.health_leader,
            await roles_for(session, cast.health_leader),
            approve=True,
        )
    office_roles = await roles_for(session, cast.office)
    await volunteers.decide(
        session, member.id, cast.office, office_roles, approve=False, note="暂不需要"
    )
    assert member.status == MembershipStatus.REJECTED
    [told] = await _notices(session, NoticeKind.ENROL_RESULT, applicant.id)
    assert (told.payload["result"], told.payload["reason"]) == ("rejected", "暂不需要")
    # applying again opens a new application and asks the leader again
    again = await apply(session, applicant, org.law.id, name="周律", skills="调解")
    assert again.id == member.id and again.status == MembershipStatus.PENDING
    assert len(await _notices(session, NoticeKind.ENROL_REQUEST, cast.law_leader.id)) == 2
    with pytest.raises(Conflict):
        await apply(session, applicant, org.law.id, name="周律")


async def test_apply_rules(session):
    cast = await make_cast(session)
    org = cast.org
    east = await make_user(session, station=org.east)
    await session.commit()
    # another village's squad is not for me; mine is
    with pytest.raises(NotAllowed):
        await apply(session, east, org.west_squad.id, name="甲", phone="13900000003")
    with pytest.raises(DomainError, match="phone"):
        await apply(session, east, org.east_squad.id, name="甲")
    with pytest.raises(DomainError):
        await apply(session, east, org.east_squad.id, name=" ", phone="13900000003")
    member = await apply(session, east, org.east_squad.id, name="甲", phone="13900000003")
    # the squad's leader is the station head
    [card] = await _notices(session, NoticeKind.ENROL_REQUEST)
    assert card.user_id == cast.east_head.id and card.payload["member_id"] == member.id
    teams = {t.id for t in await volunteers.joinable_teams(session, east)}
    assert teams == {org.health.id, org.law.id}  # the squad is taken; the west squad is not mine


async def test_concurrent_decisions_have_one_winner(sessionmaker):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        applicant = await make_user(s, station=cast.org.east)
        await s.commit()
        member = await apply(s, applicant, cast.org.health.id, name="乙", phone="13900000004")
        leaders = (cast.health_leader, cast.health_leader2)

    async def press(leader, approve):
        async with sessionmaker() as s:
            me = await s.get(User, leader.id)
            try:
                await volunteers.decide(s, member.id, me, await roles_for(s, me), approve=approve)
                return "won"
            except Conflict:
                return "lost"

    results = await asyncio.gather(press(leaders[0], True), press(leaders[1], False))
    assert sorted(results) == ["lost", "won"]
    async with sessionmaker() as s:
        assert len(await _notices(s, NoticeKind.ENROL_RESULT)) == 1


async def test_leave_and_deactivate(session):
    cast = await make_cast(session)
    org = cast.org
    vol, vol2 = cast.health_vol, cast.health_vol2
    await volunteers.leave(session, vol, org.health.id)
    member = await session.scalar(
        select(TeamMember).where(TeamMember.user_id == vol.id, TeamMember.team_id == org.health.id)
    )
    assert member.status == MembershipStatus.LEFT
    told = await _notices(session, NoticeKind.ENROL_RESULT)
    assert {t.user_id for t in told} == {cast.health_leader.id, cast.health_leader2.id}
    with pytest.raises(NotFound):
        await volunteers.leave(session, vol, org.health.id)
    with pytest.raises(NotAllowed):  # leaders are appointed
        await volunteers.leave(session, cast.health_leader, org.health.id)

    target = await session.scalar(
        select(TeamMember).where(TeamMember.user_id == vol2.id, TeamMember.team_id == org.health.id)
    )
    with pytest.raises(NotAllowed):  # another team's leader
        await volunteers.deactivate(
            session, target.id, cast.law_leader, await roles_for(session, cast.law_leader)
        )
    leader_roles = await roles_for(session, cast.health_leader)
    lead2 = await session.scalar(
        select(TeamMember).where(
            TeamMember.user_id == cast.health_leader2.id, TeamMember.team_id == org.health.id
        )
    )
    with pytest.raises(NotAllowed):  # a leader cannot remove a fellow leader
        await volunteers.deactivate(session, lead2.id, cast.health_leader, leader_roles)
    await volunteers.deactivate(
        session, target.id, cast.health_leader, leader_roles, reason="长期未参加"
    )
    assert target.status == MembershipStatus.LEFT and target.note == "deactivated: 长期未参加"
    [told] = await _notices(session, NoticeKind.ENROL_RESULT, vol2.id)
    assert told.payload["result"] == "removed"
    assert org.health.id not in (await roles_for(session, vol2)).member_of_teams
    with pytest.raises(Conflict):
        await volunteers.deactivate(session, target.id, cast.health_leader, leader_roles)


# --- the ledger --------------------------------------------------------------------------


async def _confirmed_order(session, cast, resident, rules=DEFAULT_RULES):
    """The resident's free-clinic order, done by health_vol in 2 hours and the hours confirmed
    by the leader; returns it and the entries booked."""
    from services import orders

    order = await place_order(session, resident, cast.org.clinic)
    await advance_to(session, cast, order.id, OrderStatus.DONE)
    lroles = await roles_for(session, cast.health_leader)
    booked = await orders.confirm_hours(session, order.id, cast.health_leader, lroles, rules=rules)
    return order, booked


async def _hours_order(session, cast, status=OrderStatus.RATED, *, score=5, resident=None):
    from services import orders

    resident = resident or cast.resident
    order, _ = await _confirmed_order(session, cast, resident)
    if status == OrderStatus.RATED:
        await orders.rate(session, order.id, resident, score, rules=DEFAULT_RULES)
    return order


async def test_bonuses_are_booked_once_by_the_configured_rules(session):
    cast = await make_cast(session)
    vol = cast.health_vol
    priority = await make_user(
        session, name="留守老人", station=cast.org.east, priority_group=cast.org.elderly
    )
    await session.commit()
    await _hours_order(session, cast, score=5)  # 2 h × 10 + five stars 5
    await _hours_order(session, cast, score=4, resident=priority)  # 2 h × 10 + priority 5
    year = await ledger_year(session, vol.id)
    assert await totals(session, vol.id, year, tz=LOCAL_TZ) == (Decimal("4.00"), Decimal("50.00"))
    sources = sorted(
        (e.source.value, e.points)
        for e in await session.scalars(select(PointsEntry).where(PointsEntry.user_id == vol.id))
    )
    assert sources == [
        ("bonus", Decimal(5)),
        ("bonus", Decimal(5)),
        ("order", Decimal(20)),
        ("order", Decimal(20)),
    ]
    # rules come from config: a town paying 3 points an hour and no five-star bonus
    rules = PointsRules.from_policy(
        {"points_per_hour": 3, "five_star_bonus": 0, "priority_group_bonus": 1}
    )
    order, booked = await _confirmed_order(session, cast, priority, rules)
    assert sorted(e.points for e in booked) == [Decimal(1), Decimal(6)]
    assert await points.book_order_hours(session, order, rules) == []  # once only


async def test_corrections_are_new_rows_with_a_reason_by_the_office_only(session):
    cast = await make_cast(session)
    vol = cast.health_vol
    await _hours_order(session, cast, score=3)
    original = await session.scalar(
        select(PointsEntry).where(
            PointsEntry.user_id == vol.id, PointsEntry.source == LedgerSource.ORDER
        )
    )
    leader_roles = await roles_for(session, cast.health_leader)
    with pytest.raises(NotAllowed):
        await points.correct(
            session,
            vol.id,
            hours=-1,
            points=-10,
            reason="多记了",
            by=cast.health_leader,
            roles=leader_roles,
        )
    office_roles = await roles_for(session, cast.office)
    with pytest.raises(DomainError):
        await points.correct(
            session, vol.id, hours=-1, points=-10, reason="  ", by=cast.office, roles=office_roles
        )
    with pytest.raises(DomainError):
        await points.correct(
            session, vol.id, hours=0, points=0, reason="无", by=cast.office, roles=office_roles
        )
    for nan in ({"hours": "NaN"}, {"points": Decimal("NaN")}):
        with pytest.raises(DomainError, match="number"):
            await points.correct(
                session, vol.id, **nan, reason="无", by=cast.office, roles=office_roles
            )
    fix = await points.correct(
        session,
        vol.id,
        hours="-0.5",
        points=-5,
        reason="实际服务1.5小时",
        by=cast.office,
        roles=office_roles,
        corrects_id=original.id,
    )
    bonus = await points.correct(
        session,
        vol.id,
        points=20,
        reason="优秀志愿者表彰",
        by=cast.office,
        roles=office_roles,
        source=LedgerSource.BONUS,
    )
    await session.commit()
    assert (fix.source, fix.corrects_id, fix.created_by_id) == (
        LedgerSource.CORRECTION,
        original.id,
        cast.office.id,
    )
    assert bonus.hours == 0 and bonus.reason == "优秀志愿者表彰"
    await session.refresh(original)
    assert (original.hours, original.points) == (Decimal(2), Decimal(20))  # never edited
    year = await ledger_year(session, vol.id)
    assert await totals(session, vol.id, year, tz=LOCAL_TZ) == (Decimal("1.50"), Decimal("35.00"))
    assert await points.lifetime_points(session, vol.id) == Decimal("35.00")
    with pytest.raises(NotFound):  # an entry of someone else
        await points.correct(
            session,
            cast.health_vol2.id,
            points=1,
            reason="x",
            by=cast.office,
            roles=office_roles,
            corrects_id=original.id,
        )


async def test_the_year_is_the_local_year_in_shanghai(session):
    cast = await make_cast(session)
    vol = cast.health_vol

    def entry(at: datetime, hours: int, key: str) -> PointsEntry:
        return PointsEntry(
            user_id=vol.id,
            at=at,
            source=LedgerSource.ACTIVITY,
            hours=Decimal(hours),
            points=Decimal(hours * 10),
            dedupe_key=key,
        )

    session.add_all(
        [
            entry(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC), 1, "a"),  # 23:59:59 local
            entry(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), 2, "b"),  # 00:00 on 1 Jan 2027
            entry(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), 4, "c"),  # the acceptance case
            entry(datetime(2025, 12, 31, 16, 0, tzinfo=UTC), 8, "d"),  # 2026 starts here
        ]
    )
    await session.commit()
    assert year_bounds(2027, tz=LOCAL_TZ) == (
        SHANGHAI_NEW_YEAR_2027,
        datetime(2027, 12, 31, 16, tzinfo=UTC),
    )
    assert await totals(session, vol.id, 2026, tz=LOCAL_TZ) == (Decimal("9.00"), Decimal("90.00"))
    assert await totals(session, vol.id, 2027, tz=LOCAL_TZ) == (Decimal("6.00"), Decimal("60.00"))
    by_user = await points.totals_by_user(session, [vol.id, cast.health_vol2.id], 2027, tz=LOCAL_TZ)
    assert by_user == {
        vol.id: (Decimal("6.00"), Decimal("60.00")),
        cast.health_vol2.id: (Decimal("0.00"), Decimal("0.00")),
    }
    # in UTC the 17:00 entry would still be 2026: the zone matters
    assert await totals(session, vol.id, 2026, UTC) == (Decimal("7.00"), Decimal("70.00"))


async def test_ledger_rows_are_unique_per_rule_and_source(session):
    cast = await make_cast(session)
    order = await _hours_order(session, cast, status=OrderStatus.DONE)
    count = await session.scalar(select(func.count(PointsEntry.id)))
    await points.book_order_hours(session, order, DEFAULT_RULES)
    await points.book_order_hours(session, order, DEFAULT_RULES)
    assert await session.scalar(select(func.count(PointsEntry.id))) == count


# --- certificate ---------------------------------------------------------------------------


async def test_certificate_of_hours_is_a_png_with_the_years_figures(session):
    cast = await make_cast(session)
    vol = cast.health_vol
    await session.execute(
        update(type(vol)).where(type(vol).id == vol.id).values(town_id=cast.org.town.id)
    )
    await _hours_order(session, cast, score=5)
    year = await ledger_year(session, vol.id)
    await session.refresh(vol)
    data = await certificate_data(session, vol, year, locale="zh_CN", tz=LOCAL_TZ)
    assert (data.hours, data.points, data.orders, data.activities) == (
        Decimal("2.00"),
        Decimal("25.00"),
        1,
        0,
    )
    assert data.teams == ("卫生健康志愿服务队",)
    if cjk_font() is None:
        missing("cjk_font", "Chinese certificates would show empty boxes")
    png = render_certificate(data, dpi=40)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
