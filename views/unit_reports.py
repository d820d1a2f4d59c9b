"""What the unit scorecard (站所考核) shows in the chat: the town's units ranked, with their
figures and their party members against the plan's targets, and the figures per platform.
Callback data of a dispatcher's period buttons."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from services import reports
from services.reports import Period
from services.reports.units import Figures
from services.unit_scorecard import UNIT_COMPONENTS, UnitScore, UnitScorecard
from views.format import locale, num
from views.me import chunks
from views.reports import PeriodKind


class UnitsNow(CallbackData, prefix="rpun"):
    """🏢 The unit scorecard of this week, month or year (a dispatcher's buttons)."""

    kind: PeriodKind


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def figures_line(f: Figures) -> str:
    """接单 · 派单 · 接单用时 · 办结率 · 评分, for a unit or a platform."""
    loc = locale()
    avg = "—" if f.rating_avg is None else f"{f.rating_avg:.2f}"
    return _(
        "received {received} · on time {on_time} · dispatch {dispatch} · accept {accept} · "
        "completion {completion} · rating {rating} ({ratings})"
    ).format(
        received=f.received,
        on_time=reports.format_rate(f.on_time_rate),
        dispatch=reports.format_duration(f.dispatch_median, loc),
        accept=reports.format_duration(f.accept_median, loc),
        completion=reports.format_rate(f.completion_rate),
        rating=avg,
        ratings=f.rating_count,
    )


def party_line(s: UnitScore, card: UnitScorecard) -> str:
    p = s.party
    if not p.members:
        return _("Party members reporting here: none recorded")
    return _(
        "Party members reporting here: {members}, serving {serving} ({rate}, target {target}); "
        "{mean} h each this year (target {hours} h a year), {reached} reached it"
    ).format(
        members=p.members,
        serving=p.serving,
        rate=reports.format_rate(p.rate),
        target=f"{card.target_rate * 100:g}%",
        mean=num(p.mean_hours or Decimal(0)),
        hours=num(card.target_hours),
        reached=p.reached,
    )


def unit_scorecard_lines(card: UnitScorecard, period: Period, *, own: bool) -> list[str]:
    """The ranked units (for a dispatcher, `own`: only theirs, with their rank among all)."""
    loc = locale()
    lines = [_("🏢 Unit scorecard · {period}").format(period=period.label(loc)), ""]
    quiet = [s for s in card.units if s.rank is None]
    for s in card.units:
        if s.rank is None and not own:
            continue
        if s.rank is None:
            lines.append(_("· {name}: nothing recorded in this period").format(name=s.name(loc)))
        else:
            total = "—" if s.total is None else f"{s.total:.1f}"
            lines.append(
                _("{rank}. {name}: {total} points").format(
                    rank=s.rank, name=s.name(loc), total=total
                )
            )
        parts = [f"{_(label)} {_score(s.scores[key])}" for key, label in UNIT_COMPONENTS]
        lines += ["   " + " · ".join(parts), "   " + figures_line(s.figures)]
        lines += ["   " + party_line(s, card), ""]
    if quiet and not own:
        names = "、".join(s.name(loc) for s in quiet)
        lines += [_("Nothing recorded in this period: {names}").format(names=names), ""]
    lines.append(
        _(
            "Each part is scored 0–100 and the parts weigh the same; «—» means no data yet. "
            "On time: passed to a team within {limit}."
        ).format(limit=reports.format_duration(card.deadline, loc))
    )
    return lines


def platform_lines(platforms: Sequence[Figures], period: Period) -> list[str]:
    loc = locale()
    lines = [_("🗂 By platform · {period}").format(period=period.label(loc)), ""]
    for f in platforms:
        lines += [f"· {f.name(loc)}", "   " + figures_line(f)]
    return lines


def unit_messages(
    card: UnitScorecard, platforms: Sequence[Figures] | None, period: Period, *, own: bool
) -> list[str]:
    """The messages to send: the scorecard, then (for the office) the platforms."""
    out = chunks(unit_scorecard_lines(card, period, own=own))
    if platforms is not None:
        out += chunks(platform_lines(platforms, period))
    return out


def unit_periods_keyboard() -> InlineKeyboardMarkup:
    """This week / month / year, for a dispatcher reading their unit's figures."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("This week"), callback_data=UnitsNow(kind=PeriodKind.WEEK))
    kb.button(text=_("This month"), callback_data=UnitsNow(kind=PeriodKind.MONTH))
    kb.button(text=_("This year"), callback_data=UnitsNow(kind=PeriodKind.YEAR))
    kb.adjust(3)
    return kb.as_markup()
