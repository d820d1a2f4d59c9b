"""Report figures and the station scorecard against a seeded data set whose expected numbers
are worked out by hand below (never by calling the code under test), and the chart images.

The data set, in March 2026 (local time, Asia/Shanghai), seeded through the real services
and then given controlled timestamps:

    #  station  category  status        accept   done    rating  notes
    1  east     clinic    rated         30 min   1 day   5       hours confirmed (2 h)
    2  east     clinic    rated         2 h      3 h     3       hours confirmed (2 h)
    3  east     clinic    done          10 min   5 h     -       hours not confirmed
    4  east     legal     routed        -        -       -       escalated
    5  west     clinic    accepted      1 h      -       -       slot ended 03-20: overdue
    6  west     clinic    cancelled     -        -       -
    7  west     clinic    in_progress   45 min   -       -       slot ends 05-01: not overdue
    8  east     legal     routed        -        -       -       placed 03-01 00:30 local

and outside the period: an order placed 02-28 23:59 local (rated 1, escalated), one placed
04-01 00:00 local, and 5 ledger hours booked in February.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from models import (
    Activity,
    ActivityStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    Order,
    OrderStatus,
    PointsEntry,
    User,
)
from services import charts, orders, reports
from services.org import Policy
from services.points import DEFAULT_RULES, LOCAL_TZ
from services.reports import Scope
from services.scorecard import build_scorecard
from tests.conftest import missing
from tests.factories import Cast, advance_to, make_cast, make_user, place_order, roles_for

MARCH = reports.custom_period(date(2026, 3, 1), date(2026, 3, 31), tz=LOCAL_TZ)
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)  # "now" for the overdue and activity checks


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


@dataclass
class Seeded:
    cast: Cast
    ids: dict[int, int]  # row number in the docstring → order id
    outside: list[int]
    party_idle: User


async def _set(session, order_id: int, **values) -> None:
    await session.execute(update(Order).where(Order.id == order_id).values(**values))
    await session.commit()


async def seed(session) -> Seeded:
    cast = await make_cast(session)
    org = cast.org
    # The volunteer who serves lives in the east village and is a party member; a second
    # party member there served nobody.
    cast.health_vol.station_id, cast.health_vol.town_id = org.east.id, org.town.id
    cast.health_vol.is_party_member = True
    idle = await make_user(session, name="党员甲", station=org.east)
    idle.is_party_member = True
    await session.commit()

    plan = {
        1: (cast.resident, org.clinic, OrderStatus.RATED, 5),
        2: (cast.neighbour, org.clinic, OrderStatus.RATED, 3),
        3: (cast.resident, org.clinic, OrderStatus.DONE, None),
        4: (cast.neighbour, org.legal, OrderStatus.ROUTED, None),
        5: (cast.west_resident, org.clinic, OrderStatus.ACCEPTED, None),
        6: (cast.west_resident, org.clinic, OrderStatus.CANCELLED, None),
        7: (cast.west_resident, org.clinic, OrderStatus.IN_PROGRESS, None),
        8: (cast.resident, org.legal, OrderStatus.ROUTED, None),
    }
    ids: dict[int, int] = {}
    for n, (who, category, status, score) in plan.items():
        order = await place_order(session, who, category, description=f"订单{n}")
        ids[n] = order.id
        if status != OrderStatus.ROUTED:
            await advance_to(session, cast, order.id, status, score=score or 4)

    # Controlled timestamps: (created, minutes to accept, minutes to done).
    times = {
        1: (local(3, 2, 9), 30, 24 * 60),
        2: (local(3, 5, 10), 120, 180),
        3: (local(3, 9, 8), 10, 300),
        4: (local(3, 12, 15), None, None),
        5: (local(3, 15, 9), 60, None),
        6: (local(3, 16, 9), None, None),
        7: (local(3, 20, 14), 45, None),
        8: (local(3, 1, 0, 30), None, None),
    }
    for n, (created, accept, done) in times.items():
        await _set(
            session,
            ids[n],
            created_at=created,
            accepted_at=created + timedelta(minutes=accept) if accept is not None else None,
            done_at=created + timedelta(minutes=done) if done is not None else None,
        )
    await _set(session, ids[4], escalated=True)
    await _set(session, ids[5], slot_end=local(3, 20, 12))
    await _set(session, ids[7], slot_end=local(5, 1, 12))

    # Hours of orders 1 and 2 confirmed by the leader, booked in March.
    lroles = await roles_for(session, cast.health_leader)
    rules = DEFAULT_RULES
    for n in (1, 2):
        await orders.confirm_hours(session, ids[n], cast.health_leader, lroles, rules=rules)
    await session.execute(
        update(PointsEntry)
        .where(PointsEntry.order_id.in_([ids[1], ids[2]]))
        .values(at=local(3, 25, 10))
    )
    # Outside the period.
    before = await place_order(session, cast.resident, org.clinic, description="二月")
    await advance_to(session, cast, before.id, OrderStatus.RATED, score=1)
    await _set(session, before.id, created_at=local(2, 28, 23, 59), escalated=True)
    after = await place_order(session, cast.west_resident, org.clinic, description="四月")
    await _set(session, after.id, created_at=local(4, 1, 0, 0))
    session.add(
        PointsEntry(
            user_id=cast.health_vol.id,
            at=local(2, 10, 10),
            source="correction",
            hours=Decimal(5),
            points=Decimal(50),
            reason="二月补录",
        )
    )
    await session.commit()
    return Seeded(cast, ids, [before.id, after.id], idle)


async def test_period_boundaries_are_local_days():
    assert MARCH.start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert MARCH.end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    week = reports.this_week(date(2026, 12, 2), tz=LOCAL_TZ)  # a Wednesday
    assert (week.first, week.last) == (date(2026, 11, 30), date(2026, 12, 6))
    month = reports.this_month(date(2026, 2, 14), tz=LOCAL_TZ)
    assert (month.first, month.last) == (date(2026, 2, 1), date(2026, 2, 28))
    year = reports.this_year(date(2026, 7, 1), tz=LOCAL_TZ)
    assert year.end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert reports.parse_period_code(month.code, tz=LOCAL_TZ) == month
    assert reports.parse_date_range("2026-03-31 至 2026/3/1") == (
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert reports.parse_date_range("20260101-20260331") == (date(2026, 1, 1), date(2026, 3, 31))
    with pytest.raises(ValueError):
        reports.parse_date_range("tomorrow")


def test_percentile_interpolates_between_ranks():
    assert reports.percentile([10, 30, 45, 60, 120], 0.5) == 45
    assert reports.percentile([10, 30, 45, 60, 120], 0.9) == pytest.approx(96)
    assert reports.percentile([7], 0.9) == 7
    assert reports.percentile([], 0.5) is None


async def test_town_report_figures(session):
    data = await seed(session)
    org = data.cast.org
    report = await reports.build_report(
        session, Scope(town_ids=frozenset({org.town.id})), MARCH, now=NOW
    )

    assert report.total == 8
    assert {c.key: c.count for c in report.by_status} == {
        "rated": 2,
        "done": 1,
        "routed": 2,
        "accepted": 1,
        "in_progress": 1,
        "cancelled": 1,
    }
    assert [(c.name_zh, c.count) for c in report.by_station] == [("东街社区", 5), ("西街社区", 3)]
    assert {c.name_zh: c.count for c in report.by_category} == {"义诊看病": 6, "法律咨询": 2}
    assert {c.name_en: c.count for c in report.by_team} == {"Health team": 6, "Law team": 2}
    assert [(c.name_en, c.count) for c in report.by_platform] == [("No platform", 8)]
    # Accepted after 30, 120, 10, 60, 45 minutes → sorted 10 30 45 60 120:
    # median 45; p90 at rank 3.6 → 60 + 0.6 × 60 = 96 minutes.
    assert report.accept_median == timedelta(minutes=45)
    assert report.accept_p90 == timedelta(minutes=96)
    # Done after 1440, 180, 300 minutes → median 300; p90 at rank 1.8 → 300 + 0.8 × 1140.
    assert report.complete_median == timedelta(minutes=300)
    assert report.complete_p90 == timedelta(minutes=1212)
    # 办结率: 3 done or rated of 8 − 1 cancelled.
    assert (report.finished, report.considered) == (3, 7)
    assert report.completion_rate == pytest.approx(3 / 7)
    assert report.overdue == 1
    assert report.escalated == 1
    assert report.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert report.rating_avg == pytest.approx(4.0)
    assert report.hours == Decimal("4.00")  # 2 h + 2 h confirmed; order 3 unconfirmed
    assert report.volunteers == 1


async def test_station_head_sees_only_the_village(session):
    data = await seed(session)
    org = data.cast.org
    head_roles = await roles_for(session, data.cast.east_head)
    scope = reports.scope_for(head_roles)
    assert scope == Scope(station_ids=frozenset({org.east.id}))
    report = await reports.build_report(session, scope, MARCH, now=NOW)
    assert report.total == 5
    assert [(c.name_zh, c.count) for c in report.by_station] == [("东街社区", 5)]
    assert (report.finished, report.considered) == (3, 5)
    assert report.overdue == 0 and report.escalated == 1
    assert report.hours == Decimal("4.00")
    west = await reports.build_report(
        session, Scope(station_ids=frozenset({org.west.id})), MARCH, now=NOW
    )
    assert west.total == 3 and west.hours == Decimal(0) and west.rating_avg is None
    assert reports.scope_for(await roles_for(session, data.cast.resident)) is None
    assert reports.scope_for(await roles_for(session, data.cast.health_leader)) is None


async def test_scorecard_components_and_ranking(session):
    data = await seed(session)
    cast, org = data.cast, data.cast.org

    def activity(number: str, station, day: int, status=ActivityStatus.DONE) -> Activity:
        return Activity(
            number=number,
            title=f"活动{number}",
            starts_at=local(3, day, 9),
            ends_at=local(3, day, 11),
            station_id=station.id,
            town_id=org.town.id,
            status=status,
            created_by_id=cast.office.id,
        )

    held = [
        activity("A1", org.east, 3),
        activity("A2", org.east, 10),
        activity("A3", org.west, 11),
        activity("A4", org.west, 12, ActivityStatus.CANCELLED),
    ]
    late = activity("A5", org.east, 1)
    late.starts_at = local(4, 2, 9)
    session.add_all([*held, late])
    await session.flush()
    session.add(
        Attachment(
            activity_id=held[0].id,
            kind=AttachmentKind.PHOTO,
            stage=AttachmentStage.ACTIVITY,
            file_id="act-photo",
            file_unique_id="act-uniq",
        )
    )
    await session.commit()

    table = await build_scorecard(session, org.town.id, MARCH, Policy(), now=NOW)
    east, west = table
    assert (east.name_zh, east.rank, west.name_zh, west.rank) == ("东街社区", 1, "西街社区", 2)
    # East: 3 of 5 completed → 60; accepted after 30, 120, 10 → median 30 min ≤ the 30 min
    # reminder → 100; ratings 5 and 3 → mean 4 → (4 − 1) / 4 → 75; 2 activities, the best
    # → 100; 1 of 2 party members served, 50% of the 80% target → 62.5; 4 h, the best →
    # 100; 3 completed orders with photos + 1 of 2 activities with a photo → 4 / 5 → 80.
    assert east.scores == pytest.approx(
        {
            "completion_rate": 60.0,
            "response_time": 100.0,
            "satisfaction": 75.0,
            "activities": 100.0,
            "party_participation": 62.5,
            "hours": 100.0,
            "record_completeness": 80.0,
        }
    )
    # .25·60 + .15·100 + .2·75 + .1·100 + .1·62.5 + .1·100 + .1·80
    assert east.total == pytest.approx(79.25)
    # West: 0 of 2 completed → 0; accepted after 60 and 45 → median 52.5 min →
    # 100 × (480 − 52.5) / (480 − 30) = 95; no rating, no party member → left out;
    # 1 activity of the best 2 → 50; 0 h → 0; nothing with a photo of 1 → 0.
    assert west.scores == pytest.approx(
        {
            "completion_rate": 0.0,
            "response_time": 95.0,
            "satisfaction": None,
            "activities": 50.0,
            "party_participation": None,
            "hours": 0.0,
            "record_completeness": 0.0,
        }
    )
    # (.25·0 + .15·95 + .1·50 + .1·0 + .1·0) / (.25 + .15 + .1 + .1 + .1)
    assert west.total == pytest.approx(19.25 / 0.7)
    assert (east.party_members, east.party_active, east.activities) == (2, 1, 2)


def _require_cjk_or_skip() -> None:
    if charts.find_cjk_font() is None:
        missing("cjk_font", "the charts would show empty boxes")


def test_cjk_font_is_found_by_matplotlib():
    _require_cjk_or_skip()
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    family, path = charts.find_cjk_font()
    assert charts.used_font() == family
    # matplotlib resolves the family to the same file, a regular face, with the glyphs.
    resolved = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    assert resolved == path
    font = FT2Font(path, face_index=getattr(path, "face_index", 0))
    assert (font.family_name, font.style_name) in {(family, "Regular"), (family, "Medium")}
    cmap = font.get_charmap()
    assert all(ord(ch) in cmap for ch in "陶乐镇东街社区满意度订单")


async def test_report_chart_is_a_png_with_chinese_text(session):
    _require_cjk_or_skip()
    data = await seed(session)
    scope = Scope(town_ids=frozenset({data.cast.org.town.id}))
    report = await reports.build_report(session, scope, MARCH, now=NOW)
    png = charts.report_chart(report, "zh_CN", "陶乐镇 服务报表")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from matplotlib import image

    pixels = image.imread(BytesIO(png))
    assert pixels.shape[1] == 1080 and pixels.shape[0] > 1200  # portrait, phone-sized
    # Chinese labels are drawn with glyphs from the CJK font: text made of CJK only renders
    # with ink (tofu boxes would be drawn by DejaVu, which warns about missing glyphs).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would raise
        charts.report_chart(report, "zh_CN", "陶乐镇东街社区")
        charts.bar_chart("各站订单", ["东街社区", "西街社区"], [5, 3], locale="zh_CN")
