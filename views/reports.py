"""What the reports menu shows: the report and scorecard texts, and the keyboards of periods
and of a report's files. Callback data of the reports menu."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from models import OrderStatus
from services import reports
from services.reports import Count, Period, Report, Scope
from services.scorecard import COMPONENTS, StationScore
from views.format import Day, locale

TOP = 6  # lines per breakdown in the chat


class PeriodKind(StrEnum):
    """As `Period.kind`: this week, month or year, or dates of one's own."""

    WEEK = "w"
    MONTH = "m"
    YEAR = "y"
    CUSTOM = "c"


class ReportFor(CallbackData, prefix="rpp"):
    """This week / month / year, or 📅 custom dates (asked next)."""

    kind: PeriodKind


class OpenDashboard(CallbackData, prefix="rpd"):
    """🖥 Dashboard: a one-time sign-in link."""


class Scorecard(CallbackData, prefix="rps"):
    """🏆 The station scorecard of a report's period."""

    kind: PeriodKind
    first: Day
    last: Day


class UnitScorecardFor(CallbackData, prefix="rpu"):
    """🏢 The unit scorecard (站所考核) of a report's period."""

    kind: PeriodKind
    first: Day
    last: Day


class ArchiveKind(StrEnum):
    XLSX = "xlsx"
    PHOTOS = "photos"


class Archive(CallbackData, prefix="rpx"):
    """📦 The XLSX archive or 🖼 the photo archive of a report's period."""

    what: ArchiveKind
    kind: PeriodKind
    first: Day
    last: Day


def _counts(items: Sequence[Count], limit: int = TOP) -> str:
    shown = [c for c in items if c.count][:limit]
    text = " · ".join(f"{c.name(locale())} {c.count}" for c in shown)
    rest = sum(c.count for c in items[limit:] if c.count) if len(items) > limit else 0
    return (text + (f" · … {rest}" if rest else "")) or "—"


def report_text(report: Report, place: str) -> str:
    loc = locale()
    cancelled = report.count_of(OrderStatus.CANCELLED)
    stars = " · ".join(f"{s}★ {report.ratings.get(s, 0)}" for s in range(5, 0, -1))
    avg = "—" if report.rating_avg is None else f"{report.rating_avg:.2f}"
    lines = [
        f"📊 {place} · {report.period.label(loc)}",
        "",
        _("Orders: {total} (cancelled {cancelled})").format(
            total=report.total, cancelled=cancelled
        ),
        _("Completion rate: {rate} ({done} of {considered})").format(
            rate=reports.format_rate(report.completion_rate),
            done=report.finished,
            considered=report.considered,
        ),
        _("Time to accept: median {median}, 90% within {p90}").format(
            median=reports.format_duration(report.accept_median, loc),
            p90=reports.format_duration(report.accept_p90, loc),
        ),
        _("Time to complete: median {median}, 90% within {p90}").format(
            median=reports.format_duration(report.complete_median, loc),
            p90=reports.format_duration(report.complete_p90, loc),
        ),
        _("Overdue: {overdue} · escalated: {escalated}").format(
            overdue=report.overdue, escalated=report.escalated
        ),
        _("Satisfaction: {avg} from {n} ratings ({stars})").format(
            avg=avg, n=report.rating_count, stars=stars
        ),
        _("Volunteer hours: {hours} h by {people} volunteers").format(
            hours=reports.format_number(report.hours), people=report.volunteers
        ),
        "",
        _("By status: {items}").format(
            items=_counts(report.by_status, limit=len(report.by_status))
        ),
        _("By village: {items}").format(items=_counts(report.by_station, limit=10)),
        _("By team: {items}").format(items=_counts(report.by_team)),
        _("By platform: {items}").format(items=_counts(report.by_platform)),
        _("By service: {items}").format(items=_counts(report.by_category)),
    ]
    return "\n".join(lines)


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}"


def scorecard_text(table: Sequence[StationScore], period: Period, scope: Scope) -> str:
    loc = locale()
    mine = [s for s in table if scope.station_ids is None or s.station_id in scope.station_ids]
    lines = [_("🏆 Station scorecard · {period}").format(period=period.label(loc)), ""]
    ranked = sum(1 for s in table if s.has_data)
    for s in mine:
        if not s.has_data:  # a rank or a score would praise or blame an empty period
            lines.append(_("· {name}: nothing recorded in this period").format(name=s.name(loc)))
            continue
        total = "—" if s.total is None else f"{s.total:.1f}"
        lines.append(
            _("{rank}. {name}: {total} points").format(rank=s.rank, name=s.name(loc), total=total)
        )
        parts = [f"{_(label)} {_score(s.scores[key])}" for key, label in COMPONENTS]
        lines.append("   " + " · ".join(parts))
        if scope.station_ids is not None:
            lines.append(_("   Rank {rank} of {n} stations").format(rank=s.rank, n=ranked))
    lines += [
        "",
        _("Each part is scored 0–100 and weighted as the office set; «—» means no data yet."),
    ]
    return "\n".join(lines)


def periods_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("This week"), callback_data=ReportFor(kind=PeriodKind.WEEK))
    kb.button(text=_("This month"), callback_data=ReportFor(kind=PeriodKind.MONTH))
    kb.button(text=_("This year"), callback_data=ReportFor(kind=PeriodKind.YEAR))
    kb.button(text=_("📅 Custom dates"), callback_data=ReportFor(kind=PeriodKind.CUSTOM))
    kb.button(text=_("🖥 Dashboard"), callback_data=OpenDashboard())
    kb.adjust(3, 1, 1)
    return kb.as_markup()


def report_keyboard(period: Period, *, units: bool = False) -> InlineKeyboardMarkup:
    """The report's buttons; `units`: the unit scorecard too (the whole town's readers)."""
    kind, first, last = PeriodKind(period.kind), period.first, period.last
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🏆 Scorecard"), callback_data=Scorecard(kind=kind, first=first, last=last))
    if units:
        kb.button(
            text=_("🏢 Unit scorecard"),
            callback_data=UnitScorecardFor(kind=kind, first=first, last=last),
        )
    kb.button(
        text=_("📦 XLSX archive"),
        callback_data=Archive(what=ArchiveKind.XLSX, kind=kind, first=first, last=last),
    )
    kb.button(
        text=_("🖼 Photo archive"),
        callback_data=Archive(what=ArchiveKind.PHOTOS, kind=kind, first=first, last=last),
    )
    kb.adjust(1)
    return kb.as_markup()


def dashboard_text(link: str, minutes: int) -> str:
    return _(
        "Open the dashboard with this link. It works once, for {minutes} minutes, and only "
        "for you: do not forward it.\n{link}"
    ).format(minutes=minutes, link=link)
