"""Broadcasts with a controlled clock: audiences, approval, schedules (their recurrence
rules: tests/test_broadcast_recurrence.py), the fan-out (chunks, blocked users, resuming a
crashed one) and the delivery report."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from bot.app import build_i18n
from bot.notices import make_renderer
from models import Broadcast, BroadcastStatus, OutboxMessage, OutboxStatus, User
from scheduler import ManualClock
from services import broadcasts
from services.broadcasts import delivery
from services.errors import Conflict, DomainError, NotAllowed
from services.outbox import NoticeKind
from services.points import LOCAL_TZ
from tests.factories import roles_for
from tests.scheduler_harness import running_on

TZ = LOCAL_TZ
# Every test runs on this instant: what the services read as "now" (their `utcnow()`) and
# what the ticks below are measured from. A Tuesday, 09:00 in the town.
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
TODAY = NOW.astimezone(TZ).date()


def local(day: date, hour: int, minute: int = 0, tz=TZ) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with running_on(ManualClock(NOW)):
        yield


async def create(session, author, *, audience=None, at=None, recurrence=None, now=None, **kw):
    town_id = kw.pop("town").id if "town" in kw else author.town_id
    return await broadcasts.create(
        session,
        author,
        await roles_for(session, author),
        town_id=town_id,
        text=kw.pop("text", "Market-day legal stall on Friday"),
        audience=audience or {"kind": "everyone"},
        at=at,
        recurrence=recurrence,
        now=now,
        tz=TZ,
        **kw,
    )


async def run_rows(sessionmaker, bc_id: int, run: int | None = None) -> list[OutboxMessage]:
    async with sessionmaker() as s:
        stmt = select(OutboxMessage).where(
            OutboxMessage.broadcast_id == bc_id,
            OutboxMessage.dedupe_key.like(f"bc:{bc_id}:%"),
        )
        if run is not None:
            stmt = stmt.where(OutboxMessage.dedupe_key.like(f"bc:{bc_id}:{run}:%"))
        return list(await s.scalars(stmt.order_by(OutboxMessage.id)))


async def tick(sessionmaker, now: datetime, chunk: int = broadcasts.FANOUT_CHUNK):
    runs = await broadcasts.run_due(sessionmaker, now, tz=TZ, chunk=chunk)
    reports = await broadcasts.send_reports(sessionmaker, now)
    return runs, reports


async def get(sessionmaker, bc_id: int) -> Broadcast:
    async with sessionmaker() as s:
        return await s.get(Broadcast, bc_id)


# --- audiences and who may address them ---------------------------------------------------


async def test_audiences(session, cast):
    town = cast.org.town.id
    count = broadcasts.count_audience
    # everyone: users of the town's villages (staff without a village are not residents)
    assert await count(session, town, {"kind": "everyone"}) == 5
    assert await count(session, town, {"kind": "stations", "ids": [cast.org.east.id]}) == 3
    assert await count(session, town, {"kind": "team", "ids": [cast.org.health.id]}) == 4
    assert await count(session, town, {"kind": "volunteers"}) == 8  # incl. the squads' leaders
    assert await count(session, town, {"kind": "heads"}) == 2
    assert await count(session, town, {"kind": "party"}) == 0
    cast.resident.is_party_member = True
    cast.west_head.blocked = True  # blocked the bot: not counted
    await session.commit()
    assert await count(session, town, {"kind": "party"}) == 1
    assert await count(session, town, {"kind": "heads"}) == 1


async def test_a_station_head_may_address_only_their_own_village(session, cast):
    for audience in (
        {"kind": "everyone"},
        {"kind": "stations", "ids": [cast.org.west.id]},
        {"kind": "stations", "ids": [cast.org.east.id, cast.org.west.id]},
        {"kind": "heads"},
    ):
        with pytest.raises(NotAllowed):
            await create(session, cast.east_head, audience=audience)
    with pytest.raises(NotAllowed):
        await create(session, cast.resident)  # residents do not broadcast
    # Their own village they may address: the notice waits for the office.
    roles = await roles_for(session, cast.east_head)
    assert [s.id for s in await broadcasts.stations_for(session, roles, cast.org.town.id)] == [
        cast.org.east.id
    ]
    own = {"kind": "stations", "ids": [cast.org.east.id]}
    bc = await create(session, cast.east_head, audience=own, now=local(date(2026, 3, 2), 9))
    assert (bc.author_id, bc.audience, bc.status) == (
        cast.east_head.id,
        own,
        BroadcastStatus.PENDING_APPROVAL,
    )


async def test_text_limits(session, cast):
    with pytest.raises(DomainError):
        await create(session, cast.office, town=cast.org.town, text="   ")
    with pytest.raises(DomainError):
        await create(session, cast.office, town=cast.org.town, text="x" * 3501)
    with pytest.raises(DomainError):
        await create(session, cast.office, town=cast.org.town, text="x" * 1001, photo_file_id="p")


# --- scheduled once -------------------------------------------------------------------------


async def test_a_scheduled_notice_fans_out_once_at_its_time(session, sessionmaker, cast):
    at = NOW + timedelta(days=1)
    bc = await create(session, cast.office, town=cast.org.town, at=at)
    assert bc.status == BroadcastStatus.SCHEDULED and bc.next_run_at == at

    assert (await tick(sessionmaker, at - timedelta(seconds=1)))[0] == []
    runs, _ = await tick(sessionmaker, at)
    assert [(r.broadcast_id, r.run, r.queued, r.finished) for r in runs] == [(bc.id, 1, 5, True)]
    rows = await run_rows(sessionmaker, bc.id, 1)
    assert {r.user_id for r in rows} == {
        cast.resident.id,
        cast.neighbour.id,
        cast.west_resident.id,
        cast.east_head.id,
        cast.west_head.id,
    }
    assert all(r.status == OutboxStatus.PENDING and not r.urgent for r in rows)
    assert {r.dedupe_key for r in rows} == {f"bc:{bc.id}:1:{r.user_id}" for r in rows}
    assert all(r.payload == {"kind": NoticeKind.BROADCAST, "broadcast_id": bc.id} for r in rows)
    done = await get(sessionmaker, bc.id)
    assert (done.status, done.runs, done.next_run_at) == (BroadcastStatus.SENT, 1, None)
    assert (await tick(sessionmaker, at + timedelta(days=1)))[0] == []
    assert len(await run_rows(sessionmaker, bc.id)) == 5


async def test_a_time_in_the_past_is_refused(session, cast):
    with pytest.raises(DomainError):
        await create(session, cast.office, town=cast.org.town, at=NOW - timedelta(hours=1))


async def test_blocked_users_get_a_blocked_record_and_no_message(session, sessionmaker, cast):
    cast.neighbour.blocked = True
    await session.commit()
    bc = await create(session, cast.office, town=cast.org.town)
    await tick(sessionmaker, NOW)
    rows = {r.user_id: r for r in await run_rows(sessionmaker, bc.id)}
    assert rows[cast.neighbour.id].status == OutboxStatus.BLOCKED
    assert rows[cast.neighbour.id].attempts == 0
    assert sum(r.status == OutboxStatus.PENDING for r in rows.values()) == 4


# --- recurring ------------------------------------------------------------------------------


async def test_daily_notice_runs_every_day_with_fresh_keys(session, sessionmaker, cast):
    day = TODAY + timedelta(days=1)
    rule = {"kind": "daily", "time": "08:00"}
    bc = await create(session, cast.office, town=cast.org.town, recurrence=rule, now=local(day, 7))
    assert bc.next_run_at == local(day, 8) and bc.recurrence["days"] == []
    await tick(sessionmaker, local(day, 8))
    again = await get(sessionmaker, bc.id)
    assert again.status == BroadcastStatus.SCHEDULED and again.runs == 1
    assert again.next_run_at == local(day + timedelta(days=1), 8)
    await tick(sessionmaker, local(day, 23))
    assert len(await run_rows(sessionmaker, bc.id)) == 5
    await tick(sessionmaker, local(day + timedelta(days=1), 8, 1))
    assert len(await run_rows(sessionmaker, bc.id, 2)) == 5
    assert (await get(sessionmaker, bc.id)).runs == 2


async def test_weekly_notice_runs_on_the_chosen_days_only(session, sessionmaker, cast):
    monday = TODAY + timedelta(days=7 - TODAY.weekday())
    rule = {"kind": "weekly", "days": [0, 2], "time": "19:00"}  # Mon, Wed
    bc = await create(
        session, cast.office, town=cast.org.town, recurrence=rule, now=local(monday, 8)
    )
    for offset in range(8):  # tick every evening for a week and a day
        await tick(sessionmaker, local(monday + timedelta(days=offset), 19, 30))
    runs = (await get(sessionmaker, bc.id)).runs
    assert runs == 3  # Monday, Wednesday, next Monday
    assert (await get(sessionmaker, bc.id)).next_run_at == local(monday + timedelta(days=9), 19)


async def test_monthly_notice(session, sessionmaker, cast):
    year = TODAY.year + 1
    rule = {"kind": "monthly", "days": [31], "time": "09:00"}
    bc = await create(
        session, cast.office, town=cast.org.town, recurrence=rule, now=local(date(year, 1, 5), 9)
    )
    assert bc.next_run_at == local(date(year, 1, 31), 9)
    await tick(sessionmaker, local(date(year, 1, 31), 9))
    last = calendar.monthrange(year, 2)[1]  # "the 31st" in February is its last day
    assert (await get(sessionmaker, bc.id)).next_run_at == local(date(year, 2, last), 9)


# --- approval -------------------------------------------------------------------------------


async def test_a_station_heads_notice_waits_for_the_office(session, sessionmaker, cast):
    bc = await create(
        session, cast.east_head, audience={"kind": "stations", "ids": [cast.org.east.id]}
    )
    assert bc.status == BroadcastStatus.PENDING_APPROVAL
    async with sessionmaker() as s:
        asks = list(
            await s.scalars(
                select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"bcapproval:{bc.id}:%"))
            )
        )
    assert {a.user_id for a in asks} == {cast.office.id, cast.admin.id}  # the town's office
    assert all(a.payload["kind"] == NoticeKind.BROADCAST_APPROVAL for a in asks)
    ask = asks[0]
    renderer = make_renderer(build_i18n("en"), TZ)
    async with sessionmaker() as s:
        _method, params = await renderer(s, await s.get(OutboxMessage, ask.id))
    assert "Market-day legal stall" in params["text"]
    buttons = [b.text for row in params["reply_markup"].inline_keyboard for b in row]
    assert len(buttons) == 2  # Approve, Reject

    assert (await tick(sessionmaker, NOW))[0] == []  # nothing before approval
    with pytest.raises(NotAllowed):  # a head cannot approve their own
        await broadcasts.approve(
            session, bc.id, cast.east_head, await roles_for(session, cast.east_head)
        )
    office_roles = await roles_for(session, cast.office)
    approved = await broadcasts.approve(session, bc.id, cast.office, office_roles, tz=TZ)
    assert approved.status == BroadcastStatus.SCHEDULED
    assert approved.approved_by_id == cast.office.id
    with pytest.raises(Conflict):
        await broadcasts.approve(session, bc.id, cast.office, office_roles, tz=TZ)
    runs, _ = await tick(sessionmaker, NOW)
    assert runs[0].queued == 3  # the east village: two residents and the head
    async with sessionmaker() as s:
        told = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"bcdecided:{bc.id}")
        )
    assert told.user_id == cast.east_head.id and "approved" in told.payload["msgid"]
    # The approval card is stale now: it renders to nothing (never sent late).
    async with sessionmaker() as s:
        assert await renderer(s, await s.get(OutboxMessage, ask.id)) is None


async def test_a_rejected_notice_never_goes_out_and_the_head_is_told_why(
    session, sessionmaker, cast
):
    bc = await create(
        session, cast.east_head, audience={"kind": "stations", "ids": [cast.org.east.id]}
    )
    office_roles = await roles_for(session, cast.office)
    with pytest.raises(DomainError):
        await broadcasts.reject(session, bc.id, cast.office, office_roles, "  ")
    rejected = await broadcasts.reject(
        session, bc.id, cast.office, office_roles, "Please add the place"
    )
    assert rejected.status == BroadcastStatus.REJECTED
    assert rejected.reject_reason == "Please add the place"
    async with sessionmaker() as s:
        told = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"bcdecided:{bc.id}")
        )
    assert told.payload["params"]["reason"] == "Please add the place"
    with pytest.raises(Conflict):
        await broadcasts.approve(session, bc.id, cast.office, office_roles, tz=TZ)
    assert (await tick(sessionmaker, NOW + timedelta(days=1)))[0] == []


async def test_approving_late_sends_a_one_off_at_once(session, sessionmaker, cast):
    at = NOW + timedelta(hours=1)
    bc = await create(
        session, cast.east_head, audience={"kind": "stations", "ids": [cast.org.east.id]}, at=at
    )
    later = at + timedelta(hours=2)
    approved = await broadcasts.approve(
        session, bc.id, cast.office, await roles_for(session, cast.office), now=later, tz=TZ
    )
    assert approved.next_run_at == later


# --- cancelling -----------------------------------------------------------------------------


async def test_cancel_a_scheduled_and_a_recurring_notice(session, sessionmaker, cast):
    at = NOW + timedelta(hours=3)
    once = await create(session, cast.office, town=cast.org.town, at=at)
    daily = await create(
        session, cast.office, town=cast.org.town, recurrence={"kind": "daily", "time": "08:00"}
    )
    listed = await broadcasts.scheduled(session, await roles_for(session, cast.office))
    assert {b.id for b in listed} == {once.id, daily.id}
    assert not await broadcasts.scheduled(session, await roles_for(session, cast.east_head))
    with pytest.raises(NotAllowed):
        await broadcasts.cancel(
            session, once.id, cast.resident, await roles_for(session, cast.resident)
        )
    office = await roles_for(session, cast.office)
    assert (await broadcasts.cancel(session, once.id, cast.office, office)).status == (
        BroadcastStatus.CANCELLED
    )
    await tick(sessionmaker, local(TODAY + timedelta(days=1), 8, 1))
    await broadcasts.cancel(session, daily.id, cast.office, office)
    await tick(sessionmaker, local(TODAY + timedelta(days=5), 9))
    assert not await run_rows(sessionmaker, once.id)
    assert (await get(sessionmaker, daily.id)).runs == 1  # ran once, then was stopped
    with pytest.raises(Conflict):
        await broadcasts.cancel(session, once.id, cast.office, office)


# --- fan-out: chunks, a crash in the middle, the report -------------------------------------


async def test_fan_out_in_chunks_for_many_people(session, sessionmaker, cast):
    town, station = cast.org.town.id, cast.org.west.id
    await session.execute(
        insert(User),
        [
            {
                "tg_id": 9_000_000 + i,
                "registered": True,
                "station_id": station,
                "town_id": town,
                "blocked": i % 100 == 0,
            }
            for i in range(1200)
        ],
    )
    await session.commit()
    bc = await create(session, cast.office, town=cast.org.town)
    runs, _ = await tick(sessionmaker, NOW, chunk=500)
    assert runs[0].queued == 1205
    rows = await run_rows(sessionmaker, bc.id)
    assert len(rows) == len({r.user_id for r in rows}) == 1205
    assert sum(r.status == OutboxStatus.BLOCKED for r in rows) == 12


async def test_a_crashed_fan_out_resumes_without_writing_anyone_twice(
    session, sessionmaker, cast, monkeypatch
):
    now = NOW
    bc = await create(session, cast.office, town=cast.org.town, now=now)
    real, calls = delivery.insert_ignore, []

    async def dies_on_second_chunk(session, table, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return await real(session, table, rows)

    monkeypatch.setattr(delivery, "insert_ignore", dies_on_second_chunk)
    with pytest.raises(RuntimeError):
        await tick(sessionmaker, now, chunk=2)
    monkeypatch.setattr(delivery, "insert_ignore", real)
    assert len(await run_rows(sessionmaker, bc.id)) == 2  # the first chunk made it
    stuck = await get(sessionmaker, bc.id)
    assert stuck.status == BroadcastStatus.SENDING and stuck.runs == 1

    assert (await tick(sessionmaker, now + timedelta(minutes=1)))[0] == []  # lease holds
    runs, _ = await tick(sessionmaker, now + broadcasts.LEASE + timedelta(seconds=1), chunk=2)
    assert [(r.run, r.queued, r.finished) for r in runs] == [(1, 3, True)]  # the rest
    rows = await run_rows(sessionmaker, bc.id)
    assert len(rows) == len({r.dedupe_key for r in rows}) == 5
    assert (await get(sessionmaker, bc.id)).status == BroadcastStatus.SENT


async def test_the_only_instance_resumes_a_crashed_fan_out_at_once(session, sessionmaker, cast):
    now = NOW
    bc = await create(session, cast.office, town=cast.org.town, now=now)
    async with sessionmaker() as s:  # as if a crash left it mid-way, lease running
        await s.execute(
            update(Broadcast)
            .where(Broadcast.id == bc.id)
            .values(status=BroadcastStatus.SENDING, runs=1, next_run_at=now + broadcasts.LEASE)
        )
        await s.commit()
    assert await broadcasts.release_leases(sessionmaker, now) == 1
    runs, _ = await tick(sessionmaker, now)
    assert [(r.run, r.queued) for r in runs] == [(1, 5)]


async def test_the_author_gets_one_delivery_report_when_the_run_is_done(
    session, sessionmaker, cast
):
    cast.neighbour.blocked = True
    cast.office.locale = "en"
    await session.commit()
    bc = await create(session, cast.office, town=cast.org.town)
    _, reports = await tick(sessionmaker, NOW)
    assert reports == []  # four rows still to send
    rows = [r for r in await run_rows(sessionmaker, bc.id) if r.status == OutboxStatus.PENDING]
    async with sessionmaker() as s:
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([r.id for r in rows[:3]]))
            .values(status=OutboxStatus.SENT)
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[3].id)
            .values(status=OutboxStatus.FAILED)
        )
        await s.commit()
        result = await broadcasts.report(s, bc.id, 1)
    assert (result.sent, result.blocked, result.failed, result.pending) == (3, 1, 1, 0)
    _, reports = await tick(sessionmaker, NOW)
    assert reports == [bc.id]
    assert (await tick(sessionmaker, NOW))[1] == []  # once
    async with sessionmaker() as s:
        [row] = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"bcreport:{bc.id}:1")
        )
        assert row.user_id == cast.office.id
        _method, params = await make_renderer(build_i18n("en"), TZ)(s, row)
    assert "Sent: 3" in params["text"] and "Blocked the bot: 1" in params["text"]
    assert "Failed: 1" in params["text"]


async def test_mark_blocked_and_unblocked(session, cast):
    assert await broadcasts.mark_blocked(session, cast.resident, True)
    assert cast.resident.blocked and cast.resident.blocked_at is not None
    assert not await broadcasts.mark_blocked(session, cast.resident, True)
    assert await broadcasts.mark_blocked(session, cast.resident, False)
    assert not cast.resident.blocked
    total = await session.scalar(select(func.count(User.id)).where(User.blocked.is_(True)))
    assert total == 0
