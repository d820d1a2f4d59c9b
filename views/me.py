"""What /me shows: a volunteer's hours and points, their ledger lines, a leader's team list;
and the KPI table of /kpi. Callback data of /me."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import LedgerSource, MemberRole, MembershipStatus, Team, TeamMember, User
from services import kpi
from services.i18n import local_name
from services.points import RecentEntry
from services.volunteers import Membership
from views.format import day_label, hours_label, locale, num
from views.menu import inline_keyboard

BAR = 10
NAMES_SHOWN = 12
MESSAGE_MAX = 4096


class MeItem(StrEnum):
    CERTIFICATE = "cert"  # 📜 Certificate of hours
    LEAVE = "leave"  # 🚪 Leave a team: which one is asked next
    TOWN_TEAMS = "teams"  # 👥 The town's teams (the office)


class MeMenu(CallbackData, prefix="mem"):
    """A button under /me."""

    item: MeItem


class LeaveTeam(CallbackData, prefix="mlt"):
    """The team to leave: are you sure (`sure` false), then left."""

    team_id: int
    sure: bool = False


class TeamRoster(CallbackData, prefix="met"):
    """👥 A team's members with their hours."""

    team_id: int


class RemoveMember(CallbackData, prefix="mrm"):
    """🚫 Remove someone from the team: are you sure (`sure` false), then removed."""

    member_id: int
    sure: bool = False


@dataclass(frozen=True)
class MyYear:
    """A volunteer's figures for /me: this year's hours and points against the target."""

    year: int
    hours: Decimal
    points: Decimal
    lifetime: Decimal
    target: Decimal


def me_text(name: str, mine: Sequence[Membership], figures: MyYear, recent: Sequence[str]) -> str:
    lines = [f"👤 {name}"]
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
            year=figures.year, hours=num(figures.hours), target=num(figures.target)
        ),
        progress_bar(figures.hours, figures.target),
        _("Points in {year}: {points} (all time: {total})").format(
            year=figures.year, points=num(figures.points), total=num(figures.lifetime)
        ),
    ]
    if recent:
        lines.append(_("Recent:"))
        lines += recent
    return "\n".join(lines)


def me_keyboard(
    mine: Sequence[Membership], led: Sequence[Team], *, office: bool
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📜 Certificate of hours"), callback_data=MeMenu(item=MeItem.CERTIFICATE))
    if any(
        m.member.role == MemberRole.MEMBER and m.member.status == MembershipStatus.ACTIVE
        for m in mine
    ):
        kb.button(text=_("🚪 Leave a team"), callback_data=MeMenu(item=MeItem.LEAVE))
    for team in led:
        kb.button(
            text="👥 " + local_name(team, locale()),
            callback_data=TeamRoster(team_id=team.id),
        )
    if office:
        kb.button(text=_("👥 The town's teams"), callback_data=MeMenu(item=MeItem.TOWN_TEAMS))
    kb.adjust(1)
    return kb.as_markup()


def teams_keyboard(teams: Sequence[Team]) -> InlineKeyboardMarkup:
    """The teams a leader or the office may open, one a row."""
    return inline_keyboard(
        [("👥 " + local_name(team, locale()), TeamRoster(team_id=team.id)) for team in teams]
    )


def leave_keyboard(teams: Sequence[Team]) -> InlineKeyboardMarkup:
    return inline_keyboard(
        (local_name(team, locale()), LeaveTeam(team_id=team.id)) for team in teams
    )


def confirm_leave_keyboard(team_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard([(_("Yes, leave the team"), LeaveTeam(team_id=team_id, sure=True))])


def roster_lines(
    team: Team, roster: Sequence[tuple[TeamMember, User]], hours: dict[int, Decimal]
) -> list[str]:
    lines = [_("👥 {team} · members: {n}").format(team=local_name(team, locale()), n=len(roster))]
    for member, person in roster:
        party = _(" (party member)") if person.is_party_member else ""
        lead = _(" (leader)") if member.role == MemberRole.LEADER else ""
        lines.append(f"• {person.name or '?'}{lead}{party}: " + hours_label(hours[person.id]))
    return lines


def remove_keyboard(
    roster: Sequence[tuple[TeamMember, User]], viewer_id: int | None
) -> InlineKeyboardMarkup:
    """🚫 Remove for each plain member but the viewer."""
    return inline_keyboard(
        (_("🚫 Remove {name}").format(name=person.name or "?"), RemoveMember(member_id=member.id))
        for member, person in roster
        if member.role == MemberRole.MEMBER and person.id != viewer_id
    )


def confirm_remove_keyboard(member_id: int) -> InlineKeyboardMarkup:
    return inline_keyboard([(_("Yes, remove"), RemoveMember(member_id=member_id, sure=True))])


def progress_bar(done: Decimal, target: Decimal) -> str:
    share = 1.0 if target <= 0 else min(1.0, float(done / target))
    filled = round(share * BAR)
    return "▓" * filled + "░" * (BAR - filled) + f" {round(share * 100)}%"


def entry_line(recent: RecentEntry, tz: tzinfo) -> str:
    entry = recent.entry
    day = day_label(entry.at.astimezone(tz).date())
    if entry.order_id:
        what = _("Order {number}").format(number=recent.order_number or "?")
    elif entry.activity_id:
        what = _("Activity «{title}»").format(title=recent.activity_title or "?")
    elif entry.source == LedgerSource.CORRECTION:
        what = _("Correction: {reason}").format(reason=entry.reason or "")
    else:
        what = _("Bonus: {reason}").format(reason=entry.reason or "")
    if entry.source == LedgerSource.BONUS and entry.order_id:
        what += " · " + _("bonus")
    figures = []
    if entry.hours:
        figures.append(hours_label(entry.hours))
    sign = "+" if entry.points >= 0 else ""
    figures.append(_("{points} points").format(points=sign + num(Decimal(entry.points))))
    return f"• {day} {what}: {', '.join(figures)}"


def chunks(lines: list[str]) -> list[str]:
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


def groups_lines(groups: list[kpi.GroupKpi], target: Decimal) -> list[str]:
    """The groups with people in them, one by one; the empty ones on one line."""
    lines: list[str] = []
    empty = [g for g in groups if not g.party_members and not g.volunteers and not g.hours]
    for group in groups:
        if group not in empty:
            lines += group_lines(group, target)
    if empty:
        sep = ", " if locale() == "en" else "、"
        lines.append(
            _("No volunteers or party members yet: {names}").format(
                names=sep.join(_group_name(g) for g in empty)
            )
        )
    return lines


def group_lines(group: kpi.GroupKpi, target: Decimal) -> list[str]:
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


def kpi_lines(
    report: kpi.KpiReport, year: int, stations: list[kpi.GroupKpi], *, office: bool
) -> list[str]:
    """A town's KPI table: the town (for the office), the villages, the teams (office)."""
    lines = [
        _("🎯 Volunteer KPIs {year} ({pct}% of the year gone)").format(
            year=year, pct=round(report.elapsed * 100)
        ),
        _(
            "Targets: at least {rate}% of party members take part, each at least {hours} h a year."
        ).format(rate=round(report.target_rate * 100), hours=num(report.target_hours)),
    ]
    if office:
        lines += ["", *group_lines(report.town, report.target_hours)]
    if stations:
        lines += ["", _("By village:"), *groups_lines(stations, report.target_hours)]
    if office:
        lines += ["", _("By team:"), *groups_lines(list(report.teams), report.target_hours)]
    return lines
