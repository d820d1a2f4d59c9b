"""Dashboard sessions end on the server: after signing out, a kept copy of the cookie opens
nothing; a banned user's session stops at the next request; another user's session is
untouched. Over HTTP against the real dashboard and a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from sqlalchemy import update

from bot.settings import Settings
from dashboard import auth
from dashboard.server import run_dashboard
from models import User
from services import weblogin
from services.org import load_org_config
from tests.factories import make_cast, make_office, roles_for
from tests.harness import TAOLE

SECRET = b"dashboard-sessions-test-secret-0123456789"


@asynccontextmanager
async def _dashboard(sessionmaker, db_url: str, tmp_path) -> AsyncIterator[str]:
    settings = Settings(database_url=db_url, media_dir=tmp_path / "media")
    policy = load_org_config(TAOLE).policy
    async with run_dashboard(settings, sessionmaker, policy, port=0, secret=SECRET) as url:
        yield url


async def _sign_in(url: str, sessionmaker, user_id: int) -> str:
    """The session cookie a sign-in link gives `user_id`."""
    async with sessionmaker() as s:
        user = await s.get(User, user_id)
        token = await weblogin.issue_link_token(s, user, await roles_for(s, user))
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/login/{token}", allow_redirects=False) as resp,
    ):
        assert resp.status == 303
        return resp.cookies[auth.COOKIE].value


async def _status(url: str, cookie: str, path: str = "/orders") -> int:
    headers = {"Cookie": f"{auth.COOKIE}={cookie}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}{path}", headers=headers, allow_redirects=False) as resp,
    ):
        return resp.status


async def test_signing_out_ends_the_session_on_the_server(sessionmaker, db_url, tmp_path):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        clerk = await make_office(s, cast.org.town)
        await s.commit()
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        mine = await _sign_in(url, sessionmaker, cast.office.id)
        theirs = await _sign_in(url, sessionmaker, clerk.id)
        assert await _status(url, mine) == 200
        headers = {"Cookie": f"{auth.COOKIE}={mine}"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/logout", headers=headers, allow_redirects=False) as resp,
        ):
            assert resp.status == 303
        # The copy of the cookie kept after signing out opens nothing any more.
        assert await _status(url, mine) == 401
        assert await _status(url, mine, "/export/archive.xlsx") == 401
        assert await _status(url, theirs) == 200  # someone else's session goes on
        again = await _sign_in(url, sessionmaker, cast.office.id)
        assert await _status(url, again) == 200  # signing in again works


async def test_a_banned_users_session_stops_at_the_next_request(sessionmaker, db_url, tmp_path):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        await s.commit()
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        cookie = await _sign_in(url, sessionmaker, cast.office.id)
        assert await _status(url, cookie) == 200
        async with sessionmaker() as s:
            await s.execute(update(User).where(User.id == cast.office.id).values(banned=True))
            await s.commit()
        assert await _status(url, cookie) == 401
        assert await _status(url, cookie, "/") == 401


async def test_a_post_from_another_site_is_refused_and_changes_nothing(
    sessionmaker, db_url, tmp_path
):
    """A page elsewhere cannot make a signed-in browser sign out or switch language: a POST
    whose Origin is another site is refused before it acts."""
    async with sessionmaker() as s:
        cast = await make_cast(s)
        await s.commit()
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        cookie = await _sign_in(url, sessionmaker, cast.office.id)
        headers = {"Cookie": f"{auth.COOKIE}={cookie}", "Origin": "https://evil.example"}
        async with aiohttp.ClientSession() as http:
            for path, form in (("/logout", {}), ("/language", {"locale": "en", "next": "/"})):
                async with http.post(
                    f"{url}{path}", headers=headers, data=form, allow_redirects=False
                ) as resp:
                    assert resp.status == 403, path
        assert await _status(url, cookie) == 200  # still signed in
        async with sessionmaker() as s:
            office = await s.get(User, cast.office.id)
            assert office is not None and office.locale != "en"
        # From the dashboard's own pages the same POST works.
        own = {"Cookie": f"{auth.COOKIE}={cookie}", "Origin": url}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{url}/logout", headers=own, allow_redirects=False) as resp,
        ):
            assert resp.status == 303
        assert await _status(url, cookie) == 401
