"""Chart images (PNG) for the chat and the dashboard: matplotlib's Agg backend, no pyplot.

Chinese labels need a CJK font; `find_cjk_font()` takes the regular face of the first CJK
family matplotlib knows (Noto Sans CJK SC from Debian's fonts-noto-cjk first; see
services/fonts.py), then looks in the usual font folders. Without one the charts still
render, but Chinese shows as empty boxes, so the tests fail in CI when none is found.

Rendering is CPU work (~0.2 s a chart): callers in the event loop run it in a thread
(`asyncio.to_thread`). matplotlib's global font settings are touched once, under a lock,
and every render holds the same lock.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from services import fonts
from services.i18n import N_, gettext
from services.reports import Report, format_duration, format_number, format_rate
from services.scorecard import StationScore

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@cache
def _mpl() -> SimpleNamespace:
    """matplotlib, imported on the first chart: ~40 MiB a bot worker need not carry until
    someone asks for one."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, ticker, transforms
    from matplotlib.figure import Figure

    return SimpleNamespace(
        rc=matplotlib.rcParams,
        font_manager=font_manager,
        ticker=ticker,
        transforms=transforms,
        Figure=Figure,
    )


# Families that cover Simplified Chinese, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local" / "share" / "fonts",
)
FONT_GLOBS = ("NotoSansCJK*", "NotoSansSC*", "SourceHanSans*", "wqy-*", "DroidSansFallback*")

RED = "#b8322a"  # the accent of the dashboard and the charts
BLUE = "#2f6f9f"
GREY = "#6b7280"
LIGHT = "#e5e7eb"
STAR = "#e0a526"
_lock = threading.Lock()


def _scan_font_dirs() -> None:
    """Register CJK font files matplotlib did not see when it built its cache."""
    extra = os.environ.get("CJK_FONT_FILE")
    candidates = [Path(extra)] if extra else []
    for folder in FONT_DIRS:
        if folder.is_dir():
            for pattern in FONT_GLOBS:
                candidates.extend(sorted(folder.rglob(pattern)))
    for path in candidates:
        if path.suffix.lower() in (".ttf", ".otf", ".ttc") and path.is_file():
            try:
                _mpl().font_manager.fontManager.addfont(str(path))
            except (OSError, RuntimeError, ValueError):
                continue


@cache
def find_cjk_font() -> tuple[str, str] | None:
    """(family name, file) of the regular face of a font that draws Chinese, or None when
    there is none."""
    _mpl()  # the Agg backend before matplotlib's font manager
    face = fonts.regular_face(CJK_FAMILIES)
    if face is None or not face.regular:
        _scan_font_dirs()
        face = fonts.regular_face(CJK_FAMILIES)
    return (face.family, face.path) if face else None


@cache
def _setup() -> str | None:
    """Point matplotlib's sans-serif family at the CJK font (once); returns its name."""
    found = find_cjk_font()
    families = [found[0]] if found else []
    _mpl().rc["font.family"] = "sans-serif"
    _mpl().rc["font.sans-serif"] = [*families, "DejaVu Sans"]
    _mpl().rc["axes.unicode_minus"] = False
    return found[0] if found else None


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, facecolor="white")
    return buf.getvalue()


def _style(ax: Any) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(LIGHT)
    ax.tick_params(colors="#374151", length=0)
    ax.grid(axis="x", color=LIGHT, linewidth=0.8)
    ax.set_axisbelow(True)


def _barh(
    ax: Any,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    color: str,
    *,
    empty: str,
    fmt: str = "{:g}",
    size: float = 12,
    title_x: float = 0.05,
) -> None:
    _style(ax)
    # Titles line up with the figure's left edge, not with the bars.
    where = _mpl().transforms.blended_transform_factory(ax.figure.transFigure, ax.transAxes)
    ax.text(
        title_x,
        1.06,
        title,
        transform=where,
        fontsize=size + 3,
        fontweight="bold",
        color="#111827",
        va="bottom",
    )
    if not values or max(values, default=0) <= 0:
        ax.set_yticks([])
        ax.set_xticks([])
        ax.text(
            0.5,
            0.5,
            empty,
            ha="center",
            va="center",
            fontsize=size,
            color=GREY,
            transform=ax.transAxes,
        )
        return
    positions = list(range(len(values)))[::-1]
    ax.barh(positions, values, color=color, height=0.62)
    ax.set_yticks(positions, labels=list(labels), fontsize=size)
    top = max(values)
    ax.set_xlim(0, top * 1.18)
    ax.xaxis.set_major_locator(_mpl().ticker.MaxNLocator(nbins=4, integer=True))
    ax.tick_params(axis="x", labelsize=size - 2, labelcolor=GREY)
    for y, v in zip(positions, values, strict=True):
        ax.text(v + top * 0.015, y, fmt.format(v), va="center", fontsize=size, color="#111827")


def _kpi(fig: Figure, x: float, y: float, value: str, label: str, color: str = "#111827") -> None:
    fig.text(x, y, value, fontsize=22, fontweight="bold", color=color, ha="left", va="bottom")
    fig.text(x, y - 0.006, label, fontsize=11.5, color=GREY, ha="left", va="top")


def _top(items: Sequence[Any], n: int, locale: str | None) -> tuple[list[str], list[int]]:
    chosen = [c for c in items if c.count > 0][:n]
    limit = 13 if locale == "en" else 8
    return [_short(c.name(locale), limit) for c in chosen], [c.count for c in chosen]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_chart(report: Report, locale: str | None, title: str) -> bytes:
    """The chat's chart: a portrait image (1080 px wide) that reads on a phone — the
    headline figures, orders by village, status and category, and the ratings 1–5."""
    with _lock:
        _setup()

        def t(msgid: str, **kw: Any) -> str:
            return gettext(msgid, locale, **kw)

        none = t(N_("No data"))
        fig = _mpl().Figure(figsize=(7.2, 10.4), dpi=150)
        fig.text(0.05, 0.975, title, fontsize=19, fontweight="bold", color="#111827", va="top")
        fig.text(0.05, 0.945, report.period.label(locale), fontsize=12.5, color=GREY, va="top")
        kpis = [
            (str(report.total), t(N_("orders")), "#111827"),
            (format_rate(report.completion_rate), t(N_("completed")), RED),
            (
                "—" if report.rating_avg is None else f"{report.rating_avg:.1f}",
                t(N_("satisfaction")),
                STAR,
            ),
            (format_number(report.hours), t(N_("volunteer hours")), BLUE),
        ]
        for i, (value, label, color) in enumerate(kpis):
            _kpi(fig, 0.05 + i * 0.235, 0.872, value, label, color)
        fig.text(
            0.05,
            0.818,
            t(
                N_("Time to accept: median {median}, 90% within {p90}"),
                median=format_duration(report.accept_median, locale),
                p90=format_duration(report.accept_p90, locale),
            ),
            fontsize=11.5,
            color="#374151",
        )
        fig.text(
            0.05,
            0.796,
            t(
                N_("Overdue: {overdue} · escalated: {escalated}"),
                overdue=report.overdue,
                escalated=report.escalated,
            ),
            fontsize=11.5,
            color="#374151",
        )

        grid = fig.add_gridspec(
            3,
            2,
            left=0.27,
            right=0.95,
            top=0.75,
            bottom=0.04,
            hspace=0.55,
            wspace=0.9,
            height_ratios=[1.25, 1.0, 1.0],
        )
        stations = [c for c in report.by_station][:10]
        _barh(
            fig.add_subplot(grid[0, :]),
            t(N_("Orders by village")),
            [_short(c.name(locale), 13 if locale == "en" else 8) for c in stations],
            [c.count for c in stations],
            RED,
            empty=none,
        )
        labels, values = _top(report.by_category, 6, locale)
        _barh(
            fig.add_subplot(grid[1, :]),
            t(N_("Orders by service")),
            labels,
            values,
            BLUE,
            empty=none,
        )
        statuses = report.by_status
        _barh(
            fig.add_subplot(grid[2, 0]),
            t(N_("Status")),
            [_short(c.name(locale), 8) for c in statuses],
            [c.count for c in statuses],
            GREY,
            empty=none,
            size=10.5,
        )
        stars = fig.add_subplot(grid[2, 1])
        _barh(
            stars,
            t(N_("Ratings")),
            [f"{s}★" for s in range(5, 0, -1)],
            [report.ratings.get(s, 0) for s in range(5, 0, -1)],
            STAR,
            empty=none,
            size=10.5,
            title_x=stars.get_position().x0 - 0.06,
        )
        return _png(fig)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    color: str = RED,
    locale: str | None = None,
    width: float = 6.0,
    fmt: str = "{:g}",
    min_rows: int = 3,
) -> bytes:
    """One horizontal bar chart (the dashboard's overview). `min_rows` keeps charts shown
    side by side the same height."""
    with _lock:
        _setup()
        height = 1.1 + 0.42 * max(len(values), min_rows)
        fig = _mpl().Figure(figsize=(width, height), dpi=120)
        ax = fig.add_subplot(1, 1, 1)
        _barh(
            ax,
            title,
            [_short(x, 14) for x in labels],
            values,
            color,
            empty=gettext(N_("No data"), locale),
            fmt=fmt,
            size=12,
            title_x=0.03,
        )
        fig.subplots_adjust(left=0.3, right=0.96, top=1 - 0.55 / height, bottom=0.35 / height)
        return _png(fig)


def scorecard_chart(scores: Sequence[StationScore], locale: str | None, title: str) -> bytes:
    """The scorecard's totals, best first."""
    rows = [s for s in scores if s.total is not None and s.has_data]
    return bar_chart(
        title,
        [f"{s.rank}. {s.name(locale)}" for s in rows],
        [round(s.total or 0.0, 1) for s in rows],
        color=RED,
        locale=locale,
        fmt="{:.1f}",
    )


def used_font() -> str | None:
    """The family the charts draw Chinese with (None: no CJK font, tofu)."""
    return _setup()
