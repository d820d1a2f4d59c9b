"""Figures per platform and per unit (站所), and the unit scorecard, on the Taole org chart with
a small hand-built set of orders whose expected figures are worked out by hand below (never
by calling the code under test). SQLite, and the same on PostgreSQL.

Orders placed on 2026-03-10 at T = 10:00 UTC (all in March, local time), minutes after T:

    #  category      platform  lead units               handed on        accept  status     rating
    1  policy_talk   理论宣讲   党政办公室, 文化站        dispatched 30,   120     rated      4
                                                       re-dispatched 90
    2  legal_advice  理论宣讲   党政办公室, 文化站        dispatched 180   240     done       -
    3  policy_talk   理论宣讲   党政办公室, 文化站        -                -       new        -
    4  free_clinic   (none)    计生站, 卫生院 (team's)   routed 0         10      rated      2
    5  free_clinic   (none)    计生站, 卫生院 (team's)   routed 0         -       cancelled  -
    6  homework      教育服务   文化站                    routed 0         60      rated      5

and one policy_talk order placed in April (outside the period).

Party members by work unit (双报道), hours booked in 2026 before April:
    司法所: 甲 25 h, 乙 0 h, 丙 0 h  → 3 members, 1 serving, 1 at 20 h, 25 h, mean 8.33 h
    文化站: 丁 10 h (and 戊, not a party member, 30 h: not counted)
    卫生院: 己 12 h, banned: not counted

The deadline to hand an order on is policy.sla.escalate_after = 2 h.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    LedgerSource,
    Order,
    OrderEvent,
    OrderStatus,
    Platform,
    PointsEntry,
    Rating,
    Region,
    RegionLevel,
    ServiceCategory,
    Unit,
    User,
)
from models.db import make_engine, make_sessionmaker
from services import archive, reports
from services.org import Policy, load_org_config, sync_org
from services.points import LOCAL_TZ
from services.reports import Scope
from services.reports.units import town_figures
from services.unit_scorecard import build_unit_scorecard

TAOLE = Path(__file__).resolve().parents[1] / "config" / "taole.yaml"
MARCH = reports.custom_period(date(2026, 3, 1), date(2026, 3, 31), LOCAL_TZ)
T = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 15, tzinfo=UTC)
POLICY = Policy()
LIMIT = POLICY.sla.escalate_after
S = OrderStatus
# (category, status, handed on [(kind, minutes)], accepted (minutes), rating)
ORDERS = [
    ("policy_talk", S.RATED, [("dispatched", 30), ("redispatched", 90)], 120, 4),
    ("legal_advice", S.DONE, [("dispatched", 180)], 240, None),
    ("policy_talk", S.NEW, [], None, None),
    ("free_clinic", S.RATED, [("routed", 0)], 10, 2),
    ("free_clinic", S.CANCELLED, [("routed", 0)], None, None),
    ("homework", S.RATED, [("routed", 0)], 60, 5),
]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def _id(session: AsyncSession, model, code: str) -> int:
    return await session.scalar(select(model.id).where(model.code == f"taole.{code}"))


async def seed(session: AsyncSession) -> None:
    await sync_org(session, load_org_config(TAOLE))
    await session.commit()
    town = await session.scalar(select(Region).where(Region.level == RegionLevel.TOWN))
    station = await session.scalar(select(Region).where(Region.level == RegionLevel.STATION))
    resident = User(name="王大妈", town_id=town.id, station_id=station.id)
    session.add(resident)
    await session.flush()
    placed = {  # every order is the resident's own, from their village
        "town_id": town.id,
        "station_id": station.id,
        "resident_id": resident.id,
        "placed_by_id": resident.id,
    }
    for i, (code, status, hand_ons, accepted, score) in enumerate([*ORDERS, ORDERS[2]]):
        created = T if i < len(ORDERS) else datetime(2026, 4, 10, tzinfo=UTC)
        category = await session.scalar(
            select(ServiceCategory).where(ServiceCategory.code == f"taole.{code}")
        )
        order = Order(
            number=f"TL-{i}",
            **placed,
            category_id=category.id,
            platform_id=category.platform_id,
            team_id=category.team_id,
            status=status,
            created_at=created,
            accepted_at=None if accepted is None else created + minutes(accepted),
        )
        session.add(order)
        await session.flush()
        events = [("created", 0), ("received", 0), *hand_ons]
        if accepted is not None:
            events.append(("accepted", accepted))
        await session.execute(
            insert(OrderEvent),
            [{"order_id": order.id, "kind": k, "at": created + minutes(m)} for k, m in events],
        )
        if score is not None:
            session.add(Rating(order_id=order.id, resident_id=resident.id, score=score))
    people = [
        ("甲", "justice_office", True, False, 25),
        ("乙", "justice_office", True, False, 0),
        ("丙", "justice_office", True, False, None),
        ("丁", "culture_station", True, False, 10),
        ("戊", "culture_station", False, False, 30),
        ("己", "health_centre", True, True, 12),
    ]
    for name, unit, party, banned, hours in people:
        user = User(
            name=name,
            town_id=town.id,
            station_id=station.id,
            is_party_member=party,
            banned=banned,
            work_unit_id=await _id(session, Unit, unit),
        )
        session.add(user)
        await session.flush()
        if hours is not None:
            session.add(
                PointsEntry(
                    user_id=user.id,
                    at=datetime(2026, 2, 1, tzinfo=UTC),
                    source=LedgerSource.CORRECTION,
                    hours=Decimal(hours),
                    points=Decimal(0),
                )
            )
    # Hours after the period do not count towards it.
    session.add(
        PointsEntry(
            user_id=resident.id,
            at=datetime(2026, 4, 20, tzinfo=UTC),
            source=LedgerSource.CORRECTION,
            hours=Decimal(50),
        )
    )
    await session.commit()


async def _town(session: AsyncSession) -> int:
    return await session.scalar(select(Region.id).where(Region.level == RegionLevel.TOWN))


async def check_unit_figures(session: AsyncSession) -> None:
    found = {
        f.key: f
        for f in (
            await town_figures(session, await _town(session), MARCH.start, MARCH.end, LIMIT)
        ).units
    }
    party = found[await _id(session, Unit, "party_office")]
    assert (party.received, party.dispatched, party.on_time) == (3, 2, 1)
    # 30 min (the first dispatch, not the re-dispatch) and 180 min: the mean of the two.
    assert party.dispatch_median == minutes(105)
    assert party.accept_median == minutes(180)  # 120 and 240
    assert (party.finished, party.considered, party.completion_rate) == (2, 3, 2 / 3)
    assert (party.rating_count, party.rating_avg) == (1, 4.0)

    culture = found[await _id(session, Unit, "culture_station")]
    assert (culture.received, culture.dispatched, culture.on_time) == (4, 3, 2)
    assert culture.dispatch_median == minutes(30)  # 0, 30, 180
    assert culture.accept_median == minutes(120)  # 60, 120, 240
    assert (culture.finished, culture.considered) == (3, 4)
    assert (culture.rating_count, culture.rating_avg) == (2, 4.5)

    for code in ("health_centre", "family_planning"):
        health = found[await _id(session, Unit, code)]
        assert (health.received, health.dispatched, health.on_time) == (2, 2, 2)
        assert health.dispatch_median == timedelta(0)
        assert health.accept_median == minutes(10)
        assert (health.finished, health.considered, health.completion_rate) == (1, 1, 1.0)
        assert (health.rating_count, health.rating_avg) == (1, 2.0)

    justice = found[await _id(session, Unit, "justice_office")]  # a responsible unit only
    assert (justice.received, justice.dispatch_median, justice.accept_median) == (0, None, None)
    assert (justice.completion_rate, justice.rating_avg, justice.on_time_rate) == (None, None, None)


async def check_platform_figures(session: AsyncSession) -> None:
    both = await town_figures(
        session, await _town(session), MARCH.start, MARCH.end, LIMIT, no_platform=("无", "None")
    )
    rows = both.platforms
    found = {f.key: f for f in rows}
    theory = found[await _id(session, Platform, "theory")]
    assert (theory.received, theory.dispatched, theory.on_time) == (3, 2, 1)
    assert (theory.dispatch_median, theory.accept_median) == (minutes(105), minutes(180))
    education = found[await _id(session, Platform, "education")]
    assert (education.received, education.accept_median, education.rating_avg) == (
        1,
        minutes(60),
        5.0,
    )
    assert found[await _id(session, Platform, "media")].received == 0
    # Last, the orders on no platform.
    assert (rows[-1].key, rows[-1].name_zh, rows[-1].received) == (None, "无", 2)
    assert sum(f.received for f in rows) == 6


async def check_scorecard(session: AsyncSession) -> None:
    card = await build_unit_scorecard(session, await _town(session), MARCH, POLICY, now=NOW)
    assert card.year == 2026
    assert card.elapsed == pytest.approx(90 / 365)
    by_code = {}
    for s in card.units:
        code = await session.scalar(select(Unit.code).where(Unit.id == s.unit_id))
        by_code[code.removeprefix("taole.")] = s
    # 文化站: on time 2/4 → 50; accept median 2 h → 100 × (8 − 2) / (8 − 0.5) = 80;
    # completion 75; satisfaction (4.5 − 1) / 4 → 87.5; party 1/1 → 100; hours 10 h against
    # 20 h × 90/365 = 4.93 h → 100. Mean 82.083.
    culture = by_code["culture_station"]
    assert culture.total == pytest.approx(492.5 / 6)
    assert culture.scores["response_time"] == pytest.approx(80.0)
    # 卫生院 / 计生站: 100, 100, 100, 25; no party member (己 is banned). Mean 81.25.
    assert by_code["health_centre"].total == pytest.approx(81.25)
    assert by_code["health_centre"].party.members == 0
    # 司法所: no orders; party 1/3 ÷ 80% → 41.667, mean 8.33 h ≥ 4.93 h → 100. Mean 70.833.
    justice = by_code["justice_office"]
    assert (justice.party.members, justice.party.serving, justice.party.reached) == (3, 1, 1)
    assert (justice.party.hours, justice.party.mean_hours) == (Decimal("25.00"), Decimal("8.33"))
    assert justice.scores["on_time"] is None and justice.scores["completion_rate"] is None
    assert justice.total == pytest.approx((100 / 3 / 0.8 + 100) / 2)
    # 党政办公室: on time 1/3; accept 3 h → 66.667; completion 66.667; satisfaction 75.
    assert by_code["party_office"].total == pytest.approx((100 / 3 + 200 / 3 + 200 / 3 + 75) / 4)
    ranks = {code: s.rank for code, s in by_code.items()}
    # Ties keep the config's order (计生站 before 卫生院).
    assert {c: r for c, r in ranks.items() if r} == {
        "culture_station": 1,
        "family_planning": 2,
        "health_centre": 3,
        "justice_office": 4,
        "party_office": 5,
    }
    # A unit with nothing in the period gets no rank and comes after the ranked ones.
    assert by_code["school"].rank is None and not by_code["school"].has_data
    assert [s.rank for s in card.units[:5]] == [1, 2, 3, 4, 5]
    # A dispatcher's view: only their unit, with its rank among all the town's units.
    mine = await build_unit_scorecard(
        session,
        await _town(session),
        MARCH,
        POLICY,
        unit_ids=frozenset({justice.unit_id}),
        now=NOW,
    )
    assert [(s.unit_id, s.rank) for s in mine.units] == [(justice.unit_id, 4)]


async def test_unit_figures_by_hand(session):
    await seed(session)
    await check_unit_figures(session)
    await check_platform_figures(session)
    await check_scorecard(session)


async def test_unit_figures_by_hand_on_postgresql(postgres_url):
    engine = make_engine(postgres_url)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed(session)
            await check_unit_figures(session)
            await check_platform_figures(session)
            await check_scorecard(session)
    finally:
        await engine.dispose()


async def test_the_archive_has_a_sheet_per_platform_and_per_unit(session, tmp_path):
    await seed(session)
    town = await _town(session)
    out = tmp_path / "archive.xlsx"
    summary = await archive.write_xlsx(
        session, out, Scope(town_ids=frozenset({town})), MARCH, tz=LOCAL_TZ, policy=POLICY
    )
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames[-2:] == ["平台", "站所"]

    def rows(name: str) -> list[dict[str, object]]:
        header = archive.SHEETS[name]
        found = [tuple(r) for r in wb[name].iter_rows(values_only=True)]
        assert list(found[0]) == header
        padded = [r + (None,) * (len(header) - len(r)) for r in found[1:]]
        assert summary.rows[name] == len(padded)
        return [dict(zip(header, r, strict=True)) for r in padded]

    platforms = {r["平台"]: r for r in rows("平台")}
    theory = platforms["理论宣讲平台"]
    assert (theory["镇"], theory["接单数"], theory["按时派单数"]) == ("陶乐镇", 3, 1)
    assert (theory["派单用时中位（分钟）"], theory["接单用时中位（分钟）"]) == (105, 180)
    assert (theory["办结数"], theory["办结率（%）"], theory["平均评分"]) == (2, 66.7, 4)
    assert platforms["未归平台"]["接单数"] == 2
    units = {r["单位"]: r for r in rows("站所")}
    culture = units["文化站"]
    assert (culture["排名"], culture["得分"], culture["接单数"]) == (1, 82.1, 4)
    assert (culture["双报道党员"], culture["参与党员"], culture["人均工时"]) == (1, 1, 10)
    justice = units["司法所"]
    assert (justice["排名"], justice["接单数"], justice["派单用时中位（分钟）"]) == (4, 0, None)
    assert (justice["双报道党员"], justice["参与率（%）"], justice["工时达标人数"]) == (3, 33.3, 1)
    school = units["陶乐中小学"]
    assert (school["排名"], school["得分"], school["接单数"]) == (None, None, 0)

    # A village's archive: the sheets with their headers only.
    station = await session.scalar(select(Region.id).where(Region.level == RegionLevel.STATION))
    village = tmp_path / "village.xlsx"
    await archive.write_xlsx(
        session, village, Scope(station_ids=frozenset({station})), MARCH, tz=LOCAL_TZ
    )
    wb = load_workbook(village, read_only=True)
    assert [len(list(wb[n].iter_rows())) for n in ("平台", "站所")] == [1, 1]
