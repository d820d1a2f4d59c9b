"""What every dashboard page uses: the app's keys, the signed-in viewer, rendering a
template, and reading a request's query (period, ids, dates)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from models import Region, ServiceCategory, Team, User
from services import reports
from services.i18n import gettext, local_name
from services.orders.event_text import local_time
from services.org import Policy
from services.people import Roles
from services.reports import Period, Scope

HERE = Path(__file__).resolve().parent

SETTINGS = web.AppKey("settings", Settings)
SESSIONMAKER = web.AppKey("sessionmaker", async_sessionmaker[AsyncSession])
POLICY = web.AppKey("policy", Policy)
SECRET = web.AppKey("secret", bytes)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
DB = web.RequestKey("db", AsyncSession)
VIEWER: web.RequestKey[Viewer] = web.RequestKey("viewer")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Viewer:
    user: User
    roles: Roles
    scope: Scope
    locale: str
    place: str  # what the scope covers: the town(s) or the village(s)
    role_label: str

    def t(self, msgid: str, **params: object) -> str:
        return gettext(msgid, self.locale, **params)


# --- rendering --------------------------------------------------------------------------


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    viewer: Viewer | None = request.get(VIEWER)
    settings = request.app[SETTINGS]
    loc = viewer.locale if viewer else _guess_locale(request, settings)

    def _(msgid: str, **params: object) -> str:
        return gettext(msgid, loc, **params)

    css = str(request.app.router["static"].url_for(filename="dashboard.css"))
    page = request.app[TEMPLATES].get_template(template)
    html = page.render(_=_, viewer=viewer, locale=loc, path=request.path, css=css, **context)
    return web.Response(text=html, content_type="text/html", status=status)


def _guess_locale(request: web.Request, settings: Settings) -> str:
    accept = request.headers.get("Accept-Language", "").lower()
    if accept.startswith("en"):
        return "en"
    if accept.startswith("zh"):
        return "zh_CN"
    return settings.default_locale


def error_page(request: web.Request, status: int, msgid: str) -> web.Response:
    return render(request, "message.html", status=status, message=msgid)


# --- the request ------------------------------------------------------------------------


def viewer_of(request: web.Request) -> Viewer:
    return request[VIEWER]


def db_of(request: web.Request) -> AsyncSession:
    return request[DB]


def local(value: datetime | None, request: web.Request) -> str:
    """A moment in the configured time zone, as the pages show it; empty for none."""
    return (
        ""
        if value is None
        else local_time(value, request.app[SETTINGS].tz, viewer_of(request).locale)
    )


def int_param(request: web.Request, name: str) -> int | None:
    text = request.query.get(name, "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def date_param(request: web.Request, name: str) -> date | None:
    text = request.query.get(name, "").strip()
    if not text:
        return None
    try:
        return reports.parse_date(text)
    except ValueError:
        return None


def paging(request: web.Request, total: int, size: int) -> tuple[int, int]:
    """The `page` asked for, kept within 1..pages, and how many pages of `size` rows there are."""
    pages = max(1, (total + size - 1) // size)
    return min(max(1, int_param(request, "page") or 1), pages), pages


def period_of(request: web.Request) -> Period:
    """The period of a page: `from`/`to` dates, else `p` = w, m or y; this month by default."""
    tz = request.app[SETTINGS].tz
    first, last = date_param(request, "from"), date_param(request, "to")
    if first and last:
        try:
            return reports.custom_period(min(first, last), max(first, last), tz)
        except ValueError:
            pass
    kind = request.query.get("p", "m")
    return reports.current_period(kind if kind in ("w", "m", "y") else "m", tz)


def period_query(period: Period) -> str:
    if period.kind == "c":
        return urlencode({"from": period.first.isoformat(), "to": period.last.isoformat()})
    return urlencode({"p": period.kind})


def period_context(request: web.Request, period: Period) -> dict[str, Any]:
    """What the period picker of a page (templates/_periods.html) needs."""
    v = viewer_of(request)
    return {
        "period": period,
        "period_label": period.label(v.locale),
        "period_query": period_query(period),
        "period_first": period.first.isoformat(),
        "period_last": period.last.isoformat(),
    }


class Names:
    """Names of stations, teams and categories in the viewer's language, by id; a missing
    id (an order without a category yet) finds no name."""

    def __init__(self, loc: str) -> None:
        self.loc = loc
        self.stations: dict[int | None, str] = {}
        self.teams: dict[int | None, str] = {}
        self.categories: dict[int | None, str] = {}

    async def load(self, db: AsyncSession) -> Names:
        self.stations = await _names(db, Region, self.loc)
        self.teams = await _names(db, Team, self.loc)
        self.categories = await _names(db, ServiceCategory, self.loc)
        return self


_Org = TypeVar("_Org", Region, Team, ServiceCategory)


async def _names(db: AsyncSession, model: type[_Org], loc: str) -> dict[int | None, str]:
    return {row.id: local_name(row, loc) for row in await db.scalars(select(model))}
