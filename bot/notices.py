"""Renders queued notices into Telegram messages, in the recipient's language, at send time.

Rendering late means a card shows the order as it is when it goes out, and services stay
free of Telegram types: they queue `kind` + ids (services/outbox.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.rendering import Build, Rendered, message
from handlers import broadcast as notice_views
from handlers import cards
from handlers.common import locale, status_label
from models import (
    Assignment,
    AttachmentKind,
    Broadcast,
    BroadcastStatus,
    MemberRole,
    MembershipStatus,
    Order,
    OrderStatus,
    OutboxMessage,
    OutboxStatus,
    Rating,
    Region,
    ServiceCategory,
    TeamMember,
    User,
)
from services import broadcasts, orders
from services.i18n import DEFAULT_LOCALE, local_name
from services.outbox import NoticeKind


async def _order(session: AsyncSession, row: OutboxMessage) -> Order | None:
    return await session.get(Order, row.order_id) if row.order_id else None


async def _order_card(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    media = await cards.request_media(session, order.id)
    lines = [_("🆕 A new order for your team")]
    if p.get("reason"):
        lines.append(_("Note: {reason}").format(reason=p["reason"]))
    lines += await cards.order_lines(session, order, with_phone=False)
    markup = cards.card_keyboard(
        order, has_voice=any(m.kind == AttachmentKind.VOICE for m in media)
    )
    photo = next((m.file_id for m in media if m.kind == AttachmentKind.PHOTO), None)
    return message(row.chat_id, lines, markup, photo=photo)


async def _order_info(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    lines = [
        _("ℹ A new order from your village"),
        *await cards.order_lines(session, order, with_phone=False),
    ]
    return message(row.chat_id, lines, cards.history_keyboard(order.id))


def _local_time(iso: str | None, tz: Any) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(tz).strftime("%m-%d %H:%M")


async def _order_status(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    number = order.number
    team = await cards.team_name(session, order.team_id)
    event = p.get("event")
    texts = {
        "created": _(
            "Station staff placed order {number} for you. We will keep you posted here."
        ).format(number=number),
        "accepted": _("Good news: your order {number} was accepted by {team}.").format(
            number=number, team=team
        ),
        "rerouted": _("Your order {number} was passed to {team}.").format(number=number, team=team),
        "transferred": _("Your order {number} was passed to {team}.").format(
            number=number, team=team
        ),
        "escalated": _(
            "Your order {number} is taking longer; the institute office is looking after it."
        ).format(number=number),
        "assigned": _("Volunteers for your order {number}: {names}. They will come {when}.").format(
            number=number,
            names="、".join(p.get("volunteers") or []),
            when=_local_time(p.get("slot_start"), p["_tz"]),
        ),
        "started": _("The volunteers have started on your order {number}.").format(number=number),
        "done": _("The volunteers have finished your order {number}.").format(number=number),
        "cancelled": _("Your order {number} was cancelled.").format(number=number),
    }
    text = texts.get(event or "") or _("Your order {number} is now: {status}.").format(
        number=number, status=status_label(order.status)
    )
    return message(row.chat_id, [text])


async def _task(session: AsyncSession, row: OutboxMessage, p: dict[str, Any]) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    lines = [_("🧰 You have a new task")]
    if order.slot_start:
        lines.append(
            _("Time: {when}").format(when=_local_time(order.slot_start.isoformat(), p["_tz"]))
        )
    lines += await cards.order_lines(session, order, with_phone=True)
    return message(row.chat_id, lines, cards.task_keyboard(order.id))


async def _rate_request(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None or order.status != OrderStatus.DONE:
        return None
    if p.get("reminder"):
        text = _(
            "You have not rated order {number} yet. How was the service? Tap the stars."
        ).format(number=order.number)
    else:
        text = _("Your order {number} is done. How was the service? Tap the stars.").format(
            number=order.number
        )
    return message(row.chat_id, [text], cards.rate_keyboard(order.id))


async def _hours_confirm(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    rows = (
        await session.execute(
            select(User.name, Assignment.hours)
            .join(User, User.id == Assignment.volunteer_id)
            .where(Assignment.order_id == order.id, Assignment.hours.is_not(None))
        )
    ).all()
    lines = [_("Order {number} is done. Reported hours:").format(number=order.number)]
    lines += [f"• {name or '?'}: {hours}" for name, hours in rows]
    if order.completion_note:
        lines.append(_("Note: {reason}").format(reason=order.completion_note))
    return message(row.chat_id, lines, cards.hours_keyboard(order.id))


async def _low_rating(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    rating = await session.scalar(select(Rating).where(Rating.order_id == order.id))
    lines = [
        _("⚠ Order {number} was rated {score} of 5.").format(
            number=order.number, score=rating.score if rating else p.get("score", "?")
        )
    ]
    if rating and rating.comment:
        lines.append(_("Comment: {text}").format(text=rating.comment))
    lines += await cards.order_lines(session, order, with_phone=False)
    return message(row.chat_id, lines, cards.history_keyboard(order.id))


async def _withdrew(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    who = await session.get(User, p.get("volunteer_id")) if p.get("volunteer_id") else None
    text = _("{name} can't make it for order {number}.").format(
        name=who.name if who and who.name else "?", number=order.number
    )
    return message(row.chat_id, [text], cards.accepted_keyboard(order))


async def _plain(session: AsyncSession, row: OutboxMessage, p: dict[str, Any]) -> Rendered | None:
    msgid = p.get("msgid")
    if not msgid:
        return None
    return message(row.chat_id, [_(msgid).format(**p.get("params", {}))])


async def _broadcast(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    bc = await session.get(Broadcast, row.broadcast_id or p.get("broadcast_id"))
    if bc is None:
        return None
    return message(row.chat_id, [_("📢 Notice"), bc.text], photo=bc.photo_file_id)


# --- reminders and escalation (services/reminders.py) --------------------------------------


def _duration(minutes: int) -> str:
    if minutes >= 60 and minutes % 60 == 0:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} min").format(n=minutes)


async def _accept_nudge(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None or order.status != OrderStatus.ROUTED or order.version != p.get("version"):
        return None  # accepted, declined or passed on since: nothing to nudge about
    media = await cards.request_media(session, order.id)
    lines = [
        _("⏰ Order {number} has been waiting for {time}. Please accept or decline it.").format(
            number=order.number, time=_duration(int(p.get("minutes") or 0))
        ),
        *await cards.order_lines(session, order, with_phone=False),
    ]
    has_voice = any(m.kind == AttachmentKind.VOICE for m in media)
    return message(row.chat_id, lines, cards.card_keyboard(order, has_voice=has_voice))


async def _escalation(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    lines = [
        _("⏰ Order {number} was not accepted within {time}. It was passed to {team}.").format(
            number=order.number,
            time=_duration(int(p.get("minutes") or 0)),
            team=await cards.team_name(session, order.team_id),
        ),
        *await cards.order_lines(session, order, with_phone=False),
    ]
    return message(row.chat_id, lines, cards.history_keyboard(order.id))


async def _volunteer_reminder(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None or order.status != OrderStatus.ACCEPTED:
        return None
    when = _local_time(p.get("slot_start"), p["_tz"])
    if p.get("which") == "evening":
        first = _("⏰ Reminder: tomorrow you serve order {number}, at {when}.")
    else:
        first = _("⏰ Reminder: in about an hour ({when}) you serve order {number}.")
    lines = [
        first.format(number=order.number, when=when),
        *await cards.order_lines(session, order, with_phone=True),
    ]
    return message(row.chat_id, lines, cards.task_keyboard(order.id))


async def _overdue(session: AsyncSession, row: OutboxMessage, p: dict[str, Any]) -> Rendered | None:
    order = await _order(session, row)
    if order is None or order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        return None
    lines = [
        _(
            "⚠ Order {number} should have been done by {when}, but it is not recorded as done. "
            "Please record it with «Done», or agree a new time with the resident."
        ).format(number=order.number, when=_local_time(p.get("slot_end"), p["_tz"])),
        *await cards.order_lines(session, order, with_phone=True),
    ]
    leader = row.user_id is not None and row.user_id == order.accepted_by_id
    markup = cards.accepted_keyboard(order) if leader else cards.task_keyboard(order.id)
    return message(row.chat_id, lines, markup)


DIGEST_MAX = 20


async def _leader_digest(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    team_ids = await session.scalars(
        select(TeamMember.team_id).where(
            TeamMember.user_id == row.user_id,
            TeamMember.role == MemberRole.LEADER,
            TeamMember.status == MembershipStatus.ACTIVE,
        )
    )
    found = await orders.team_open_orders(session, list(team_ids))
    if not found:
        return None
    lines = [_("📋 Good morning! Open orders of your team ({n}):").format(n=len(found))]
    for order in found[:DIGEST_MAX]:
        cat = await session.get(ServiceCategory, order.category_id)
        station = await session.get(Region, order.station_id)
        parts = [
            order.number,
            local_name(cat, locale()) if cat else "-",
            local_name(station, locale()) if station else "-",
            status_label(order.status),
        ]
        lines.append("• " + " · ".join(parts))
    if len(found) > DIGEST_MAX:
        lines.append(_("… and {n} more").format(n=len(found) - DIGEST_MAX))
    return message(row.chat_id, lines)


async def _office_weekly(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    lines = [
        _("📈 Last week ({start} – {end}):").format(start=p.get("start"), end=p.get("end")),
        _("Orders received: {n}").format(n=p.get("received", 0)),
        _("Completed: {n}").format(n=p.get("completed", 0)),
        _("Still open: {n}").format(n=p.get("open", 0)),
        _("Escalated (not accepted in time): {n}").format(n=p.get("escalated", 0)),
    ]
    if p.get("rated"):
        lines.append(
            _("Average rating: {rating} of 5 ({n} ratings)").format(
                rating=f"{float(p['average_rating']):.1f}", n=p["rated"]
            )
        )
    else:
        lines.append(_("Average rating: no ratings last week"))
    return message(row.chat_id, lines)


# --- broadcasts (services/broadcasts.py) --------------------------------------------------


async def _broadcast_approval(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    bc = await session.get(Broadcast, row.broadcast_id or p.get("broadcast_id"))
    if bc is None or bc.status != BroadcastStatus.PENDING_APPROVAL:
        return None  # decided already (by another office member)
    author = await session.get(User, bc.author_id)
    count = await broadcasts.count_audience(session, bc.town_id, bc.audience)
    asap = not bc.recurrence and (
        bc.next_run_at is None or bc.next_run_at <= bc.created_at + timedelta(minutes=1)
    )
    when = _("as soon as it is approved") if asap else notice_views.when_label(bc, p["_tz"])
    lines = [
        _("📨 A notice needs your approval"),
        _("From: {name}").format(name=(author.name if author else None) or "?"),
        _("To: {audience} ({n} people)").format(
            audience=await notice_views.audience_label(session, bc.audience), n=count
        ),
        _("When: {when}").format(when=when),
        "",
        notice_views.notice_text(bc.text),
    ]
    markup = notice_views.approval_keyboard(bc.id)
    return message(row.chat_id, lines, markup, photo=bc.photo_file_id)


async def _broadcast_report(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    bc = await session.get(Broadcast, row.broadcast_id or p.get("broadcast_id"))
    if bc is None:
        return None
    run = int(p.get("run") or bc.runs)
    result = await broadcasts.report(session, bc.id, run)
    text = (bc.text or "").replace("\n", " ")
    lines = [
        _("📊 Delivery report for notice #{id}").format(id=bc.id),
        text if len(text) <= 60 else text[:59] + "…",
        _("To: {audience}").format(
            audience=await notice_views.audience_label(session, bc.audience)
        ),
        *notice_views.report_lines(result),
    ]
    unreached = [
        *notice_views.unreached_lines(
            _("Blocked the bot:"),
            await broadcasts.unreached(session, bc.id, run, OutboxStatus.BLOCKED),
            result.blocked,
        ),
        *notice_views.unreached_lines(
            _("Could not be delivered:"),
            await broadcasts.unreached(session, bc.id, run, OutboxStatus.FAILED),
            result.failed,
        ),
    ]
    if unreached:
        lines += ["", *unreached, _("Please reach them another way, by phone or in person.")]
    return message(row.chat_id, lines)


BUILDERS: dict[str, Build] = {
    NoticeKind.ORDER_CARD: _order_card,
    NoticeKind.ORDER_INFO: _order_info,
    NoticeKind.ORDER_STATUS: _order_status,
    NoticeKind.TASK: _task,
    NoticeKind.RATE_REQUEST: _rate_request,
    NoticeKind.HOURS_CONFIRM: _hours_confirm,
    NoticeKind.LOW_RATING: _low_rating,
    NoticeKind.VOLUNTEER_WITHDREW: _withdrew,
    NoticeKind.TEXT: _plain,
    NoticeKind.BROADCAST: _broadcast,
    NoticeKind.ACCEPT_NUDGE: _accept_nudge,
    NoticeKind.ESCALATION: _escalation,
    NoticeKind.VOLUNTEER_REMINDER: _volunteer_reminder,
    NoticeKind.OVERDUE: _overdue,
    NoticeKind.LEADER_DIGEST: _leader_digest,
    NoticeKind.OFFICE_WEEKLY: _office_weekly,
    NoticeKind.BROADCAST_APPROVAL: _broadcast_approval,
    NoticeKind.BROADCAST_REPORT: _broadcast_report,
}


def make_renderer(
    i18n: I18n, tz: tzinfo
) -> Callable[[AsyncSession, OutboxMessage], Awaitable[Rendered | None]]:
    async def render(session: AsyncSession, row: OutboxMessage) -> Rendered | None:
        if row.method != "notice":
            return row.method, {"chat_id": row.chat_id, **row.payload}
        build = BUILDERS.get(row.payload.get("kind", ""))
        if build is None:
            return None
        user = await session.get(User, row.user_id) if row.user_id else None
        loc = user.locale if user and user.locale in i18n.available_locales else DEFAULT_LOCALE
        with i18n.context(), i18n.use_locale(loc):
            return await build(session, row, {**row.payload, "_tz": tz})

    return render


# Activities register their own notices (kept beside their feature).
from bot.notices_activities import ACTIVITY_BUILDERS  # noqa: E402

BUILDERS.update(ACTIVITY_BUILDERS)
