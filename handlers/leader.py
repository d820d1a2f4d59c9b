"""The team leader's side: the order card (accept, decline, transfer), assigning volunteers,
confirming hours, the team's open orders and an order's history."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from handlers.common import too_long
from models import (
    AttachmentKind,
    MembershipStatus,
    Order,
    Team,
    TeamKind,
    TeamMember,
    User,
    utcnow,
)
from services import orders, screens
from services.i18n import local_name
from services.org import Policy
from services.people import Roles
from services.points import PointsRules
from views.format import locale, status_label
from views.menu import BTN_CANCEL, BTN_TEAM_ORDERS, BTN_VILLAGE_ORDERS, Pick
from views.orders import (
    OrderAction,
    accepted_keyboard,
    card_keyboard,
    history_keyboard,
    order_lines,
    team_name,
)

REASON_MAX = 200
SLOT_HOURS = {"morning": (time(9), time(12)), "afternoon": (time(14), time(17))}


class Decline(StatesGroup):
    reason = State()


class Transfer(StatesGroup):
    reason = State()


class Assign(StatesGroup):
    volunteers = State()
    day = State()


def points_rules(policy: Policy) -> PointsRules:
    return PointsRules.from_policy(policy.points)


async def _edit_card(query: CallbackQuery, lines: list[str], markup: object = None) -> None:
    msg = query.message
    if not isinstance(msg, Message):
        return
    text = "\n".join(lines)
    if msg.photo:
        await msg.edit_caption(caption=text[:1024], reply_markup=markup)  # type: ignore[arg-type]
    else:
        await msg.edit_text(text[:4096], reply_markup=markup)  # type: ignore[arg-type]


async def _order_in_hand(
    query: CallbackQuery,
    session: AsyncSession,
    order_id: int,
    roles: Roles,
    *,
    office_may: bool = False,
) -> Order | None:
    """The order, if this person holds it (or, with `office_may`, oversees it as the town
    office); otherwise a refusal pop-up. The callback is answered either way."""
    order = await session.get(Order, order_id)
    allowed = order is not None and (
        orders.can_handle(roles, order) or (office_may and order.town_id in roles.office_towns)
    )
    if not allowed:
        await query.answer(_("This is not your team's order."), show_alert=True)
        return None
    await query.answer()
    return order


def router() -> Router:
    r = Router(name="leader")

    @r.callback_query(OrderAction.filter(F.action == "accept"))
    async def accept(
        query: CallbackQuery,
        callback_data: OrderAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        order = await orders.accept(
            session, callback_data.order_id, user, roles, version=callback_data.version or None
        )
        await query.answer(_("Accepted. Now assign volunteers."))
        lines = [
            _("✅ You accepted this order."),
            *order_lines(await screens.order_facts(session, order), with_phone=True),
        ]
        await _edit_card(query, lines, accepted_keyboard(order))

    @r.callback_query(OrderAction.filter(F.action == "voice"))
    async def voice(
        query: CallbackQuery,
        callback_data: OrderAction,
        session: AsyncSession,
        roles: Roles,
        bot: Bot,
    ) -> None:
        order = await session.get(Order, callback_data.order_id)
        if order is None or not orders.can_view(roles, order):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        for media in await screens.request_media(session, order.id):
            if media.kind == AttachmentKind.VOICE:
                await bot.send_voice(query.from_user.id, media.file_id)

    # --- decline ---------------------------------------------------------------------------
    @r.callback_query(OrderAction.filter(F.action == "decline"))
    async def decline(
        query: CallbackQuery,
        callback_data: OrderAction,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        order = await _order_in_hand(query, session, callback_data.order_id, roles)
        if order is None:
            return
        await state.set_state(Decline.reason)
        await state.update_data(order_id=order.id)
        kb = InlineKeyboardBuilder()
        for label in (_("Not our kind of service"), _("No one is free"), _("Too far")):
            kb.button(text=label, callback_data=Pick(what="reason", value=label[:40]))
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Why can't your team take it? Tap a reason or write one."),
                reply_markup=kb.as_markup(),
            )

    async def _do_decline(
        message: Message,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        reason: str,
    ) -> None:
        data = await state.get_data()
        await state.clear()
        await orders.decline(session, data["order_id"], user, roles, reason)
        order = await session.get(Order, data["order_id"])
        if order is None:
            return
        await message.answer(
            _("Declined. Order {number} goes to {team}.").format(
                number=order.number, team=team_name(await screens.team(session, order.team_id))
            )
        )

    @r.callback_query(Decline.reason, Pick.filter(F.what == "reason"))
    async def decline_reason_button(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await _do_decline(query.message, state, session, user, roles, callback_data.value)

    @r.message(Decline.reason, F.text, F.text != BTN_CANCEL)
    async def decline_reason_text(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        reason = (message.text or "").strip()
        if await too_long(message, reason, REASON_MAX):
            return
        await _do_decline(message, state, session, user, roles, reason)

    # --- transfer --------------------------------------------------------------------------
    @r.callback_query(OrderAction.filter(F.action == "transfer"))
    async def transfer(
        query: CallbackQuery, callback_data: OrderAction, session: AsyncSession, roles: Roles
    ) -> None:
        order = await _order_in_hand(query, session, callback_data.order_id, roles, office_may=True)
        if order is None:
            return
        teams = (
            await session.scalars(
                select(Team)
                .where(
                    Team.town_id == order.town_id,
                    Team.active.is_(True),
                    Team.kind == TeamKind.SPECIALIST,
                    Team.id != order.team_id,
                )
                .order_by(Team.sort, Team.id)
            )
        ).all()
        kb = InlineKeyboardBuilder()
        for team in teams:
            kb.button(
                text=local_name(team, locale()),
                callback_data=Pick(what="xfer", value=f"{order.id}.{team.id}"),
            )
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Transfer order {number} to which team?").format(number=order.number),
                reply_markup=kb.as_markup(),
            )

    @r.callback_query(Pick.filter(F.what == "xfer"))
    async def transfer_to(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
        order_id, _sep, team_id = callback_data.value.partition(".")
        if not (order_id.isdigit() and team_id.isdigit()):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        await state.set_state(Transfer.reason)
        await state.update_data(order_id=int(order_id), team_id=int(team_id))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(_("In a few words: why this team?"))

    @r.message(Transfer.reason, F.text, F.text != BTN_CANCEL)
    async def transfer_reason(
        message: Message, state: FSMContext, session: AsyncSession, user: User, roles: Roles
    ) -> None:
        reason = (message.text or "").strip()
        if await too_long(message, reason, REASON_MAX):
            return
        data = await state.get_data()
        await state.clear()
        order = await orders.transfer(
            session, data["order_id"], user, roles, data["team_id"], reason
        )
        await message.answer(
            _("Order {number} was transferred to {team}.").format(
                number=order.number, team=team_name(await screens.team(session, order.team_id))
            )
        )

    # --- assign volunteers -----------------------------------------------------------------
    async def _roster(session: AsyncSession, order: Order) -> list[User]:
        return list(
            (
                await session.scalars(
                    select(User)
                    .join(TeamMember, TeamMember.user_id == User.id)
                    .where(
                        TeamMember.team_id == order.team_id,
                        TeamMember.status == MembershipStatus.ACTIVE,
                    )
                    .order_by(TeamMember.role, User.name)
                )
            ).all()
        )

    def _roster_keyboard(
        order_id: int, people: list[User], chosen: set[int]
    ) -> InlineKeyboardBuilder:
        kb = InlineKeyboardBuilder()
        for person in people:
            mark = "☑" if person.id in chosen else "☐"
            kb.button(
                text=f"{mark} {person.name or '?'}",
                callback_data=Pick(what="vol", value=f"{order_id}.{person.id}"),
            )
        kb.button(text=_("Next ➡"), callback_data=Pick(what="vol_done", value=str(order_id)))
        kb.adjust(1)
        return kb

    @r.callback_query(OrderAction.filter(F.action == "assign"))
    async def assign(
        query: CallbackQuery,
        callback_data: OrderAction,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        order = await _order_in_hand(query, session, callback_data.order_id, roles)
        if order is None:
            return
        await state.set_state(Assign.volunteers)
        await state.update_data(order_id=order.id, number=order.number, chosen=[])
        people = await _roster(session, order)
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Who will go? Tap names to choose, then «Next»."),
                reply_markup=_roster_keyboard(order.id, people, set()).as_markup(),
            )

    @r.callback_query(Assign.volunteers, Pick.filter(F.what == "vol"))
    async def toggle(
        query: CallbackQuery, callback_data: Pick, state: FSMContext, session: AsyncSession
    ) -> None:
        data = await state.get_data()
        order_id, _sep, person = callback_data.value.partition(".")
        if not person.isdigit() or int(order_id or 0) != data.get("order_id"):
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        chosen = set(data.get("chosen", [])) ^ {int(person)}
        await state.update_data(chosen=sorted(chosen))
        order = await session.get(Order, data["order_id"])
        if order is not None and isinstance(query.message, Message):
            people = await _roster(session, order)
            await query.message.edit_reply_markup(
                reply_markup=_roster_keyboard(order.id, people, chosen).as_markup()
            )

    @r.callback_query(Assign.volunteers, Pick.filter(F.what == "vol_done"))
    async def roster_done(query: CallbackQuery, state: FSMContext, settings: Settings) -> None:
        data = await state.get_data()
        if not data.get("chosen"):
            await query.answer(_("Choose at least one person."), show_alert=True)
            return
        await query.answer()
        await state.set_state(Assign.day)
        now = utcnow().astimezone(settings.tz)
        kb = InlineKeyboardBuilder()
        for offset in range(7):
            day = now.date() + timedelta(days=offset)
            for slot, label in (("morning", _("Morning")), ("afternoon", _("Afternoon"))):
                if datetime.combine(day, SLOT_HOURS[slot][1], tzinfo=settings.tz) <= now:
                    continue  # a slot already over today is no choice
                kb.button(
                    text=f"{day.month}/{day.day} {label}",
                    callback_data=Pick(what="slot", value=f"{day.isoformat()}.{slot}"),
                )
        kb.adjust(2)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(_("When will they go?"), reply_markup=kb.as_markup())

    @r.callback_query(Assign.day, Pick.filter(F.what == "slot"))
    async def slot_chosen(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
    ) -> None:
        day_text, _sep, slot = callback_data.value.partition(".")
        if slot not in SLOT_HOURS:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await query.answer()
        data = await state.get_data()
        start_t, end_t = SLOT_HOURS[slot]
        day = datetime.fromisoformat(day_text).date()
        start = datetime.combine(day, start_t, tzinfo=settings.tz)
        end = datetime.combine(day, end_t, tzinfo=settings.tz)
        await state.clear()
        await orders.assign(session, data["order_id"], user, roles, data["chosen"], start, end)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
            await query.message.answer(
                _("Done. The volunteers and the resident have been told (order {number}).").format(
                    number=data.get("number", "")
                )
            )

    # --- hours, history, lists ---------------------------------------------------------------
    @r.callback_query(OrderAction.filter(F.action == "confirm_hours"))
    async def confirm_hours(
        query: CallbackQuery,
        callback_data: OrderAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
        policy: Policy,
    ) -> None:
        await orders.confirm_hours(
            session, callback_data.order_id, user, roles, rules=points_rules(policy)
        )
        await query.answer(_("Hours confirmed. Points have been added."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)

    @r.callback_query(OrderAction.filter(F.action == "history"))
    async def history(
        query: CallbackQuery,
        callback_data: OrderAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
    ) -> None:
        events = await orders.history(session, callback_data.order_id, user, roles)
        await query.answer()
        lines = [_("History of the order:")]
        for ev in events:
            lines.append(orders_event_line(ev, settings))
        if isinstance(query.message, Message):
            await query.message.answer("\n".join(lines)[:4096])

    @r.message(F.text == BTN_TEAM_ORDERS)
    async def team_orders(message: Message, session: AsyncSession, roles: Roles) -> None:
        if not roles.leads_teams and not roles.is_office:
            await message.answer(_("Only team leaders can see team orders."))
            return
        found = await orders.team_open_orders(session, roles.leads_teams)
        if roles.is_office:
            found += await orders.office_open_orders(session, roles.office_towns)
        await _list(message, session, found, leader=True)

    @r.message(F.text == BTN_VILLAGE_ORDERS)
    async def village_orders(message: Message, session: AsyncSession, roles: Roles) -> None:
        if not roles.head_of_stations and not roles.is_office:
            await message.answer(_("Only station heads can see village orders."))
            return
        found = await orders.station_orders(session, roles.head_of_stations, open_only=True)
        await _list(message, session, found, leader=False)

    async def _list(
        message: Message, session: AsyncSession, found: list[Order], *, leader: bool
    ) -> None:
        if not found:
            await message.answer(_("No open orders right now."))
            return
        for order in found[:10]:
            # The phone is for whoever took the order, not for everyone who oversees it.
            lines = order_lines(
                await screens.order_facts(session, order),
                with_phone=leader and order.accepted_at is not None,
            )
            if not leader:
                markup = history_keyboard(order.id)
            elif order.status.value == "routed":
                markup = card_keyboard(order, has_voice=False)
            else:
                markup = accepted_keyboard(order)
            await message.answer("\n".join(lines), reply_markup=markup)
        if len(found) > 10:
            await message.answer(_("… and {n} more.").format(n=len(found) - 10))

    return r


def orders_event_line(ev: object, settings: Settings) -> str:
    at = getattr(ev, "at", None)
    when = at.astimezone(settings.tz).strftime("%m-%d %H:%M") if at else ""
    to_status = getattr(ev, "to_status", None)
    label = status_label(to_status) if to_status else getattr(ev, "kind", "")
    who = getattr(ev, "actor_name", None) or "-"
    note = getattr(ev, "note", None)
    return f"{when} · {label} · {who}" + (f" · {note}" if note else "")
