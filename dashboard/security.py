"""The middlewares every request goes through: security headers, the same-origin check for
forms, one database session, the signed-in viewer, and refusals shown as pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from dashboard import auth
from dashboard.web import (
    DB,
    SECRET,
    SESSIONMAKER,
    SETTINGS,
    VIEWER,
    Handler,
    Viewer,
    error_page,
    render,
)
from services import reports, weblogin
from services.i18n import LOCALES, N_, gettext, local_name

PUBLIC = ("/login/", "/static/", "/signed-out", "/healthz")

# What a refusal says, in the dashboard's layout and the reader's language. A missing page
# and another village's order get the same words: nothing leaks by guessing ids.
REFUSALS = {
    403: N_("You may not open this page."),
    404: N_("There is nothing here: the page does not exist, or it is not yours to see."),
    405: N_("There is nothing here: the page does not exist, or it is not yours to see."),
}


async def _refusal_page(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status not in REFUSALS:
            raise
        return error_page(request, exc.status, REFUSALS[exc.status])


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        secure(exc.headers)
        raise
    if not response.prepared:
        if request.path.startswith("/static/"):  # versioned URLs: safe to keep
            response.headers["Cache-Control"] = "public, max-age=86400"
        secure(response.headers)
    return response


def secure(h: Any) -> None:
    """The security headers of every response (a streamed one sets them itself)."""
    h.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")  # the sign-in link never leaves
    h.setdefault("Cache-Control", "no-store")


@web.middleware
async def session_and_viewer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One database session per request; outside the public paths, the signed-in viewer."""
    async with request.app[SESSIONMAKER]() as db:
        request[DB] = db
        if request.method == "POST" and not _same_origin(request):
            return error_page(request, 403, N_("This request came from another site."))
        if request.path.startswith(PUBLIC):
            return await _refusal_page(request, handler)
        viewer = await _viewer(request, db)
        if viewer is None:
            return render(request, "signed_out.html", status=401, expired=True)
        request[VIEWER] = viewer
        return await _refusal_page(request, handler)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _viewer(request: web.Request, db: AsyncSession) -> Viewer | None:
    settings = request.app[SETTINGS]
    cookie = auth.verify(request.app[SECRET], request.cookies.get(auth.COOKIE))
    if cookie is None:
        return None
    found = await weblogin.viewer(db, cookie.user_id, frozenset(settings.admin_ids), cookie.epoch)
    if found is None:
        return None
    user, roles, scope = found
    loc = user.locale if user.locale in LOCALES else settings.default_locale
    if scope.station_ids is not None:
        regions = await reports.stations_in(db, scope)
        role = N_("Station head")
    else:
        regions = await reports.towns_of(db, scope)
        role = N_("Administrator") if roles.admin else N_("Office staff")
    place = "、".join(local_name(r, loc) for r in regions) or "—"
    return Viewer(user, roles, scope, loc, place, gettext(role, loc))
