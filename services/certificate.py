"""A one-page certificate of a volunteer's hours in a year (PNG), drawn with matplotlib.

Chinese text needs a CJK font: the regular face of Noto Sans/Serif CJK as matplotlib's font
manager resolves it (Debian: fonts-noto-cjk; see services/fonts.py); bold text takes the
family's bold face. Rendering uses a `Figure` of its own (no pyplot state), so
it is safe to run in a worker thread: `await asyncio.to_thread(render_certificate, data)`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import LedgerSource, PointsEntry, Region, User, utcnow
from services.fonts import regular_face
from services.i18n import N_, gettext, local_name
from services.points import totals, year_bounds
from services.volunteers import memberships

if TYPE_CHECKING:
    from matplotlib.font_manager import FontProperties

SANS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "WenQuanYi Zen Hei")
SERIF = ("Noto Serif CJK SC", "Noto Serif CJK JP", "Noto Serif CJK TC", *SANS)
RED = "#b22222"
GOLD = "#c9a227"


@cache
def cjk_font(serif: bool = False) -> FontProperties | None:
    """A font family that has Chinese glyphs, in its regular face (text asked for in bold
    resolves to the bold face), or None when none is installed."""
    # matplotlib on first use (here and in render_certificate): ~40 MiB a bot worker need
    # not carry until someone asks for a certificate.
    from matplotlib.font_manager import FontProperties

    face = regular_face(SERIF if serif else SANS)
    if face is None:
        return None
    return FontProperties(family=face.family, style=face.style, weight=face.weight)


@dataclass(frozen=True)
class CertificateData:
    number: str
    name: str
    year: int
    hours: Decimal
    points: Decimal
    orders: int  # services on orders with hours this year
    activities: int  # activities attended this year
    teams: tuple[str, ...]
    issuer: str  # the town institute, e.g. 陶乐镇新时代文明实践所
    issued: date
    target_hours: Decimal
    locale: str


async def certificate_data(
    session: AsyncSession,
    user: User,
    year: int,
    *,
    tz: tzinfo,
    target_hours: Decimal = Decimal(20),
    locale: str | None = None,
    now: datetime | None = None,
) -> CertificateData:
    """What the certificate says, from the ledger (corrections included)."""
    loc = locale or user.locale or "zh_CN"
    hours, pts = await totals(session, user.id, year, tz)
    start, end = year_bounds(year, tz)
    orders, activities = (
        await session.execute(
            select(
                func.count(func.distinct(PointsEntry.order_id)),
                func.count(func.distinct(PointsEntry.activity_id)),
            ).where(
                PointsEntry.user_id == user.id,
                PointsEntry.at >= start,
                PointsEntry.at < end,
                PointsEntry.source.in_((LedgerSource.ORDER, LedgerSource.ACTIVITY)),
                PointsEntry.hours > 0,
            )
        )
    ).one()
    town = await session.get(Region, user.town_id) if user.town_id else None
    issuer = (town.institute_name_zh or local_name(town, loc)) if town else ""
    if town is not None and loc == "en":
        issuer = town.name_en
    teams = tuple(
        local_name(m.team, loc)
        for m in await memberships(session, user.id)
        if m.member.status.value == "active"
    )
    return CertificateData(
        number=f"{year}-{user.id:06d}",
        name=user.name or f"#{user.id}",
        year=year,
        hours=hours,
        points=pts,
        orders=int(orders or 0),
        activities=int(activities or 0),
        teams=teams,
        issuer=issuer,
        issued=(now or utcnow()).astimezone(tz).date(),
        target_hours=target_hours,
        locale=loc,
    )


def _num(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


_TOKEN = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*|\s+")


def _width(text: str) -> int:
    return sum(2 if "\u2e80" <= c <= "\uffef" else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrapping by display width (a Chinese character counts two): Chinese breaks
    between any two characters, other scripts between words."""
    lines: list[str] = []
    line = ""
    for token in _TOKEN.findall(text):
        if line and _width((line + token).rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_certificate(data: CertificateData, *, dpi: int = 110) -> bytes:
    """The certificate as PNG bytes: landscape A4 proportions, Chinese or English."""
    loc = data.locale

    def t(msgid: str, **params: object) -> str:
        return gettext(msgid, loc, **params)

    # matplotlib on first use, as in cjk_font: a worker carries it only once asked.
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    serif, sans = cjk_font(serif=True), cjk_font()
    fig = Figure(figsize=(11.69, 8.27), dpi=dpi, facecolor="#fffdf6")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    for inset, width, colour in ((0.02, 6, RED), (0.035, 1.5, GOLD)):
        ax.add_patch(
            Rectangle(
                (inset, inset * 1.41),
                1 - 2 * inset,
                1 - 2 * inset * 1.41,
                fill=False,
                linewidth=width,
                edgecolor=colour,
            )
        )

    def write(
        y: float, text: str, size: float, *, font: FontProperties | None = sans, **kw: Any
    ) -> None:
        ax.text(0.5, y, text, ha="center", va="center", fontsize=size, fontproperties=font, **kw)

    write(0.86, t(N_("Certificate of volunteer service")), 34, font=serif, color=RED, weight="bold")
    write(0.79, data.issuer, 15, color="#444444")
    body = t(
        N_(
            "This certifies that {name} served as a volunteer in {year}, for {hours} hours "
            "in total, and earned {points} points."
        ),
        name=data.name,
        year=data.year,
        hours=_num(data.hours),
        points=_num(data.points),
    )
    y = 0.67
    for line in wrap(body, 56):
        write(y, line, 20)
        y -= 0.07
    write(
        0.43,
        t(N_("Hours: {hours}"), hours=_num(data.hours)),
        30,
        font=serif,
        color=RED,
        weight="bold",
    )
    details = [
        t(
            N_("Orders served: {orders} · Activities attended: {activities}"),
            orders=data.orders,
            activities=data.activities,
        ),
    ]
    if data.teams:
        details.append(
            t(N_("Teams: {teams}"), teams=(", " if loc == "en" else "、").join(data.teams))
        )
    target = t(N_("Annual target: {target} hours"), target=_num(data.target_hours))
    if data.hours >= data.target_hours:
        target += " ✓"
    details.append(target)
    y = 0.33
    for line in details:
        for part in wrap(line, 80):
            write(y, part, 13, color="#333333")
            y -= 0.045
    ax.text(0.9, 0.11, data.issuer, ha="right", va="center", fontsize=13, fontproperties=sans)
    ax.text(
        0.9,
        0.075,
        data.issued.isoformat(),
        ha="right",
        va="center",
        fontsize=12,
        fontproperties=sans,
    )
    ax.text(
        0.1,
        0.075,
        t(N_("No. {number}"), number=data.number),
        ha="left",
        va="center",
        fontsize=11,
        color="#666666",
        fontproperties=sans,
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    return buffer.getvalue()
