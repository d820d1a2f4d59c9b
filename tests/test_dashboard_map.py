"""The dashboard's order page shows where a resident who sent their location is: a map
link at the pin. Over HTTP against the real dashboard and a real database."""

from __future__ import annotations

import aiohttp

from dashboard import auth
from tests.factories import make_cast, place_order
from tests.test_dashboard_sessions import _dashboard, _sign_in

MAP = "https://www.openstreetmap.org/?mlat=38.810000&amp;mlon=106.620000"


async def _page(url: str, cookie: str, path: str) -> str:
    headers = {"Cookie": f"{auth.COOKIE}={cookie}"}
    async with aiohttp.ClientSession() as http, http.get(f"{url}{path}", headers=headers) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_an_order_with_a_pin_links_to_the_map(sessionmaker, db_url, tmp_path):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        pinned = await place_order(
            s, cast.resident, cast.org.clinic, latitude=38.81, longitude=106.62, address="3号"
        )
        plain = await place_order(s, cast.resident, cast.org.clinic)
        await s.commit()
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        cookie = await _sign_in(url, sessionmaker, cast.office.id)
        page = await _page(url, cookie, f"/orders/{pinned.id}")
        assert MAP in page and "3号" in page
        assert "openstreetmap" not in await _page(url, cookie, f"/orders/{plain.id}")
