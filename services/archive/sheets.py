"""The archive workbook (台账): one sheet each for orders, order events, assignments and
hours, ratings, volunteers, activities and attendance, and (units.py) platforms and units.
Rows are converted and streamed into the sheet in a worker thread while the next batch is
read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models import (
    Activity,
    ActivitySignup,
    Assignment,
    Attachment,
    AttachmentKind,
    Order,
    OrderEvent,
    Rating,
    SignupStatus,
    User,
)
from services.archive.columns import (
    ACTIVITY_NAMES,
    ASSIGNMENT_NAMES,
    EVENT_NAMES,
    SHEETS,
    SIGNUP_NAMES,
    SLOT_NAMES,
    STATUS_ZH,
    column_width,
)
from services.archive.records import Lookups, activity_filter, batches, order_filter
from services.archive.units import PLATFORM_SHEET, UNIT_SHEET, unit_sheet_rows
from services.archive.xlsx import SheetStream, XlsxWriter
from services.orders.event_text import describe
from services.org import Policy
from services.reports import Period, Scope, volunteer_rows


@dataclass
class ArchiveSummary:
    rows: dict[str, int] = field(default_factory=dict)  # sheet → data rows written


def _local(value: datetime | None, tz: tzinfo) -> datetime | None:
    return value.astimezone(tz).replace(tzinfo=None) if value else None


def _yes(value: bool | None) -> str:
    return "是" if value else "否"


def _num(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _name(user_name: str | None, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return user_name or f"#{user_id}"


class _Sheets:
    """The archive workbook; rows are converted and written in a worker thread, batch by
    batch, while the next batch is read."""

    def __init__(
        self,
        out: Path | IO[bytes],
        session: AsyncSession,
        names: Lookups,
        scope: Scope,
        period: Period | None,
        tz: tzinfo,
    ) -> None:
        self.xlsx = XlsxWriter(out)
        self.summary = ArchiveSummary()
        self.session = session  # and what the sheets show: names, scope, period, zone
        self.names = names
        self.scope = scope
        self.period = period
        self.tz = tz

    def sheet(self, title: str) -> SheetStream:
        self.summary.rows[title] = 0
        header = SHEETS[title]
        return self.xlsx.sheet(title, header, [column_width(h) for h in header])

    async def write(
        self,
        ws: SheetStream,
        stmt: Select[*tuple[Any, ...]],
        convert: Callable[[Any], list[Any]],
    ) -> None:
        def append(rows: Sequence[Any]) -> int:
            return ws.append([convert(row) for row in rows])

        # A pipeline of two: batch n is written in a thread while batch n + 1 is read.
        writing: asyncio.Future[int] | None = None
        try:
            async for part in batches(self.session, stmt):
                if writing is not None:
                    self.summary.rows[ws.title] += await writing
                writing = asyncio.ensure_future(asyncio.to_thread(append, part))
            if writing is not None:
                self.summary.rows[ws.title] += await writing
                writing = None
        finally:
            if writing is not None:  # an error while reading: let the write finish first
                await asyncio.wait([writing])


async def write_xlsx(
    session: AsyncSession,
    out: Path | IO[bytes],
    scope: Scope,
    period: Period | None = None,
    *,
    tz: tzinfo,
    policy: Policy | None = None,
) -> ArchiveSummary:
    """Write the workbook to `out` (a path or a binary file); returns the row counts.
    `policy` (default: the defaults of config) sets the unit sheets' deadline and targets."""
    names = await Lookups().load(session)
    book = _Sheets(out, session, names, scope, period, tz)
    try:
        for sheet in SHEET_WRITERS:
            await sheet(book)
        rows = await unit_sheet_rows(session, scope, period, policy or Policy())
        for title, part in zip((PLATFORM_SHEET, UNIT_SHEET), rows, strict=True):
            ws = book.sheet(title)
            book.summary.rows[title] = await asyncio.to_thread(ws.append, part)
    finally:
        await asyncio.to_thread(book.xlsx.close)
    return book.summary


async def _orders_sheet(book: _Sheets) -> None:
    resident, acceptor = aliased(User), aliased(User)
    # Plain columns, not ORM objects: a tenth of the cost per row on a big export.
    columns = [
        Order.number,
        Order.status,
        Order.created_at,
        Order.station_id,
        Order.category_id,
        Order.team_id,
        Order.contact_name,
        resident.name,
        Order.is_proxy,
        Order.description,
        Order.preferred_date,
        Order.preferred_slot,
        Order.address,
        acceptor.name,
        Order.accepted_at,
        Order.started_at,
        Order.done_at,
        Order.rated_at,
        Order.cancelled_at,
        Order.escalated,
        Order.slot_start,
        Order.slot_end,
        Order.completion_note,
        Rating.score,
    ]
    stmt = (
        select(*columns)
        .join(resident, resident.id == Order.resident_id)
        .outerjoin(acceptor, acceptor.id == Order.accepted_by_id)
        .outerjoin(Rating, Rating.order_id == Order.id)
        .where(*order_filter(book.scope, book.period))
        .order_by(Order.id)
    )

    def row(r: Any) -> list[Any]:
        (
            number,
            status,
            created,
            station,
            category,
            team,
            contact,
            resident_name,
            proxy,
            description,
            preferred,
            slot,
            address,
            acceptor_name,
            accepted,
            started,
            done,
            rated,
            cancelled,
            escalated,
            slot_start,
            slot_end,
            note,
            score,
        ) = r
        cat_name, area_id, platform_id = book.names.categories.get(category, ("", 0, None))
        slot_name = SLOT_NAMES.get(slot.value, "")
        return [
            number,
            STATUS_ZH.get(status.value, status.value),
            _local(created, book.tz),
            book.names.regions.get(station),
            book.names.areas.get(area_id),
            cat_name,
            book.names.platforms.get(platform_id) if platform_id else None,
            book.names.teams.get(team) if team else "镇实践所办公室",
            contact or resident_name,
            _yes(proxy),
            description,
            f"{preferred:%Y-%m-%d} {slot_name}" if preferred else slot_name,
            address,
            acceptor_name,
            _local(accepted, book.tz),
            _local(started, book.tz),
            _local(done, book.tz),
            _local(rated, book.tz),
            _local(cancelled, book.tz),
            _yes(escalated),
            _local(slot_start, book.tz),
            _local(slot_end, book.tz),
            note,
            score,
        ]

    await book.write(book.sheet("订单"), stmt, row)


async def _events_sheet(book: _Sheets) -> None:
    actor = aliased(User)
    stmt = (
        select(
            Order.number,
            OrderEvent.at,
            OrderEvent.kind,
            OrderEvent.from_status,
            OrderEvent.to_status,
            OrderEvent.actor_id,
            actor.name,
            OrderEvent.team_id,
            OrderEvent.note,
        )
        .join(Order, Order.id == OrderEvent.order_id)
        .outerjoin(actor, actor.id == OrderEvent.actor_id)
        .where(*order_filter(book.scope, book.period))
        .order_by(OrderEvent.order_id, OrderEvent.id)
    )

    def status(value: str | None) -> str | None:
        return STATUS_ZH.get(value, value) if value else None

    def row(r: Any) -> list[Any]:
        number, at, kind, frm, to, actor_id, actor_name, team_id, note = r
        return [
            number,
            _local(at, book.tz),
            EVENT_NAMES.get(kind, kind),
            status(frm),
            status(to),
            _name(actor_name, actor_id) or "系统",
            book.names.teams.get(team_id) if team_id else None,
            describe(kind, note, "zh_CN", book.tz).detail or None,
        ]

    await book.write(book.sheet("订单记录"), stmt, row)


async def _assignments_sheet(book: _Sheets) -> None:
    vol, by, confirmer = aliased(User), aliased(User), aliased(User)
    stmt = (
        select(
            Order.number,
            Order.station_id,
            Assignment.volunteer_id,
            vol.name,
            Assignment.assigned_by_id,
            by.name,
            Assignment.created_at,
            Assignment.status,
            Assignment.hours,
            Assignment.confirmed,
            Assignment.confirmed_by_id,
            confirmer.name,
            Assignment.confirmed_at,
        )
        .join(Order, Order.id == Assignment.order_id)
        .join(vol, vol.id == Assignment.volunteer_id)
        .outerjoin(by, by.id == Assignment.assigned_by_id)
        .outerjoin(confirmer, confirmer.id == Assignment.confirmed_by_id)
        .where(*order_filter(book.scope, book.period))
        .order_by(Assignment.order_id, Assignment.id)
    )

    def row(r: Any) -> list[Any]:
        (number, station, vid, vname, bid, bname, at, status, hours, ok, cid, cname, cat) = r
        return [
            number,
            book.names.regions.get(station),
            _name(vname, vid),
            _name(bname, bid),
            _local(at, book.tz),
            ASSIGNMENT_NAMES.get(status.value, status.value),
            _num(hours),
            _yes(ok),
            _name(cname, cid),
            _local(cat, book.tz),
        ]

    await book.write(book.sheet("派单与工时"), stmt, row)


async def _ratings_sheet(book: _Sheets) -> None:
    stmt = (
        select(
            Order.number,
            Order.station_id,
            Order.category_id,
            Rating.score,
            Rating.comment,
            Rating.created_at,
        )
        .join(Order, Order.id == Rating.order_id)
        .where(*order_filter(book.scope, book.period))
        .order_by(Rating.order_id)
    )

    def row(r: Any) -> list[Any]:
        number, station, category, score, comment, at = r
        return [
            number,
            book.names.regions.get(station),
            book.names.categories.get(category, ("",))[0],
            score,
            comment,
            _local(at, book.tz),
        ]

    await book.write(book.sheet("评价"), stmt, row)


async def _volunteers_sheet(book: _Sheets) -> None:
    """Active team members of the scope (a village: its residents who volunteer), with their
    hours and points booked in the period and the orders they served in it."""
    ws = book.sheet("志愿者")
    people = await volunteer_rows(book.session, book.scope, book.period)

    def write() -> int:
        return ws.append(
            [
                [
                    p.name,
                    book.names.regions.get(p.station_id) if p.station_id else None,
                    "、".join(book.names.teams.get(t, "") for t in p.team_ids),
                    _yes(p.party_member),
                    _num(p.hours),
                    _num(p.points),
                    p.orders,
                ]
                for p in people
            ]
        )

    book.summary.rows["志愿者"] = await asyncio.to_thread(write)


async def _activities_sheets(book: _Sheets) -> None:
    signed = (
        select(
            ActivitySignup.activity_id.label("aid"),
            func.count().label("signed"),
            func.sum(case((ActivitySignup.attended.is_(True), 1), else_=0)).label("came"),
        )
        .where(ActivitySignup.status != SignupStatus.CANCELLED)
        .group_by(ActivitySignup.activity_id)
        .subquery()
    )
    photos = (
        select(Attachment.activity_id.label("aid"), func.count().label("photos"))
        .where(Attachment.activity_id.is_not(None), Attachment.kind == AttachmentKind.PHOTO)
        .group_by(Attachment.activity_id)
        .subquery()
    )
    stmt = (
        select(Activity, signed.c.signed, signed.c.came, photos.c.photos)
        .outerjoin(signed, signed.c.aid == Activity.id)
        .outerjoin(photos, photos.c.aid == Activity.id)
        .where(*activity_filter(book.scope, book.period))
        .order_by(Activity.starts_at, Activity.id)
    )

    def activity_row(r: Any) -> list[Any]:
        a, n_signed, n_came, n_photos = r
        return [
            a.number,
            a.title,
            book.names.regions.get(a.station_id)
            if a.station_id
            else book.names.regions.get(a.town_id),
            book.names.teams.get(a.team_id) if a.team_id else None,
            a.place,
            _local(a.starts_at, book.tz),
            _local(a.ends_at, book.tz),
            ACTIVITY_NAMES.get(a.status.value, a.status.value),
            int(n_signed or 0),
            int(n_came or 0),
            int(n_photos or 0),
        ]

    await book.write(book.sheet("活动"), stmt, activity_row)

    attendance = (
        select(
            Activity.number,
            Activity.title,
            ActivitySignup.user_id,
            User.name,
            ActivitySignup.status,
            ActivitySignup.attended,
            ActivitySignup.checked_in_at,
            ActivitySignup.hours,
        )
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .join(User, User.id == ActivitySignup.user_id)
        .where(*activity_filter(book.scope, book.period))
        .order_by(Activity.starts_at, Activity.id, ActivitySignup.id)
    )

    def attendance_row(r: Any) -> list[Any]:
        number, title, uid, name, status, attended, at, hours = r
        return [
            number,
            title,
            _name(name, uid),
            SIGNUP_NAMES.get(status.value, status.value),
            _yes(attended),
            _local(at, book.tz),
            _num(hours),
        ]

    await book.write(book.sheet("签到"), attendance, attendance_row)


SHEET_WRITERS = (
    _orders_sheet,
    _events_sheet,
    _assignments_sheet,
    _ratings_sheet,
    _volunteers_sheet,
    _activities_sheets,
)
