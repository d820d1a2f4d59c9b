"""Renders queued notices into Telegram messages, in the recipient's language, at send time.

Rendering late means a card shows the order as it is when it goes out, and services stay
free of Telegram types: they queue `kind` + ids (services/outbox.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from typing import Any

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import cards
from handlers.common import status_label
from models import (
    Assignment,
    AttachmentKind,
    Broadcast,
    Order,
    OrderStatus,
    OutboxMessage,
    Rating,
    User,
)
from services.i18n import DEFAULT_LOCALE
from services.outbox import NoticeKind

Rendered = tuple[str, dict[str, Any]]
Build = Callable[[AsyncSession, OutboxMessage, dict[str, Any]], Awaitable[Rendered | None]]


def _text(chat_id: int, lines: list[str], markup: Any = None) -> Rendered:
    params: dict[str, Any] = {"chat_id": chat_id, "text": "\n".join(lines)[:4096]}
    if markup is not None:
        params["reply_markup"] = markup
    return "sendMessage", params


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
    photo = next((m for m in media if m.kind == AttachmentKind.PHOTO), None)
    if photo is not None:
        return "sendPhoto", {
            "chat_id": row.chat_id,
            "photo": photo.file_id,
            "caption": "\n".join(lines)[:1024],
            "reply_markup": markup,
        }
    return _text(row.chat_id, lines, markup)


async def _order_info(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None:
        return None
    lines = [
        _("ℹ A new order from your village"),
        *await cards.order_lines(session, order, with_phone=True),
    ]
    return _text(row.chat_id, lines, cards.history_keyboard(order.id))


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
    return _text(row.chat_id, [text])


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
    return _text(row.chat_id, lines, cards.task_keyboard(order.id))


async def _rate_request(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    order = await _order(session, row)
    if order is None or order.status != OrderStatus.DONE:
        return None
    text = _("Your order {number} is done. How was the service? Tap the stars.").format(
        number=order.number
    )
    return _text(row.chat_id, [text], cards.rate_keyboard(order.id))


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
    return _text(row.chat_id, lines, cards.hours_keyboard(order.id))


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
    lines += await cards.order_lines(session, order, with_phone=True)
    return _text(row.chat_id, lines, cards.history_keyboard(order.id))


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
    return _text(row.chat_id, [text], cards.accepted_keyboard(order))


async def _plain(session: AsyncSession, row: OutboxMessage, p: dict[str, Any]) -> Rendered | None:
    msgid = p.get("msgid")
    if not msgid:
        return None
    return _text(row.chat_id, [_(msgid).format(**p.get("params", {}))])


async def _broadcast(
    session: AsyncSession, row: OutboxMessage, p: dict[str, Any]
) -> Rendered | None:
    bc = await session.get(Broadcast, row.broadcast_id or p.get("broadcast_id"))
    if bc is None:
        return None
    text = _("📢 Notice") + "\n" + bc.text
    if bc.photo_file_id:
        return "sendPhoto", {
            "chat_id": row.chat_id,
            "photo": bc.photo_file_id,
            "caption": text[:1024],
        }
    return _text(row.chat_id, [text])


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
