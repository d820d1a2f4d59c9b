"""Reports in the chat, end to end through the simulator: the office taps «📊 Reports», picks
«This month», gets the figures and a chart; asks for the XLSX archive and gets a document;
a station head sees only the village; /dashboard gives staff a link and refuses others."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from models import Role, WebLoginToken
from tests.flows import asked_again, clinic_orders, month_report, two_village_orders


async def test_office_reads_the_month_and_gets_the_archive(bot_env):
    env = bot_env
    office = await two_village_orders(env)

    menu, figures, chart = await month_report(office)
    assert "Taole" in menu.text
    assert "Orders: 2 (cancelled 0)" in figures.text
    assert "Miaomiaohu Village 1" in figures.text and "Dongjie Community 1" in figures.text
    assert chart.photo is not None, chart.summary()
    png = await env.driver.download(chart.photo)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert "📦 XLSX archive" in chart.buttons()

    await office.press("📦 XLSX archive", message=chart)
    doc = await office.expect(timeout=15)
    assert doc.document is not None, doc.summary()
    assert doc.document.file_name.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(await env.driver.download(doc.document)), read_only=True)
    assert wb.sheetnames[:2] == ["订单", "订单记录"]
    assert len(list(wb["订单"].iter_rows())) == 3  # the header and two orders

    await office.press("🖼 Photo archive", message=chart)
    photos = await office.expect(timeout=15)
    assert photos.document is not None and photos.document.file_name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(await env.driver.download(photos.document))) as zf:
        assert zf.namelist() == []  # no photos yet, and nothing missing

    await office.press("🏆 Scorecard", message=chart)
    table = await office.expect(contains="Station scorecard")
    assert "1. " in table.text and "Miaomiaohu Village" in table.text
    # A village where nothing happened is named, not ranked or scored.
    assert "· Xijie Community: nothing recorded in this period" in table.text
    assert "3. " not in table.text


async def test_station_head_sees_the_village_and_others_are_refused(bot_env):
    env = bot_env
    await env.person("Dr Zhang", role=Role.TEAM_LEADER, team="health")
    head = await env.person("Secretary Ma", role=Role.STATION_HEAD, station="dongjie")
    grandma = await env.person("Grandma Li")
    uncle = await env.person("Uncle Wang", station="dongjie")
    await clinic_orders(env, [grandma, uncle])

    await head.send("/reports")
    menu = await head.expect(contains="Which period?")
    assert "Dongjie" in menu.text and "Taole" not in menu.text
    await head.press("This year", message=menu)
    figures = await head.expect(contains="Orders:")
    assert "Orders: 1 (cancelled 0)" in figures.text
    assert "Miaomiaohu" not in figures.text
    await head.expect()  # the chart

    # Two dates of the head's own choosing; a wrong answer is asked again.
    await head.send("/reports")
    menu = await head.expect(contains="Which period?")
    await head.press("📅 Custom dates", message=menu)
    await head.expect(contains="first and the last day")
    await asked_again(head, "some day", "could not read two dates")
    await head.send("2020-01-01 至 2020-12-31")
    empty = await head.expect(contains="Orders:")
    assert "2020-01-01 – 2020-12-31" in empty.text and "Orders: 0" in empty.text
    await head.expect()  # the chart

    resident = grandma
    await resident.send("/dashboard")
    assert "office staff and station heads" in (await resident.expect()).text
    await resident.send("/reports")
    assert "office staff and station heads" in (await resident.expect()).text

    await head.send("/dashboard")
    link = await head.expect(contains="/login/")
    token = link.text.rsplit("/login/", 1)[1].strip()
    assert len(token) >= 40
    async with env.sessionmaker() as s:
        row = await s.scalar(select(WebLoginToken))
        assert row is not None and row.used_at is None
        assert token not in row.token_hash  # only the hash is stored
