"""Signing in by the bot's one-time link, signing out, the language switch and the health
check."""

from __future__ import annotations

from aiohttp import web

from dashboard import auth
from dashboard.web import SECRET, SETTINGS, db_of, render, viewer_of
from models import User
from services import orders, weblogin
from services.i18n import LOCALES


async def login_page(request: web.Request) -> web.Response:
    """Show a button rather than sign in on GET: link previews and mail scanners open links
    on their own, and must not spend the one use."""
    row = await weblogin.peek_link_token(db_of(request), request.match_info["token"])
    if row is None:
        return render(request, "signed_out.html", status=403, expired=False)
    user = await db_of(request).get(User, row.user_id)
    return render(request, "login.html", name=orders.display_name(user))


async def login(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    found = await weblogin.redeem_link_token(
        db_of(request), request.match_info["token"], frozenset(settings.admin_ids)
    )
    if found is None:
        return render(request, "signed_out.html", status=403, expired=False)
    user, _roles = found
    response = web.HTTPSeeOther("/")
    response.set_cookie(
        auth.COOKIE,
        auth.sign(request.app[SECRET], user.id, epoch=user.web_epoch),
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="Lax",
        secure=settings.dashboard_public_url.startswith("https://"),
        path="/",
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    """Sign out on the server too: the cookie, and any copy of it, stops working."""
    await weblogin.sign_out(db_of(request), viewer_of(request).user.id)
    response = web.HTTPSeeOther("/signed-out")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


async def signed_out(request: web.Request) -> web.Response:
    return render(request, "signed_out.html", expired=False, bye=True)


async def set_language(request: web.Request) -> web.Response:
    form = await request.post()
    code = str(form.get("locale", ""))
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if code in LOCALES:
        user = await db_of(request).get(User, viewer_of(request).user.id)
        if user is not None:
            user.locale = code
            await db_of(request).commit()
    raise web.HTTPSeeOther(target)


async def healthz(_request: web.Request) -> web.Response:
    return web.Response(text="ok")
