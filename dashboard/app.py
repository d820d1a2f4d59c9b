"""The office dashboard: an aiohttp app with server-rendered Jinja2 pages, no build step.

Sign-in is by a one-time link from the bot (`/login/{token}`, see services/weblogin.py), then
a signed cookie (dashboard/auth.py). Every request re-reads the user's roles, so the scope —
the whole town for office staff, the village for a station head — is enforced on the server
for every page, chart, order, photo and export (dashboard/security.py).

A page is an async function in a module of dashboard/pages/ that renders a template of
dashboard/templates/ with `dashboard.web.render`; one line in `ROUTES` serves it.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from dashboard import auth
from dashboard.pages import exports, orders, people, reports, signin, units
from dashboard.security import security_headers, session_and_viewer
from dashboard.web import HERE, POLICY, SECRET, SESSIONMAKER, SETTINGS, TEMPLATES, templates
from services.org import Policy

ROUTES = [
    # public: signing in and out, the health check
    web.get("/login/{token}", signin.login_page),
    web.post("/login/{token}", signin.login),
    web.get("/signed-out", signin.signed_out),
    web.get("/healthz", signin.healthz),
    # signed in
    web.post("/logout", signin.logout),
    web.post("/language", signin.set_language),
    web.get("/", reports.overview),
    web.get("/chart/{name}.png", reports.chart),
    web.get("/orders", orders.order_list),
    web.get(r"/orders/{order_id:\d{1,12}}", orders.order_page),
    web.get(r"/media/{attachment_id:\d{1,12}}", orders.media),
    web.get("/volunteers", reports.volunteers),
    web.get("/scorecard", reports.scorecard),
    web.get("/units", units.unit_scorecard),
    web.get("/people", people.people),
    web.get(r"/people/{user_id:\d{1,12}}", people.person),
    web.post(r"/people/{user_id:\d{1,12}}/group", people.set_group),
    web.post(r"/people/{user_id:\d{1,12}}/large-print", people.set_large_print),
    web.post(r"/people/{user_id:\d{1,12}}/booking", people.book),
    web.get("/exports", exports.exports),
    web.get("/export/{kind:archive.xlsx|photos.zip}", exports.export_file),
]


def build_app(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    policy: Policy,
    *,
    secret: bytes | None = None,
) -> web.Application:
    app = web.Application(middlewares=[security_headers, session_and_viewer])
    app[SETTINGS] = settings
    app[SESSIONMAKER] = sessionmaker
    app[POLICY] = policy
    app[SECRET] = secret or auth.load_secret(settings)
    app[TEMPLATES] = templates()
    app.add_routes(ROUTES)
    app.router.add_static("/static", HERE / "static", append_version=True, name="static")
    return app
