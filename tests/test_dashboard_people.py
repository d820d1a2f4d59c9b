"""Residents on the dashboard, over HTTP against the real dashboard and database: a station
head marks a villager's priority group and large print; the office books an hours
correction and a commendation bonus; nobody reaches a person outside their villages, and a
head cannot book."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
from sqlalchemy import select

from dashboard import auth
from models import LedgerSource, PointsEntry, User
from tests.factories import make_cast
from tests.test_dashboard_sessions import _dashboard, _sign_in


async def _get(url: str, cookie: str, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}{path}", headers={"Cookie": f"{auth.COOKIE}={cookie}"}) as resp,
    ):
        return resp.status, await resp.text()


async def _post(url: str, cookie: str, path: str, form: dict[str, str]) -> tuple[int, str]:
    headers = {"Cookie": f"{auth.COOKIE}={cookie}", "Origin": url}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}{path}", headers=headers, data=form, allow_redirects=False) as resp,
    ):
        return resp.status, await resp.text()


async def _user(sessionmaker, user_id: int) -> User:
    async with sessionmaker() as s:
        user = await s.get(User, user_id)
        assert user is not None
        return user


async def _ledger(sessionmaker, user_id: int) -> list[tuple[LedgerSource, Decimal, Decimal, str]]:
    async with sessionmaker() as s:
        rows = await s.scalars(
            select(PointsEntry).where(PointsEntry.user_id == user_id).order_by(PointsEntry.id)
        )
        return [(r.source, r.hours, r.points, r.reason or "") for r in rows]


async def test_a_head_marks_a_villager_and_reaches_no_one_else(sessionmaker, db_url, tmp_path):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        await s.commit()
    mine, other = cast.resident.id, cast.west_resident.id
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        head = await _sign_in(url, sessionmaker, cast.east_head.id)
        status, page = await _get(url, head, "/people?q=马")
        assert status == 200 and f'href="/people/{mine}"' in page
        status, page = await _get(url, head, "/people?q=周")  # of the west village
        assert status == 200 and f"/people/{other}" not in page

        status, _ = await _post(
            url, head, f"/people/{mine}/group", {"group": str(cast.org.elderly.id)}
        )
        assert status == 303
        status, _ = await _post(url, head, f"/people/{mine}/large-print", {"on": "1"})
        assert status == 303
        status, page = await _get(url, head, f"/people/{mine}?saved=1")
        assert status == 200 and "已保存" in page and "留守老人" in page
        villager = await _user(sessionmaker, mine)
        assert villager.priority_group_id == cast.org.elderly.id and villager.large_print

        # Another village's resident: not found, whatever the form says; nothing changes.
        assert (await _get(url, head, f"/people/{other}"))[0] == 404
        form = {"group": str(cast.org.elderly.id)}
        assert (await _post(url, head, f"/people/{other}/group", form))[0] == 404
        assert (await _post(url, head, f"/people/{other}/large-print", {"on": "1"}))[0] == 404
        stranger = await _user(sessionmaker, other)
        assert stranger.priority_group_id is None and not stranger.large_print
        # Bookings are the office's.
        form = {"kind": "bonus", "amount": "10", "reason": "好"}
        assert (await _post(url, head, f"/people/{mine}/booking", form))[0] == 404
        assert await _ledger(sessionmaker, mine) == []


async def test_the_office_books_a_correction_and_a_bonus(sessionmaker, db_url, tmp_path):
    async with sessionmaker() as s:
        cast = await make_cast(s)
        await s.commit()
    vol = cast.health_vol.id
    async with _dashboard(sessionmaker, db_url, tmp_path) as url:
        office = await _sign_in(url, sessionmaker, cast.office.id)
        status, page = await _get(url, office, f"/people/{vol}")
        assert status == 200 and 'id="booking"' in page
        wrong = {"kind": "correction", "amount": "NaN", "reason": "重复计算"}
        status, page = await _post(url, office, f"/people/{vol}/booking", wrong)
        assert status == 400 and "小时" in page  # said in the reader's language
        right = {"kind": "correction", "amount": "-1.5", "reason": "重复计算"}
        assert (await _post(url, office, f"/people/{vol}/booking", right))[0] == 303
        bonus = {"kind": "bonus", "amount": "20", "reason": "县里表彰"}
        assert (await _post(url, office, f"/people/{vol}/booking", bonus))[0] == 303
        status, page = await _get(url, office, f"/people/{vol}")
        assert 'id="points">5<' in page  # -15 + 20
    assert await _ledger(sessionmaker, vol) == [
        (LedgerSource.CORRECTION, Decimal("-1.50"), Decimal("-15.00"), "重复计算"),
        (LedgerSource.BONUS, Decimal("0.00"), Decimal("20.00"), "县里表彰"),
    ]
