"""Order events said in the reader's language: every note the services really write (through
the real services, on a real database) reads as Chinese in zh_CN, with local times."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import Assignment, OrderEvent, OrderStatus, Role
from services import orders
from services.orders.event_text import describe
from services.people import dismiss
from services.points import DEFAULT_RULES
from services.wording import moment_text
from tests.factories import CTX, Cast, advance_to, place_order, roles_for, slot

TZ = ZoneInfo("Asia/Shanghai")
LATIN = re.compile(r"[A-Za-z]+")


async def _every_note(session, cast: Cast) -> list[OrderEvent]:
    """Orders taken down every path that writes a note of its own."""
    c, org = cast, cast.org
    # Declined down the candidates to nobody, then handed to a team by the office.
    a = await place_order(session, c.resident, org.clinic)
    await orders.decline(
        session, CTX, a.id, c.health_leader, await roles_for(session, c.health_leader), "人手不够"
    )
    await orders.decline(
        session, CTX, a.id, c.east_head, await roles_for(session, c.east_head), "不会"
    )
    office = await roles_for(session, c.office)
    await orders.decline(session, CTX, a.id, c.office, office, "都忙")
    await orders.transfer(session, CTX, a.id, c.office, office, org.law.id, "是法律问题")
    # Placed by the station head for a neighbour; done, hours confirmed, rated with a word.
    b = await place_order(session, c.neighbour, org.clinic, placed_by=c.east_head)
    await advance_to(session, c, b.id, OrderStatus.DONE)
    lroles = await roles_for(session, c.health_leader)
    await orders.confirm_hours(session, b.id, c.health_leader, lroles, rules=DEFAULT_RULES)
    await orders.rate(session, b.id, c.neighbour, 4, "很及时", rules=DEFAULT_RULES)
    # Completed without pressing Start; a volunteer withdrew first.
    d = await place_order(session, c.resident, org.clinic)
    await orders.accept(session, d.id, c.health_leader, lroles)
    vols = [c.health_vol.id, c.health_vol2.id]
    await orders.assign(session, CTX, d.id, c.health_leader, lroles, vols, *slot(-3))
    gone = await session.scalar(
        select(Assignment).where(
            Assignment.order_id == d.id, Assignment.volunteer_id == c.health_vol2.id
        )
    )
    await orders.withdraw(session, gone.id, c.health_vol2)
    vroles = await roles_for(session, c.health_vol)
    photos = [("f", "u", "data/media/1.jpg")]
    hours = {c.health_vol.id: Decimal(2)}
    await orders.complete(session, CTX, d.id, c.health_vol, vroles, photos, hours, None)
    # Not accepted in time; cancelled with a reason.
    e = await place_order(session, c.west_resident, org.clinic)
    await orders.time_out(session, CTX, e.id, version=e.version)
    rroles = await roles_for(session, c.west_resident)
    await orders.cancel(session, e.id, c.west_resident, rroles, "不需要了")
    # Nobody at all can take it.
    for person, role in (
        (c.health_leader, Role.TEAM_LEADER),
        (c.health_leader2, Role.TEAM_LEADER),
        (c.east_head, Role.TEAM_LEADER),
        (c.office, Role.OFFICE),
    ):
        await dismiss(session, person, role)
    await place_order(session, c.resident, org.clinic)
    return list(await session.scalars(select(OrderEvent).order_by(OrderEvent.id)))


async def test_every_note_the_services_write_reads_as_chinese(session, cast):
    events = await _every_note(session, cast)
    kinds = {e.kind for e in events if e.note}
    assert kinds >= {
        "created",
        "routed",
        "declined",
        "escalated",
        "transferred",
        "assigned",
        "withdrawn",
        "started",
        "done",
        "hours_confirmed",
        "rated",
        "cancelled",
    }, kinds
    zh_names = {cast.org.health.name_zh: "卫生健康志愿服务队"}
    for e in events:
        said = describe(e.kind, e.note, "zh_CN", TZ, team_name=lambda n: zh_names.get(n, n))
        assert not LATIN.search(said.what + said.detail), (e.kind, e.note, said)
        english = describe(e.kind, e.note, "en", TZ)
        assert english.what and not re.search(r"[\u4e00-\u9fff]", english.what)


async def test_the_routing_trail_and_the_slot_in_chinese_and_local_time(session, cast):
    events = await _every_note(session, cast)

    def said(kind: str, n: int = 0) -> str:
        rows = [e for e in events if e.kind == kind and e.note]
        return describe(kind, rows[n].note, "zh_CN", TZ).detail

    assert said("routed") == "新订单；派给卫生健康志愿服务队"
    assert said("routed", 1) == (
        "张医生拒单（人手不够）；卫生健康志愿服务队已拒单或转出；派给东街社区志愿服务小分队"
    )
    assert said("created") == "代杨奶奶下单"
    assert said("hours_confirmed") == "志愿者 1 人，共 2 小时"
    assert said("rated") == "★★★★☆ 很及时"
    assert said("transferred") == "从实践所办公室转给法律普及志愿服务队：是法律问题"
    assert said("declined", 3) == "超时未接单"
    assert "没有人能接单" in said("escalated", 1)
    # The slot: stored in UTC, read in Beijing time (UTC+8), the day once.
    assigned = next(e for e in events if e.kind == "assigned" and "赵志愿" in e.note)
    text = describe("assigned", assigned.note, "zh_CN", TZ).detail
    assert text.startswith("王志愿、赵志愿；") and "T" not in text and "+00:00" not in text
    start, end = (
        datetime.fromisoformat(t).astimezone(TZ) for t in assigned.note.split("; ")[1].split(" – ")
    )
    until = f"{end:%H:%M}" if start.date() == end.date() else moment_text(end, TZ, "zh_CN")
    assert text == f"王志愿、赵志愿；{moment_text(start, TZ, 'zh_CN')}–{until}"
    assert text.startswith(
        f"王志愿、赵志愿；{start.month}月{start.day}日 周"
    )  # «12月2日 周三 09:00»


async def test_a_note_in_an_unknown_form_is_shown_as_stored(session):
    said = describe("routed", "some future wording", "zh_CN", TZ)
    assert (said.what, said.detail) == ("派单", "some future wording")
    assert describe("declined", "太远了", "zh_CN", TZ).detail == "太远了"
    assert describe("hours_confirmed", "2 volunteer(s), 3.50 h", "zh_CN", TZ).detail == (
        "志愿者 2 人，共 3.5 小时"
    )
