"""The order's clocks: written at its transitions, fired by the scheduler.

What is written where (durations from the org config's `policy:` block):

    routed (new, declined, timed out, transferred, dispatched)
        ACCEPT_NUDGE at routed + sla.accept_reminder      → whoever holds the order
        ESCALATE     at routed + sla.escalate_after       → the lead unit's dispatchers (if
                                                            any; else the next candidate)
    waiting with the lead unit (manual platform, or escalated there)
        ESCALATE     at + sla.escalate_after              → the institute office
    volunteers assigned (or the slot moved)
        VOLUNTEER_EVENING the evening before the slot, at volunteer_reminders.evening_before
        VOLUNTEER_HOUR    volunteer_reminders.before_slot before the slot
        OVERDUE           slot end + sla.overdue_grace     → volunteers and the leader
    done
        RATE         at done + sla.rate_reminder          → the resident, once

Escalation follows accountability: no answer from the team → the lead unit's dispatchers
→ the institute office; the village's station head is told at every step.

A reminder remembers what it was written for in `note` (the order version, or the slot in
ISO form). When it fires and the order has moved on — accepted, cancelled, re-routed,
re-assigned, done — it is skipped. Nothing has to be cancelled at transitions, and a reminder
firing late (after downtime) never nags about something already settled. `HANDLERS` are
fired by `services.reminders.fire_due`, one transaction each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentStatus,
    Order,
    OrderStatus,
    Reminder,
    ReminderKind,
    User,
    utcnow,
)
from services.context import Ctx
from services.orders import routing, units
from services.orders.notices import follower_id, tell_about, tell_one, tell_resident
from services.orders.state import load_order, transition
from services.outbox import NoticeKind
from services.people import office_staff, station_heads, team_leaders, unit_dispatchers
from services.reminders import Handler, at_local, iso, schedule
from services.uow import unit


async def order_routed(session: AsyncSession, ctx: Ctx, order: Order) -> None:
    """The order was just handed to someone: start their acceptance clock (for a lead
    unit's dispatchers, the clock to dispatch it)."""
    if order.status == OrderStatus.NEW and order.handler_kind == "unit":
        await _unit_clock(session, ctx, order)
        return
    if order.status != OrderStatus.ROUTED:
        return
    sla = ctx.policy.sla
    start = order.routed_at or utcnow()
    version = str(order.version)
    await schedule(
        session,
        [
            {
                "kind": ReminderKind.ACCEPT_NUDGE,
                "due_at": start + sla.accept_reminder,
                "order_id": order.id,
                "note": version,
                "dedupe_key": f"order:{order.id}:nudge:{version}",
            },
            {
                "kind": ReminderKind.ESCALATE,
                "due_at": start + sla.escalate_after,
                "order_id": order.id,
                "note": version,
                "dedupe_key": f"order:{order.id}:escalate:{version}",
            },
        ],
    )


async def _unit_clock(session: AsyncSession, ctx: Ctx, order: Order) -> None:
    version = str(order.version)
    await schedule(
        session,
        [
            {
                "kind": ReminderKind.ESCALATE,
                "due_at": utcnow() + ctx.policy.sla.escalate_after,
                "order_id": order.id,
                "note": version,
                "dedupe_key": f"order:{order.id}:escalate:{version}",
            }
        ],
    )


async def slot_set(session: AsyncSession, ctx: Ctx, order: Order) -> None:
    """Volunteers and a slot were set (or the slot moved): remind them, then watch the end."""
    if order.slot_start is None or order.slot_end is None:
        return
    policy, tz, now = ctx.policy, ctx.tz, utcnow()
    start, end = iso(order.slot_start), iso(order.slot_end)
    local_day = order.slot_start.astimezone(tz).date()
    evening = at_local(local_day - timedelta(days=1), policy.volunteer_reminders.evening_before, tz)
    hour = order.slot_start - policy.volunteer_reminders.before_slot
    items: list[dict[str, Any]] = []
    if evening > now:
        items.append(
            {
                "kind": ReminderKind.VOLUNTEER_EVENING,
                "due_at": evening,
                "order_id": order.id,
                "note": start,
                "dedupe_key": f"order:{order.id}:vol_evening:{start}",
            }
        )
    if hour > now:
        items.append(
            {
                "kind": ReminderKind.VOLUNTEER_HOUR,
                "due_at": hour,
                "order_id": order.id,
                "note": start,
                "dedupe_key": f"order:{order.id}:vol_hour:{start}",
            }
        )
    items.append(
        {
            "kind": ReminderKind.OVERDUE,
            "due_at": order.slot_end + policy.sla.overdue_grace,
            "order_id": order.id,
            "note": end,
            "dedupe_key": f"order:{order.id}:overdue:{end}",
        }
    )
    await schedule(session, items)


async def order_done(session: AsyncSession, ctx: Ctx, order: Order) -> None:
    """Completed: if the resident has not rated it after a while, ask once more."""
    done = order.done_at or utcnow()
    await schedule(
        session,
        [
            {
                "kind": ReminderKind.RATE,
                "due_at": done + ctx.policy.sla.rate_reminder,
                "order_id": order.id,
                "dedupe_key": f"order:{order.id}:rate",
            }
        ],
    )


async def time_out(
    session: AsyncSession, ctx: Ctx, order_id: int, version: int | None = None
) -> bool:
    """For the scheduler: not accepted in time → flag escalated, pass to the next candidate
    (or, with nobody left, back to `new` with the office). Returns False and does nothing
    if the order is no longer routed or moved on since `version` (a reminder fired late)."""
    async with unit(session):
        order = await load_order(session, order_id)
        if version is not None and version != order.version:
            return False
        if order.status == OrderStatus.NEW and order.handler_kind == "unit":
            await routing.to_office(session, order, None, "the lead unit did not dispatch in time")
            await order_routed(session, ctx, order)
            await tell_resident(session, order, None, "escalated")
            return True
        if order.status != OrderStatus.ROUTED:
            return False
        dispatchers = await _unit_next(session, order)
        await transition(
            session,
            order,
            OrderStatus.DECLINED,
            None,
            kind="declined",
            note="not accepted in time",
            values={"escalated": True, "escalated_at": order.escalated_at or utcnow()},
        )
        if dispatchers:
            await routing.to_unit(
                session,
                order,
                None,
                dispatchers,
                kind="to_unit",
                note="not accepted in time: back to the lead unit to dispatch",
                escalated=True,
            )
            await order_routed(session, ctx, order)
            await tell_resident(session, order, None, "escalated")
            return True
        chosen = await routing.route(session, order, None, "not accepted in time")
        await order_routed(session, ctx, order)
        await tell_resident(session, order, None, "rerouted" if chosen else "escalated")
    return True


async def _unit_next(session: AsyncSession, order: Order) -> list[User]:
    """A team's or squad's order not accepted in time goes back to the dispatchers of its
    lead units; none appointed (or the office holds it): [] and routing goes on as before."""
    if order.handler_kind not in ("team", "squad"):
        return []
    return await unit_dispatchers(session, await units.lead_unit_ids(session, order))


async def _order(session: AsyncSession, reminder: Reminder, *, lock: bool = False) -> Order | None:
    if reminder.order_id is None:
        return None
    stmt = select(Order).where(Order.id == reminder.order_id)
    if lock:  # PostgreSQL: an Accept at this moment waits for this transaction, then loses
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def holders(session: AsyncSession, order: Order) -> list[User]:
    """Who is expected to act on the order now: the team's leaders, the lead unit's
    dispatchers, or the office."""
    if order.handler_kind == "unit":
        return await unit_dispatchers(session, await units.lead_unit_ids(session, order))
    if order.handler_kind == "office" or order.team_id is None:
        return await office_staff(session, order.town_id)
    return await team_leaders(session, order.team_id)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


async def fire_accept_nudge(
    session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime
) -> int:
    order = await _order(session, reminder)
    if order is None or order.status != OrderStatus.ROUTED or str(order.version) != reminder.note:
        return 0
    return await tell_about(
        session,
        await holders(session, order),
        NoticeKind.ACCEPT_NUDGE,
        order,
        f"nudge:{order.version}",
        version=order.version,
        minutes=_minutes(now - (order.routed_at or now)),
    )


async def fire_escalate(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    """Not acted on in time (`time_out`): a team's order goes back to its lead unit's
    dispatchers, a unit's to the office; with no dispatcher appointed, to the next
    candidate. The station head(s) are told at once (urgent), and the office too when it
    is not next in line. With nobody left, routing itself tells the office, admins, heads."""
    order = await _order(session, reminder, lock=True)
    if order is None or str(order.version) != reminder.note:
        return 0
    at_unit = order.status == OrderStatus.NEW and order.handler_kind == "unit"
    if order.status != OrderStatus.ROUTED and not at_unit:
        return 0
    heads = await station_heads(session, order.station_id)
    if at_unit or await _unit_next(session, order):
        # To the lead unit (its dispatchers get the dispatch card) or from it to the office
        # (the office gets the order card): the station head is told either way.
        alerted, onward = heads, True
    else:
        current = routing.OFFICE_KEY if order.team_id is None else f"team:{order.team_id}"
        onward = any(c.key != current for c in await routing.candidates(session, order))
        alerted = [*heads, *await office_staff(session, order.town_id)]
    count = 0
    if onward:
        count = await tell_about(
            session,
            alerted,
            NoticeKind.ESCALATION,
            order,
            f"escalation:{order.version}",
            urgent=True,
            minutes=_minutes(now - (order.routed_at or order.created_at or now)),
        )
    # Commits the claim, the notices above and the re-routing together.
    await time_out(session, ctx, order.id, order.version)
    return count


async def _assigned(session: AsyncSession, order_id: int, statuses: Iterable[str]) -> list[int]:
    return list(
        await session.scalars(
            select(Assignment.volunteer_id)
            .where(Assignment.order_id == order_id, Assignment.status.in_(list(statuses)))
            .order_by(Assignment.id)
        )
    )


async def fire_volunteer(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if (
        order is None
        or order.status != OrderStatus.ACCEPTED
        or order.slot_start is None
        or iso(order.slot_start) != reminder.note
    ):
        return 0
    which = "evening" if reminder.kind == ReminderKind.VOLUNTEER_EVENING else "hour"
    return await tell_about(
        session,
        await _assigned(session, order.id, [AssignmentStatus.ASSIGNED]),
        NoticeKind.VOLUNTEER_REMINDER,
        order,
        f"vol_{which}:{reminder.note}",
        which=which,
        slot_start=reminder.note,
    )


async def fire_overdue(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if (
        order is None
        or order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
        or order.slot_end is None
        or iso(order.slot_end) != reminder.note
    ):
        return 0
    people = await _assigned(
        session, order.id, [AssignmentStatus.ASSIGNED, AssignmentStatus.STARTED]
    )
    if order.accepted_by_id is not None:
        people.append(order.accepted_by_id)
    return await tell_about(
        session,
        people,
        NoticeKind.OVERDUE,
        order,
        f"overdue:{reminder.note}",
        slot_end=reminder.note,
    )


async def fire_rate(session: AsyncSession, ctx: Ctx, reminder: Reminder, now: datetime) -> int:
    order = await _order(session, reminder)
    if order is None or order.status != OrderStatus.DONE:
        return 0
    follower = await follower_id(session, order)
    if follower is None:
        return 0
    row = await tell_one(
        session, follower, NoticeKind.RATE_REQUEST, order, "rate_reminder", reminder=True
    )
    return int(row is not None)


HANDLERS: dict[ReminderKind, Handler] = {
    ReminderKind.ACCEPT_NUDGE: fire_accept_nudge,
    ReminderKind.ESCALATE: fire_escalate,
    ReminderKind.VOLUNTEER_EVENING: fire_volunteer,
    ReminderKind.VOLUNTEER_HOUR: fire_volunteer,
    ReminderKind.OVERDUE: fire_overdue,
    ReminderKind.RATE: fire_rate,
}
