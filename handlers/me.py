"""/me: a volunteer's hours this year against the target, points and last services, the
certificate of hours, leaving a team; a leader's team list (deactivate a volunteer); and
the KPI table for the office and station heads (/kpi)."""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from decimal import Decimal

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings
from models import (
    Activity,
    LedgerSource,
    MemberRole,
    MembershipStatus,
    Order,
    PointsEntry,
    Region,
    Team,
    TeamMember,
    User,
    utcnow,
)
from services import kpi, points, volunteers
from services.certificate import certificate_data, render_certificate
from services.i18n import local_name
from services.org import Policy
from services.people import Roles
from views.format import locale, num
from views.me import MeAction
from views.menu import BTN_KPI, BTN_ME

RECENT = 5
BAR = 10
NAMES_SHOWN = 12
MESSAGE_MAX = 4096


def progress_bar(done: Decimal, target: Decimal) -> str:
    share = 1.0 if target <= 0 else min(1.0, float(done / target))
    filled = round(share * BAR)
    return "▓" * filled + "░" * (BAR - filled) + f" {round(share * 100)}%"


async def _entry_line(session: AsyncSession, entry: PointsEntry, tz: tzinfo) -> str:
    day = entry.at.astimezone(tz).strftime("%m-%d")
    if entry.order_id:
        order = await session.get(Order, entry.order_id)
        what = _("Order {number}").format(number=order.number if order else "?")
    elif entry.activity_id:
        activity = await session.get(Activity, entry.activity_id)
        what = _("Activity «{title}»").format(title=activity.title if activity else "?")
    elif entry.source == LedgerSource.CORRECTION:
        what = _("Correction: {reason}").format(reason=entry.reason or "")
    else:
        what = _("Bonus: {reason}").format(reason=entry.reason or "")
    if entry.source == LedgerSource.BONUS and entry.order_id:
        what += " · " + _("bonus")
    figures = []
    if entry.hours:
        figures.append(_("{hours} h").format(hours=num(Decimal(entry.hours))))
    sign = "+" if entry.points >= 0 else ""
    figures.append(_("{points} points").format(points=sign + num(Decimal(entry.points))))
    return f"• {day} {what}: {', '.join(figures)}"


def _chunks(lines: list[str]) -> list[str]:
    """Lines joined into messages that fit Telegram's limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MESSAGE_MAX and current:
            out.append(current)
            current = line[:MESSAGE_MAX]
        else:
            current = candidate[:MESSAGE_MAX]
    if current:
        out.append(current)
    return out


def _names(people: tuple[kpi.PersonKpi, ...], *, projected: bool) -> str:
    shown = [
        (_("{name} ≈{hours} h") if projected else _("{name} {hours} h")).format(
            name=p.name, hours=num(p.projected if projected else p.hours)
        )
        for p in people[:NAMES_SHOWN]
    ]
    more = len(people) - NAMES_SHOWN
    if more > 0:
        shown.append(_("… and {n} more").format(n=more))
    return ", ".join(shown) if locale() == "en" else "、".join(shown)


def _group_name(group: kpi.GroupKpi) -> str:
    return group.name_en if locale() == "en" else group.name_zh


def _groups_lines(groups: list[kpi.GroupKpi], target: Decimal) -> list[str]:
    """The groups with people in them, one by one; the empty ones on one line."""
    lines: list[str] = []
    empty = [g for g in groups if not g.party_members and not g.volunteers and not g.hours]
    for group in groups:
        if group not in empty:
            lines += _group_lines(group, target)
    if empty:
        sep = ", " if locale() == "en" else "、"
        lines.append(
            _("No volunteers or party members yet: {names}").format(
                names=sep.join(_group_name(g) for g in empty)
            )
        )
    return lines


def _group_lines(group: kpi.GroupKpi, target: Decimal) -> list[str]:
    name = _group_name(group)
    if group.rate is None:
        rate = _("no party members registered")
    else:
        rate = _("{took}/{total} party members took part ({pct}%) {mark}").format(
            took=group.participating,
            total=group.party_members,
            pct=round(group.rate * 100),
            mark="✅" if group.rate_met else "⚠",
        )
    lines = [f"▪ {name}: {rate}; " + _("{hours} h in all").format(hours=num(group.hours))]
    if group.below:
        lines.append(
            "   "
            + _("Under {target} h: {names}").format(
                target=num(target), names=_names(group.below, projected=False)
            )
        )
    if group.will_miss:
        lines.append(
            "   "
            + _("Will miss it at this pace: {names}").format(
                names=_names(group.will_miss, projected=True)
            )
        )
    return lines


def router() -> Router:
    r = Router(name="me")

    # --- /me ------------------------------------------------------------------------------
    @r.message(Command("me"))
    @r.message(F.text == BTN_ME)
    async def me(
        message: Message,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        policy: Policy,
    ) -> None:
        year = utcnow().astimezone(settings.tz).year
        hours, pts = await points.totals(session, user.id, year, settings.tz)
        lifetime = await points.lifetime_points(session, user.id)
        target = Decimal(str(policy.kpi.hours_per_year))
        mine = await volunteers.memberships(session, user.id)
        lines = [f"👤 {user.name or ''}"]
        if mine:
            names = []
            for m in mine:
                label = local_name(m.team, locale())
                if m.member.role == MemberRole.LEADER:
                    label += _(" (leader)")
                if m.member.status == MembershipStatus.PENDING:
                    label += _(" (waiting for approval)")
                names.append(label)
            lines.append(_("Teams: {teams}").format(teams="、".join(names)))
        else:
            lines.append(_("You are not in a team yet. Tap «🙌 Join a team» to apply."))
        lines += [
            _("Hours in {year}: {hours} of {target} h").format(
                year=year, hours=num(hours), target=num(target)
            ),
            progress_bar(hours, target),
            _("Points in {year}: {points} (all time: {total})").format(
                year=year, points=num(pts), total=num(lifetime)
            ),
        ]
        recent = await points.recent_entries(session, user.id, RECENT)
        if recent:
            lines.append(_("Recent:"))
            lines += [await _entry_line(session, e, settings.tz) for e in recent]
        kb = InlineKeyboardBuilder()
        kb.button(text=_("📜 Certificate of hours"), callback_data=MeAction(action="certificate"))
        if any(
            m.member.role == MemberRole.MEMBER and m.member.status == MembershipStatus.ACTIVE
            for m in mine
        ):
            kb.button(text=_("🚪 Leave a team"), callback_data=MeAction(action="leave"))
        for team_id in sorted(roles.leads_teams):
            team = await session.get(Team, team_id)
            if team is not None:
                kb.button(
                    text="👥 " + local_name(team, locale()),
                    callback_data=MeAction(action="team", value=team_id),
                )
        if roles.is_office:
            kb.button(text=_("👥 The town's teams"), callback_data=MeAction(action="teams"))
        kb.adjust(1)
        await message.answer("\n".join(lines), reply_markup=kb.as_markup())

    @r.callback_query(MeAction.filter(F.action == "teams"))
    async def town_teams(query: CallbackQuery, session: AsyncSession, roles: Roles) -> None:
        if not roles.is_office:
            await query.answer(_("Only the team's leader can do this."), show_alert=True)
            return
        await query.answer()
        teams = await session.scalars(
            select(Team).where(Team.active.is_(True)).order_by(Team.kind, Team.sort, Team.id)
        )
        kb = InlineKeyboardBuilder()
        for team in teams:
            if volunteers.may_manage_team(roles, team):
                kb.button(
                    text="👥 " + local_name(team, locale()),
                    callback_data=MeAction(action="team", value=team.id),
                )
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.answer(_("Which team?"), reply_markup=kb.as_markup())

    @r.callback_query(MeAction.filter(F.action == "certificate"))
    async def certificate(
        query: CallbackQuery, session: AsyncSession, user: User, settings: Settings, policy: Policy
    ) -> None:
        await query.answer(_("Preparing your certificate…"))
        year = utcnow().astimezone(settings.tz).year
        data = await certificate_data(
            session,
            user,
            year,
            tz=settings.tz,
            target_hours=Decimal(str(policy.kpi.hours_per_year)),
            locale=locale(),
        )
        png = await asyncio.to_thread(render_certificate, data)
        if isinstance(query.message, Message):
            await query.message.answer_document(
                BufferedInputFile(png, filename=f"certificate-{year}.png"),
                caption=_("Your certificate of volunteer hours for {year}.").format(year=year),
            )

    # --- leaving a team ---------------------------------------------------------------------
    @r.callback_query(MeAction.filter(F.action == "leave"))
    async def pick_team_to_leave(query: CallbackQuery, session: AsyncSession, user: User) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        for m in await volunteers.memberships(session, user.id, [MembershipStatus.ACTIVE]):
            if m.member.role == MemberRole.MEMBER:
                kb.button(
                    text=local_name(m.team, locale()),
                    callback_data=MeAction(action="leave_team", value=m.team.id),
                )
        kb.adjust(1)
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Which team do you want to leave?"), reply_markup=kb.as_markup()
            )

    @r.callback_query(MeAction.filter(F.action == "leave_team"))
    async def confirm_leave(query: CallbackQuery, callback_data: MeAction) -> None:
        await query.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, leave the team"),
            callback_data=MeAction(action="leave_yes", value=callback_data.value),
        )
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("Leave the team? Your hours and points stay yours."),
                reply_markup=kb.as_markup(),
            )

    @r.callback_query(MeAction.filter(F.action == "leave_yes"))
    async def leave(
        query: CallbackQuery, callback_data: MeAction, session: AsyncSession, user: User
    ) -> None:
        await volunteers.leave(session, user, callback_data.value)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("You have left the team. Thank you for your service!"), reply_markup=None
            )

    # --- a leader's team ------------------------------------------------------------------
    @r.callback_query(MeAction.filter(F.action == "team"))
    async def team_list(
        query: CallbackQuery,
        callback_data: MeAction,
        session: AsyncSession,
        roles: Roles,
        settings: Settings,
    ) -> None:
        team = await session.get(Team, callback_data.value)
        if team is None or not volunteers.may_manage_team(roles, team):
            await query.answer(_("Only the team's leader can do this."), show_alert=True)
            return
        await query.answer()
        year = utcnow().astimezone(settings.tz).year
        roster = await volunteers.team_roster(session, team.id)
        sums = await points.totals_by_user(session, [u.id for _m, u in roster], year, settings.tz)
        lines = [
            _("👥 {team} · members: {n}").format(team=local_name(team, locale()), n=len(roster))
        ]
        kb = InlineKeyboardBuilder()
        for member, person in roster:
            party = _(" (party member)") if person.is_party_member else ""
            lead = _(" (leader)") if member.role == MemberRole.LEADER else ""
            lines.append(
                f"• {person.name or '?'}{lead}{party}: "
                + _("{hours} h").format(hours=num(sums[person.id][0]))
            )
            if member.role == MemberRole.MEMBER and person.id != roles.user_id:
                kb.button(
                    text=_("🚫 Remove {name}").format(name=person.name or "?"),
                    callback_data=MeAction(action="remove", value=member.id),
                )
        kb.adjust(1)
        if isinstance(query.message, Message):
            for chunk in _chunks(lines):
                await query.message.answer(chunk)
            if roster:
                await query.message.answer(
                    _("To take someone off the team, tap their name."), reply_markup=kb.as_markup()
                )

    @r.callback_query(MeAction.filter(F.action == "remove"))
    async def confirm_remove(
        query: CallbackQuery, callback_data: MeAction, session: AsyncSession
    ) -> None:
        member = await session.get(TeamMember, callback_data.value)
        person = await session.get(User, member.user_id) if member else None
        await query.answer()
        kb = InlineKeyboardBuilder()
        kb.button(
            text=_("Yes, remove"),
            callback_data=MeAction(action="remove_yes", value=callback_data.value),
        )
        if isinstance(query.message, Message):
            await query.message.answer(
                _("Take {name} off the team? They will be told.").format(
                    name=person.name if person else "?"
                ),
                reply_markup=kb.as_markup(),
            )

    @r.callback_query(MeAction.filter(F.action == "remove_yes"))
    async def remove(
        query: CallbackQuery,
        callback_data: MeAction,
        session: AsyncSession,
        user: User,
        roles: Roles,
    ) -> None:
        await volunteers.deactivate(session, callback_data.value, user, roles)
        await query.answer(_("Done. They are no longer in the team."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)

    # --- the KPI table ----------------------------------------------------------------------
    @r.message(Command("kpi"))
    @r.message(F.text == BTN_KPI)
    async def kpi_table(
        message: Message,
        session: AsyncSession,
        user: User,
        roles: Roles,
        settings: Settings,
        policy: Policy,
    ) -> None:
        if not (roles.is_office or roles.head_of_stations):
            await message.answer(_("Only the office and station heads can see the KPIs."))
            return
        now = utcnow()
        year = now.astimezone(settings.tz).year
        towns = set(roles.office_towns)
        if roles.admin and not towns and user.town_id:
            towns.add(user.town_id)
        for station_id in roles.head_of_stations:
            station = await session.get(Region, station_id)
            if station is not None and station.parent_id is not None:
                towns.add(station.parent_id)
        for town_id in sorted(towns):
            report = await kpi.kpi_report(
                session, town_id, year=year, now=now, tz=settings.tz, targets=policy.kpi
            )
            office = roles.admin or town_id in roles.office_towns
            lines = [
                _("🎯 Volunteer KPIs {year} ({pct}% of the year gone)").format(
                    year=year, pct=round(report.elapsed * 100)
                ),
                _(
                    "Targets: at least {rate}% of party members take part, each at least "
                    "{hours} h a year."
                ).format(rate=round(report.target_rate * 100), hours=num(report.target_hours)),
            ]
            if office:
                lines += ["", *_group_lines(report.town, report.target_hours)]
            stations = [g for g in report.stations if office or g.id in roles.head_of_stations]
            if stations:
                lines += ["", _("By village:"), *_groups_lines(stations, report.target_hours)]
            if office:
                lines += [
                    "",
                    _("By team:"),
                    *_groups_lines(list(report.teams), report.target_hours),
                ]
            for chunk in _chunks(lines):
                await message.answer(chunk)

    return r
