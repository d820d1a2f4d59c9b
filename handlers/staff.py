"""Appointing people: an admin or the office names office staff, station heads and team
leaders; a leader adds volunteers. Either by a one-use invite link or by picking someone
who already uses the bot."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Region, RegionLevel, Role, Team, User
from services import people
from services.i18n import local_name
from services.people import Roles
from views.format import ROLE_LABELS, locale
from views.menu import BTN_ADD_VOLUNTEER, BTN_APPOINT, BTN_CANCEL, Pick

NAME_QUERY_MAX = 32


class Appoint(StatesGroup):
    find = State()


def _role(text: str) -> Role | None:
    try:
        return Role(text)
    except ValueError:
        return None


def _roles_offered(roles: Roles) -> list[Role]:
    if roles.admin:
        return [Role.OFFICE, Role.STATION_HEAD, Role.TEAM_LEADER, Role.VOLUNTEER]
    if roles.is_office:
        return [Role.STATION_HEAD, Role.TEAM_LEADER, Role.VOLUNTEER]
    return [Role.VOLUNTEER] if roles.leads_teams else []


async def _targets(session: AsyncSession, role: Role, roles: Roles) -> list[tuple[str, str]]:
    """Where the role applies: (label, "r<region id>" or "t<team id>")."""
    if role == Role.OFFICE:
        towns = await session.scalars(
            select(Region).where(Region.level == RegionLevel.TOWN, Region.active.is_(True))
        )
        return [(local_name(t, locale()), f"r{t.id}") for t in towns]
    if role == Role.STATION_HEAD:
        stations = await session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.STATION, Region.active.is_(True))
            .order_by(Region.sort, Region.id)
        )
        return [
            (local_name(s, locale()), f"r{s.id}")
            for s in stations
            if roles.admin or s.parent_id in roles.office_towns
        ]
    teams = await session.scalars(
        select(Team).where(Team.active.is_(True)).order_by(Team.kind, Team.sort, Team.id)
    )
    return [
        (local_name(t, locale()), f"t{t.id}")
        for t in teams
        if roles.admin or t.town_id in roles.office_towns or t.id in roles.leads_teams
    ]


async def _resolve(session: AsyncSession, target: str) -> tuple[Region | None, Team | None]:
    kind, ident = target[:1], target[1:]
    if not ident.isdigit():
        return None, None
    if kind == "r":
        return await session.get(Region, int(ident)), None
    if kind == "t":
        return None, await session.get(Team, int(ident))
    return None, None


def _allowed(roles: Roles, role: Role, region: Region | None, team: Team | None) -> bool:
    town_id = (
        team.town_id
        if team
        else (
            region.parent_id
            if region and region.level == RegionLevel.STATION
            else region.id
            if region
            else None
        )
    )
    return people.can_appoint(roles, role, town_id=town_id, team_id=team.id if team else None)


def router() -> Router:
    r = Router(name="staff")

    @r.message(F.text == BTN_APPOINT)
    @r.message(F.text == BTN_ADD_VOLUNTEER)
    async def begin(message: Message, roles: Roles) -> None:
        offered = _roles_offered(roles)
        if not offered:
            await message.answer(_("Only the office can appoint staff."))
            return
        kb = InlineKeyboardBuilder()
        for role in offered:
            kb.button(
                text=_(ROLE_LABELS[role]), callback_data=Pick(what="ap_role", value=role.value)
            )
        kb.adjust(1)
        await message.answer(_("Whom do you want to appoint?"), reply_markup=kb.as_markup())

    @r.callback_query(Pick.filter(F.what == "ap_role"))
    async def role_chosen(
        query: CallbackQuery, callback_data: Pick, session: AsyncSession, roles: Roles
    ) -> None:
        role = _role(callback_data.value)
        if role is None or role not in _roles_offered(roles):
            await query.answer(_("You are not allowed to do that."), show_alert=True)
            return
        await query.answer()
        kb = InlineKeyboardBuilder()
        for label, target in await _targets(session, role, roles):
            kb.button(text=label, callback_data=Pick(what="ap_where", value=f"{role}.{target}"))
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("For which station or team?"), reply_markup=kb.as_markup()
            )

    @r.callback_query(Pick.filter(F.what == "ap_where"))
    async def where_chosen(query: CallbackQuery, callback_data: Pick) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("🔗 Make an invitation link"),
            callback_data=Pick(what="ap_link", value=callback_data.value),
        )
        kb.button(
            text=_("👤 Choose someone who uses the bot"),
            callback_data=Pick(what="ap_pick", value=callback_data.value),
        )
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.edit_text(_("How?"), reply_markup=kb.as_markup())

    async def _checked(
        query: CallbackQuery, value: str, session: AsyncSession, roles: Roles
    ) -> tuple[Role, Region | None, Team | None] | None:
        role_text, _sep, target = value.partition(".")
        role = _role(role_text)
        region, team = await _resolve(session, target)
        if (
            role is None
            or (region is None and team is None)
            or not _allowed(roles, role, region, team)
        ):
            await query.answer(_("You are not allowed to do that."), show_alert=True)
            return None
        return role, region, team

    @r.callback_query(Pick.filter(F.what == "ap_link"))
    async def make_link(
        query: CallbackQuery,
        callback_data: Pick,
        session: AsyncSession,
        user: User,
        roles: Roles,
        bot: Bot,
    ) -> None:
        checked = await _checked(query, callback_data.value, session, roles)
        if checked is None:
            return
        role, region, team = checked
        invite = await people.create_invite(session, role, by=user, region=region, team=team)
        await session.commit()
        await query.answer()
        me = await bot.me()
        link = f"https://t.me/{me.username}?start={invite.code}"
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _(
                    "Send this link to the person. It works once and expires in 3 days:\n{link}"
                ).format(link=link)
            )

    @r.callback_query(Pick.filter(F.what == "ap_pick"))
    async def pick(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        roles: Roles,
    ) -> None:
        if await _checked(query, callback_data.value, session, roles) is None:
            return
        await query.answer()
        await state.set_state(Appoint.find)
        await state.update_data(appoint=callback_data.value)
        if isinstance(query.message, Message):
            await query.message.answer(_("Write part of the person's name."))

    @r.message(Appoint.find, F.text, F.text != BTN_CANCEL)
    async def find(message: Message, state: FSMContext, session: AsyncSession) -> None:
        text = (message.text or "").strip()
        if not text or len(text) > NAME_QUERY_MAX:
            await message.answer(_("Write part of the person's name."))
            return
        found = await people.find_registered(session, text)
        if not found:
            await message.answer(
                _(
                    "Nobody with that name uses the bot yet. Try again, or "
                    "make an invitation link instead."
                )
            )
            return
        data = await state.get_data()
        kb = InlineKeyboardBuilder()
        for person in found:
            kb.button(
                text=person.name or "?",
                callback_data=Pick(what="ap_user", value=f"{data['appoint']}.{person.id}"),
            )
        kb.adjust(1)
        await message.answer(_("Tap the person:"), reply_markup=kb.as_markup())

    @r.callback_query(Pick.filter(F.what == "ap_user"))
    async def chosen(
        query: CallbackQuery,
        callback_data: Pick,
        state: FSMContext,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        value, _sep, person_id = callback_data.value.rpartition(".")
        checked = await _checked(query, value, session, roles)
        if checked is None:
            return
        person = await session.get(User, int(person_id)) if person_id.isdigit() else None
        if person is None:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        role, region, team = checked
        await people.appoint(session, person, role, region=region, team=team, by=user)
        await session.commit()
        await state.clear()
        await query.answer()
        where = local_name(team or region, locale())  # type: ignore[arg-type]
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("{name} is now {role} of {where}.").format(
                    name=person.name, role=_(ROLE_LABELS[role]), where=where
                )
            )

    return r
