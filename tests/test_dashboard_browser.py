"""The web dashboard: signed in with a link obtained from the bot through the simulator, in a
real browser (Playwright driving Debian's Chromium), and over plain HTTP for the refusals.

Browser tests skip without Chromium, unless REQUIRE_BROWSER=1 (CI): see tests/conftest.py.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from openpyxl import load_workbook
from playwright.async_api import async_playwright, expect
from sqlalchemy import select

from dashboard import auth
from dashboard.server import run_dashboard
from models import Attachment, Order, Role, ServiceCategory, User, utcnow
from services import orders, weblogin
from services.points import DEFAULT_RULES
from simulator.driver import TINY_JPEG
from tests.conftest import CHROMIUM_ARGS
from tests.factories import place_order, roles_for, slot
from tests.latin import latin_words

SECRET = b"test-dashboard-secret-0123456789abcdef"
# Every image matched by the selector has loaded and decoded (a broken one has width 0).
ALL_LOADED = "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)"


@dataclass
class Town:
    office: object  # SimUser
    head: object  # SimUser, head of 东街社区 (dongjie)
    done_id: int  # a completed order in 庙庙湖村 with two photos
    done_number: str
    head_order_id: int  # an order from 东街社区
    photo_ids: list[int]
    url: str


ENGLISH = ("Dr Zhang", "Nurse Wang", "Office Li", "Secretary Ma", "Grandma Li", "Uncle Wang")
CHINESE = ("张医生", "王护士", "李主任", "马书记", "李奶奶", "王大爷")


async def _town(env, names: tuple[str, ...] = ENGLISH, lang: str = "en") -> Town:
    """A leader, a volunteer, the office and the head of 东街社区; a completed order with
    photos in 庙庙湖村 and an open one in 东街社区; the dashboard running."""
    doctor, nurse, director, secretary, granny, neighbour = names
    leader_sim = await env.person(doctor, role=Role.TEAM_LEADER, team="health", lang=lang)
    vol_sim = await env.person(nurse, role=Role.VOLUNTEER, team="health", lang=lang)
    office = await env.person(director, role=Role.OFFICE, lang=lang)
    head = await env.person(secretary, role=Role.STATION_HEAD, station="dongjie", lang=lang)
    grandma = await env.person(granny, lang=lang)
    uncle = await env.person(neighbour, station="dongjie", lang=lang)
    media: Path = env.settings.media_dir
    (media / "inbox").mkdir(parents=True, exist_ok=True)
    async with env.sessionmaker() as s:
        clinic = await s.scalar(
            select(ServiceCategory).where(ServiceCategory.code == "taole.free_clinic")
        )

        async def user(sim) -> User:
            return await s.scalar(select(User).where(User.tg_id == sim.id))

        leader, vol = await user(leader_sim), await user(vol_sim)
        done = await place_order(s, await user(grandma), clinic, description="量血压，看看腿")
        lroles, vroles = await roles_for(s, leader), await roles_for(s, vol)
        await orders.accept(s, done.id, leader, lroles)
        await orders.assign(s, env.dp["ctx"], done.id, leader, lroles, [vol.id], *slot(-3))
        photos = []
        for n in (1, 2):
            (media / "inbox" / f"p{n}.jpg").write_bytes(TINY_JPEG)
            photos.append((f"file-{n}", f"uniq-{n}", f"inbox/p{n}.jpg"))
        await orders.complete(
            s, env.dp["ctx"], done.id, vol, vroles, photos, {vol.id: Decimal(2)}, "血压正常"
        )
        other = await place_order(s, await user(uncle), clinic, description="东街的订单")
        photo_ids = list(
            await s.scalars(select(Attachment.id).where(Attachment.order_id == done.id))
        )
        done_number, done_id, other_id = done.number, done.id, other.id
    return Town(office, head, done_id, done_number, other_id, photo_ids, "")


async def _link(sim_user) -> str:
    await sim_user.send("/dashboard")
    reply = await sim_user.expect(contains="/login/")
    return next(w for w in reply.text.split() if "/login/" in w)


@pytest.fixture
async def town(bot_env):
    data = await _town(bot_env)
    async with run_dashboard(
        bot_env.settings, bot_env.sessionmaker, bot_env.cfg.policy, port=0, secret=SECRET
    ) as url:
        bot_env.dp["dashboard_url"] = url  # the bot's links point here
        data.url = url
        yield data


async def test_sign_in_filter_open_an_order_see_photos_download(chromium, town, bot_env, tmp_path):
    link = await _link(town.office)
    assert link.startswith(town.url + "/login/")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = await context.new_page()
            page.set_default_timeout(15_000)
            await page.goto(link)
            await page.click("#sign-in")
            await expect(page.locator("header.top")).to_contain_text("Taole Town")
            await expect(page.locator(".kpi").first).to_contain_text("2")  # two orders
            charts = page.locator(".chart img")
            await expect(charts).to_have_count(4)
            await page.wait_for_function(ALL_LOADED, arg=".chart img")

            # Orders: filter by village, then open the one left.
            await page.click("nav >> text=Orders")
            await expect(page.locator("#orders tbody tr")).to_have_count(2)
            await page.select_option("select[name=station]", label="Miaomiaohu Village")
            await page.click("#filters button[type=submit]")
            rows = page.locator("#orders tbody tr")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text(town.done_number)
            await page.fill("input[name=q]", "东街")
            await page.select_option("select[name=station]", value="")
            await page.click("#filters button[type=submit]")
            await expect(rows).to_have_count(1)
            await expect(rows.first).to_contain_text("Dongjie")
            await page.fill("input[name=q]", "")
            await page.select_option("select[name=status]", value="done")
            await page.click("#filters button[type=submit]")
            await expect(rows).to_have_count(1)
            await page.click(f"text={town.done_number}")

            await expect(page.locator("h1")).to_contain_text(town.done_number)
            await expect(page.locator(".timeline li")).to_have_count(
                len(await _events(bot_env, town.done_id))
            )
            images = page.locator("#photos img")
            await expect(images).to_have_count(2)
            await page.wait_for_function(ALL_LOADED, arg="#photos img")
            assert await images.first.evaluate("i => i.naturalWidth") == 16

            # The archive.
            await page.click("nav >> text=Archives")
            async with page.expect_download() as info:
                await page.click("#download-xlsx")
            download = await info.value
            target = tmp_path / "archive.xlsx"
            await download.save_as(target)
            wb = load_workbook(target, read_only=True)
            assert "订单" in wb.sheetnames
            numbers = [r[0] for r in wb["订单"].iter_rows(min_row=2, values_only=True)]
            assert town.done_number in numbers and len(numbers) == 2

            # The link was spent: opening it again is refused; so is one issued 11 minutes ago.
            again = await page.goto(link)
            assert again is not None and again.status == 403
            await expect(page.locator("#refused")).to_contain_text("expired or was already used")
            expired = await page.goto(f"{town.url}/login/{await _old_token(bot_env, town)}")
            assert expired is not None and expired.status == 403
            await expect(page.locator("#sign-in")).to_have_count(0)
        finally:
            await browser.close()


async def _old_token(env, town: Town) -> str:
    async with env.sessionmaker() as s:
        office = await s.scalar(select(User).where(User.tg_id == town.office.id))
        roles = await roles_for(s, office)
        return await weblogin.issue_link_token(
            s, office, roles, now=utcnow() - timedelta(minutes=11)
        )


async def _events(env, order_id: int) -> list:
    from models import OrderEvent

    async with env.sessionmaker() as s:
        return list(await s.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)))


async def test_station_head_cannot_open_another_village(chromium, town):
    link = await _link(town.head)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            page.set_default_timeout(15_000)
            await page.goto(link)
            await page.click("#sign-in")
            await expect(page.locator("header.top")).to_contain_text("Dongjie Community")
            await page.goto(f"{town.url}/orders")
            await expect(page.locator("#orders tbody tr")).to_have_count(1)
            await expect(page.locator("#orders")).not_to_contain_text(town.done_number)
            own = await page.goto(f"{town.url}/orders/{town.head_order_id}")
            assert own is not None and own.status == 200
            # Editing the URL to another village's order, or its photo, gets nothing.
            other = await page.goto(f"{town.url}/orders/{town.done_id}")
            assert other is not None and other.status == 404
            photo = await page.goto(f"{town.url}/media/{town.photo_ids[0]}")
            assert photo is not None and photo.status == 404
        finally:
            await browser.close()


# --- over plain HTTP ----------------------------------------------------------------------


@asynccontextmanager
async def _signed_in(url: str, link: str) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session signed in to the dashboard with the sign-in `link`."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(link) as page:
            assert page.status == 200 and "sign-in" in await page.text()
        async with http.post(link, allow_redirects=False) as signed:
            assert signed.status == 303
        yield http


async def test_links_expire_are_single_use_and_only_for_staff(town, bot_env):
    link = await _link(town.office)
    async with _signed_in(town.url, link) as http:
        async with http.get(town.url + "/") as page:
            assert page.status == 200
            assert page.headers["Referrer-Policy"] == "same-origin"
        async with http.post(link, allow_redirects=False) as reused:
            assert reused.status == 403

    # An expired link (issued 11 minutes ago) is refused, on the page and on the button.
    old = await _old_token(bot_env, town)
    async with aiohttp.ClientSession() as anon:
        async with anon.get(f"{town.url}/login/{old}") as page:
            assert page.status == 403
        async with anon.post(f"{town.url}/login/{old}", allow_redirects=False) as post:
            assert post.status == 403
        # Without a session, or with a forged cookie, nothing but the sign-in page.
        async with anon.get(f"{town.url}/orders/{town.done_id}") as page:
            assert page.status == 401
        forged = auth.sign(b"another-secret-entirely-0123456789", 1)
        async with anon.get(
            f"{town.url}/orders", headers={"Cookie": f"{auth.COOKIE}={forged}"}
        ) as page:
            assert page.status == 401

    # A resident cannot get a link at all.
    resident = await bot_env.person("Auntie Zhou")
    await resident.send("/dashboard")
    assert "office staff and station heads" in (await resident.expect()).text


async def test_station_head_scope_on_every_route(town):
    async with _signed_in(town.url, await _link(town.head)) as http:
        for path, status in [
            (f"/orders/{town.head_order_id}", 200),
            (f"/orders/{town.done_id}", 404),
            (f"/media/{town.photo_ids[0]}", 404),
            ("/orders?station=" + "1" * 3, 200),
            ("/chart/stations.png", 200),
            ("/chart/scorecard.png", 404),
            ("/volunteers", 200),
            ("/scorecard", 200),
            ("/units", 404),
        ]:
            async with http.get(town.url + path) as resp:
                assert resp.status == status, path
        async with http.get(town.url + "/export/archive.xlsx?p=y") as resp:
            assert resp.status == 200
            wb = load_workbook(io.BytesIO(await resp.read()), read_only=True)
        villages = {r[3] for r in wb["订单"].iter_rows(min_row=2, values_only=True)}
        assert villages == {"东街社区"}
        async with http.get(town.url + "/export/photos.zip?p=y") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "application/zip"
            with zipfile.ZipFile(io.BytesIO(await resp.read())) as zf:
                assert zf.namelist() == []  # the village's order has no photos


async def test_office_sees_photos_and_pages_in_both_languages(town, bot_env):
    async with _signed_in(town.url, await _link(town.office)) as http:
        async with http.get(f"{town.url}/media/{town.photo_ids[0]}") as resp:
            assert resp.status == 200 and await resp.read() == TINY_JPEG
        for path in (
            "/",
            "/orders",
            f"/orders/{town.done_id}",
            "/volunteers",
            "/scorecard",
            "/units",
            "/exports",
        ):
            async with http.get(town.url + path) as resp:
                assert resp.status == 200, path
                assert "Taole Town" in await resp.text()
        async with http.get(town.url + "/units?p=y") as resp:
            units = await resp.text()
        # Both free-clinic orders were received by the health team's lead units, ranked.
        assert '<span class="rank r1">1</span>' in units and "Town Health Centre" in units
        assert 'id="platforms"' in units and "No platform" in units
        async with http.post(
            town.url + "/language", data={"locale": "zh_CN", "next": "/orders"}
        ) as resp:
            assert resp.status == 200
            text = await resp.text()
            assert "陶乐镇" in text and "订单" in text, text[:3000]
        async with bot_env.sessionmaker() as s:
            order = await s.get(Order, town.done_id)
            assert order is not None


# --- in Chinese, and on a phone ------------------------------------------------------------

PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def zh_town(bot_env):
    """The town of `town`, everyone speaking Chinese; the done order's hours confirmed and
    the order rated with a comment, so its history has every step."""
    data = await _town(bot_env, CHINESE, lang="zh-hans")
    async with bot_env.sessionmaker() as s:
        leader = await s.scalar(select(User).where(User.name == CHINESE[0]))
        grandma = await s.scalar(select(User).where(User.name == CHINESE[4]))
        await orders.confirm_hours(
            s, data.done_id, leader, await roles_for(s, leader), rules=DEFAULT_RULES
        )
        await orders.rate(s, data.done_id, grandma, 5, "谢谢志愿者", rules=DEFAULT_RULES)
    async with run_dashboard(
        bot_env.settings, bot_env.sessionmaker, bot_env.cfg.policy, port=0, secret=SECRET
    ) as url:
        bot_env.dp["dashboard_url"] = url
        data.url = url
        yield data


def _pages(town: Town, *, office: bool) -> list[tuple[str, int]]:
    """Every page a viewer can reach, with the status it answers."""
    mine = town.done_id if office else town.head_order_id
    return [
        ("/", 200),
        ("/orders", 200),
        ("/orders?status=done&p=y", 200),
        (f"/orders/{mine}", 200),
        ("/volunteers", 200),
        ("/scorecard", 200),
        ("/units", 200 if office else 404),  # the unit scorecard is the town's
        ("/exports", 200),
        ("/people", 200),
        ("/people?q=%E7%8E%8B", 200),  # 王: a search with its results
        (f"/orders/{town.head_order_id if office else town.done_id}", 200 if office else 404),
        ("/orders/999999", 404),
        ("/no-such-page", 404),
    ]


async def _signed_in_page(browser, town: Town, who, viewport: dict[str, int]):
    context = await browser.new_context(viewport=viewport, locale="zh-CN")
    page = await context.new_page()
    page.set_default_timeout(15_000)
    await page.goto(await _link(who))
    return page


async def test_every_page_in_chinese_carries_no_english(chromium, zh_town):
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            for who, office in ((zh_town.office, True), (zh_town.head, False)):
                page = await _signed_in_page(browser, zh_town, who, {"width": 1280, "height": 900})
                seen = {"sign-in": await page.inner_text("body")}
                await page.click("#sign-in")
                await expect(page.locator("header.top")).to_contain_text(
                    "陶乐镇" if office else "东街社区"
                )
                for path, status in _pages(zh_town, office=office):
                    answer = await page.goto(zh_town.url + path)
                    assert answer is not None and answer.status == status, path
                    if status == 404:  # in the dashboard's layout, in the reader's language
                        tabs = 7 if office else 6  # a station head has no «站所考核» tab
                        await expect(page.locator("header.top nav a")).to_have_count(tabs)
                        await expect(page.locator("#message")).to_contain_text("这里没有内容")
                    seen[path] = await page.title() + "\n" + await page.inner_text("body")
                await page.click("#logout")
                seen["signed out"] = await page.inner_text("body")
                await page.goto(f"{zh_town.url}/login/spent-or-made-up")
                seen["refused link"] = await page.inner_text("body")
                found = {
                    where: latin_words(text) for where, text in seen.items() if latin_words(text)
                }
                assert not found, found
                await page.context.close()
        finally:
            await browser.close()


async def test_order_history_reads_as_chinese(chromium, zh_town):
    async with _signed_in(zh_town.url, await _link(zh_town.office)) as http:
        async with http.get(f"{zh_town.url}/orders/{zh_town.done_id}") as resp:
            text = await resp.text()
        for said in (
            "新订单；派给卫生健康志愿服务队",
            "志愿者 1 人，共 2 小时",
            "★★★★★ 谢谢志愿者",
        ):
            assert said in text, said
        assert "+00:00" not in text and "volunteer(s)" not in text


async def test_every_page_fits_a_phone(chromium, zh_town, tmp_path):
    """At 390×844 (and the narrowest common phone, 360) no page scrolls sideways, and every
    tab of the menu is on screen."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            for who, office, widths in (
                (zh_town.office, True, (390, 360)),
                (zh_town.head, False, (390,)),
            ):
                page = await _signed_in_page(browser, zh_town, who, PHONE)
                await page.click("#sign-in")
                await expect(page.locator("header.top")).to_be_visible()
                for width in widths:
                    await page.set_viewport_size({"width": width, "height": 844})
                    for path, _status in _pages(zh_town, office=office):
                        await page.goto(zh_town.url + path)
                        wide = await page.evaluate("document.documentElement.scrollWidth")
                        assert wide <= width, (path, width, wide)
                        for tab in await page.locator("header.top nav a").all():
                            box = await tab.bounding_box()
                            assert box is not None and box["x"] + box["width"] <= width, path
                await page.context.close()
        finally:
            await browser.close()


async def test_downloads_are_named_in_chinese_and_log_no_error(zh_town, caplog):
    async with _signed_in(zh_town.url, await _link(zh_town.office)) as http:
        caplog.set_level(logging.INFO)
        for kind, name in (("archive.xlsx", "台账"), ("photos.zip", "照片")):
            async with http.get(f"{zh_town.url}/export/{kind}?p=y") as resp:
                assert resp.status == 200
                body = await resp.read()
                disposition = resp.headers["Content-Disposition"]
            assert quote(name) in disposition and len(body) == int(resp.headers["Content-Length"])
            if kind == "photos.zip":
                with zipfile.ZipFile(io.BytesIO(body)) as zf:
                    files = zf.namelist()
                assert files and all(f.endswith(("-服务照片.jpg", "-下单照片.jpg")) for f in files)
        async with http.get(f"{zh_town.url}/export/archive.xlsx?p=y") as resp:
            assert resp.status == 200
    trouble = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not trouble, [r.getMessage() for r in trouble]
