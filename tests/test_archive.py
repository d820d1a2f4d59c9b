"""Archives: the XLSX workbook (sheets, Chinese headers, row counts, local times), the photo
ZIP (each photo once, under station / month / number, 缺失照片.txt), the command line, and a
small performance smoke test."""

from __future__ import annotations

import asyncio
import os
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    Order,
    OrderEvent,
    OrderStatus,
    SignupStatus,
)
from services import archive
from services.archive.xlsx import CUT, MAX_CELL, MAX_ROWS, XlsxWriter, sheet_title
from services.points import LOCAL_TZ
from services.reports import Scope
from tests.test_reports import MARCH, local, seed

ROOT = Path(__file__).resolve().parent.parent
SHEETS = ["订单", "订单记录", "派单与工时", "评价", "志愿者", "活动", "签到", "平台", "站所"]


def photo(order_id=None, activity_id=None, uniq="u", path=None, stage=AttachmentStage.COMPLETION):
    return Attachment(
        order_id=order_id,
        activity_id=activity_id,
        kind=AttachmentKind.PHOTO,
        stage=stage,
        file_id=f"f-{uniq}",
        file_unique_id=uniq,
        local_path=path,
    )


async def seed_archive(session, media: Path):
    data = await seed(session)
    org, cast = data.cast.org, data.cast
    act = Activity(
        number="HD-0301",
        title="板凳课堂",
        starts_at=local(3, 8, 9),
        ends_at=local(3, 8, 11),
        station_id=org.west.id,
        town_id=org.town.id,
        status=ActivityStatus.DONE,
        created_by_id=cast.office.id,
    )
    session.add(act)
    await session.flush()
    session.add_all(
        [
            ActivitySignup(
                activity_id=act.id,
                user_id=cast.health_vol.id,
                status=SignupStatus.SIGNED,
                attended=True,
                checked_in_at=local(3, 8, 9, 5),
                hours=Decimal("2"),
            ),
            ActivitySignup(activity_id=act.id, user_id=cast.law_vol.id, status=SignupStatus.SIGNED),
        ]
    )
    # Photos on disk: two for order 1 (one attached twice: same file_unique_id), one for
    # the activity, one whose file is gone. The factory's completion photos ("uniq-1",
    # data/media/1.jpg) are not on disk either: one more missing line, listed once.
    (media / "inbox").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (media / "inbox" / name).write_bytes(b"\xff\xd8JPEG-" + name.encode())
    ids = data.ids
    session.add_all(
        [
            photo(ids[1], uniq="pa", path="inbox/a.jpg"),
            photo(ids[1], uniq="pb", path="inbox/b.jpg"),
            photo(ids[2], uniq="pa", path="inbox/a.jpg"),  # the same photo again
            photo(
                activity_id=act.id, uniq="pc", path="inbox/c.jpg", stage=AttachmentStage.ACTIVITY
            ),
            photo(ids[3], uniq="gone", path="inbox/gone.jpg"),
            photo(ids[3], uniq="evil", path="../../etc/passwd"),  # outside the media folder
        ]
    )
    await session.commit()
    return data, act


async def test_xlsx_has_the_sheets_headers_and_rows(session, tmp_path):
    data, _act = await seed_archive(session, tmp_path / "media")
    org = data.cast.org
    out = tmp_path / "archive.xlsx"
    summary = await archive.write_xlsx(
        session, out, Scope(town_ids=frozenset({org.town.id})), MARCH, tz=LOCAL_TZ
    )

    # Independent counts for the sheets built from the database's own rows.
    march = list(data.ids.values())
    events = await session.scalar(
        select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id.in_(march))
    )
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == SHEETS
    # Write-only sheets leave trailing empty cells out: pad the rows to the header.
    rows = {
        name: [
            tuple(r) + (None,) * (len(archive.SHEETS[name]) - len(r))
            for r in wb[name].iter_rows(values_only=True)
        ]
        for name in SHEETS
    }
    for name in SHEETS:
        assert list(rows[name][0]) == archive.SHEETS[name], name
        assert summary.rows[name] == len(rows[name]) - 1
    assert len(rows["订单"]) - 1 == 8
    assert len(rows["订单记录"]) - 1 == events
    # Assigned: orders 1, 2, 3 (done) and 7 (in progress); order 5 is only accepted.
    assert len(rows["派单与工时"]) - 1 == 4
    assert len(rows["评价"]) - 1 == 2
    # Active team members: 2 health leaders, 2 health volunteers, law leader and
    # volunteer, and the two station heads (they lead their squads).
    assert len(rows["志愿者"]) - 1 == 8
    assert len(rows["活动"]) - 1 == 1
    assert len(rows["签到"]) - 1 == 2

    header = archive.SHEETS["订单"]
    by_number = {r[0]: dict(zip(header, r, strict=True)) for r in rows["订单"][1:]}
    eighth = await session.get(Order, data.ids[8])
    first = by_number[eighth.number]
    assert first["下单时间"] == datetime(2026, 3, 1, 0, 30)  # local time, not 2026-02-28 16:30
    assert first["村（社区）"] == "东街社区" and first["服务类别"] == "法律咨询"
    assert first["状态"] == "待接单"
    rated = by_number[(await session.get(Order, data.ids[1])).number]
    assert (
        rated["评分"] == 5
        and rated["状态"] == "已评价"
        and rated["承办队伍"] == "卫生健康志愿服务队"
    )
    vols = {r[0]: r for r in rows["志愿者"][1:]}
    assert vols["王志愿"][4] == 4.0  # 2 h + 2 h booked in March (February's 5 h left out)
    assert vols["王志愿"][3] == "是"
    activity = rows["活动"][1]
    assert activity[0] == "HD-0301" and activity[8:] == (2, 1, 1)


async def test_station_head_archive_is_the_village_only(session, tmp_path):
    data, _act = await seed_archive(session, tmp_path / "media")
    out = tmp_path / "west.xlsx"
    scope = Scope(station_ids=frozenset({data.cast.org.west.id}))
    summary = await archive.write_xlsx(session, out, scope, MARCH, tz=LOCAL_TZ)
    assert summary.rows["订单"] == 3 and summary.rows["评价"] == 0
    wb = load_workbook(out, read_only=True)
    villages = {r[3] for r in wb["订单"].iter_rows(min_row=2, values_only=True)}
    assert villages == {"西街社区"}
    assert summary.rows["活动"] == 1  # the activity is in the west village


async def test_photo_zip_files_each_photo_once(session, tmp_path):
    media = tmp_path / "media"
    data, _act = await seed_archive(session, media)
    out = tmp_path / "photos.zip"
    summary = await archive.write_photo_zip(session, out, Scope(), MARCH, media, tz=LOCAL_TZ)
    n1 = (await session.get(Order, data.ids[1])).number
    n3 = (await session.get(Order, data.ids[3])).number
    with zipfile.ZipFile(out) as zf:
        names = sorted(zf.namelist())
        contents = {n: zf.read(n) for n in names}
    # Order 1: the factory's photo (uniq-1, not on disk) took 01; a.jpg and b.jpg follow.
    # Order 2 only has photos already filed under order 1.
    assert names == sorted(
        [
            f"东街社区/2026-03/{n1}/02-服务照片.jpg",
            f"东街社区/2026-03/{n1}/03-服务照片.jpg",
            "西街社区/2026-03/HD-0301/01-活动照片.jpg",
            "缺失照片.txt",
        ]
    )
    assert contents[f"东街社区/2026-03/{n1}/02-服务照片.jpg"] == b"\xff\xd8JPEG-a.jpg"
    assert contents[f"东街社区/2026-03/{n1}/03-服务照片.jpg"] == b"\xff\xd8JPEG-b.jpg"
    assert contents["西街社区/2026-03/HD-0301/01-活动照片.jpg"] == b"\xff\xd8JPEG-c.jpg"
    assert summary.photos == 3
    missing = contents["缺失照片.txt"].decode("utf-8")
    assert len(summary.missing) == 3
    assert f"{n1}/01-服务照片.jpg" in missing
    # Order 3: its uniq-1 photo is filed under order 1 already; gone.jpg and the path
    # outside the media folder are missing.
    assert f"{n3}/01-服务照片.jpg" in missing and f"{n3}/02-服务照片.jpg" in missing
    assert "passwd" not in "".join(names)


async def test_command_line_export(db_url, session, tmp_path):
    await seed_archive(session, tmp_path / "media")
    out = tmp_path / "cli.xlsx"
    env = {**os.environ, "DATABASE_URL": db_url, "MEDIA_DIR": str(tmp_path / "media")}
    for args, target in (
        (["xlsx", "--out", str(out), "--from", "2026-03-01", "--to", "2026-03-31"], out),
        (["photos", "--out", str(tmp_path / "p.zip")], tmp_path / "p.zip"),
    ):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "export",
            *args,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, stderr.decode()
        assert "Wrote" in stdout.decode()
        assert target.exists()
    wb = load_workbook(out, read_only=True)
    assert len(list(wb["订单"].iter_rows())) == 9  # header + 8 March orders


async def test_export_of_two_thousand_orders_writes_every_row(session, tmp_path):
    """The batched, write-only export over many batches: every order and event is in the
    file, once. How long it takes is bench/export.py's business (100,000 orders)."""
    data = await seed(session)
    cast, org = data.cast, data.cast.org
    n = 2000
    base = datetime(2026, 3, 10, tzinfo=UTC)
    await session.execute(
        insert(Order),
        [
            {
                "number": f"PERF-{i:06d}",
                "town_id": org.town.id,
                "station_id": org.east.id if i % 2 else org.west.id,
                "category_id": org.clinic.id,
                "team_id": org.health.id,
                "resident_id": cast.resident.id,
                "placed_by_id": cast.resident.id,
                "status": OrderStatus.DONE,
                "description": "性能测试",
                "created_at": base + timedelta(minutes=i),
                "accepted_at": base + timedelta(minutes=i + 5),
                "done_at": base + timedelta(minutes=i + 90),
            }
            for i in range(n)
        ],
    )
    ids = list(await session.scalars(select(Order.id).where(Order.number.like("PERF-%"))))
    await session.execute(
        insert(OrderEvent),
        [
            {"order_id": oid, "at": base, "kind": k, "from_status": "x", "to_status": "y"}
            for oid in ids
            for k in ("created", "accepted", "done")
        ],
    )
    await session.commit()
    summary = await archive.write_xlsx(session, tmp_path / "big.xlsx", Scope(), MARCH, tz=LOCAL_TZ)
    assert summary.rows["订单"] == n + 8
    assert summary.rows["订单记录"] >= 3 * n
    wb = load_workbook(tmp_path / "big.xlsx", read_only=True)
    numbers = [row[0] for row in wb["订单"].iter_rows(min_row=2, values_only=True)]
    assert len(numbers) == n + 8 and len(set(numbers)) == n + 8  # each order once
    assert {f"PERF-{i:06d}" for i in range(n)} <= set(numbers)
    assert sum(1 for _ in wb["订单记录"].iter_rows(min_row=2)) == summary.rows["订单记录"]


# --- text and sizes Excel refuses --------------------------------------------------------

HOSTILE = "停水\ufffe了\uffff，\x01\x08\x0b\x0c\x1f\r请来\t修\n理"


async def test_characters_xml_forbids_do_not_break_the_workbook(session, tmp_path):
    """An order description with U+FFFE, U+FFFF and C0 controls: the workbook still opens,
    and the description keeps every other character."""
    data, _act = await seed_archive(session, tmp_path / "media")
    order = await session.get(Order, data.ids[8])
    order.description = HOSTILE
    await session.commit()
    out = tmp_path / "archive.xlsx"
    await archive.write_xlsx(
        session, out, Scope(town_ids=frozenset({data.cast.org.town.id})), MARCH, tz=LOCAL_TZ
    )
    wb = load_workbook(out, read_only=True)
    header = archive.SHEETS["订单"]
    rows = {r[0]: r for r in wb["订单"].iter_rows(min_row=2, values_only=True)}
    described = rows[order.number][header.index("需求描述")]
    assert described == "停水了，请来\t修\n理"


def test_a_cell_longer_than_excel_allows_is_cut_with_a_marker(tmp_path):
    out = tmp_path / "long.xlsx"
    book = XlsxWriter(out)
    sheet = book.sheet("备注", ["长", "短", "表情"])
    emoji = "🙂" * 20_000  # 40,000 UTF-16 units: Excel counts those
    sheet.append([["甲" * 40_000, "乙" * MAX_CELL, emoji], ["<&>" * 12_000, "\x00x\ud800", "y"]])
    book.close()
    (long, exact, faces), (escaped, lone, _y) = list(
        load_workbook(out, read_only=True)["备注"].iter_rows(min_row=2, values_only=True)
    )
    assert long == "甲" * (MAX_CELL - len(CUT)) + CUT
    assert exact == "乙" * MAX_CELL  # at the limit: whole
    assert faces.endswith(CUT) and len(faces.encode("utf-16-le")) // 2 <= MAX_CELL
    assert len(escaped) == MAX_CELL and escaped.startswith("<&><&>")
    assert lone == "x"  # a NUL and a lone surrogate (from a bad decode) are dropped


def test_rows_beyond_a_sheet_go_on_in_a_continuation_sheet(tmp_path):
    """With a 4-row sheet (Excel's is 1,048,576): the header and 3 rows on each sheet, the
    rest on «订单（续）», «订单（续2）»; the next sheet is unaffected."""
    assert MAX_ROWS == 1_048_576
    out = tmp_path / "many.xlsx"
    book = XlsxWriter(out, max_rows=4)
    orders = book.sheet("订单", ["编号"])
    assert orders.append([[n] for n in range(1, 6)]) == 5
    assert orders.append([[6], [7], [8]]) == 3
    book.sheet("评价" * 20, ["评分"]).append([[5]])
    book.close()
    wb = load_workbook(out, read_only=True)
    assert wb.sheetnames == ["订单", "订单（续）", "订单（续2）", "评价" * 15 + "评"]
    values = {name: [r[0] for r in wb[name].iter_rows(values_only=True)] for name in wb.sheetnames}
    assert values["订单"] == ["编号", 1, 2, 3]
    assert values["订单（续）"] == ["编号", 4, 5, 6]
    assert values["订单（续2）"] == ["编号", 7, 8]
    assert values[wb.sheetnames[3]] == ["评分", 5]


def test_sheet_names_excel_accepts():
    assert sheet_title("a" * 40) == "a" * 31
    assert sheet_title("报表[3/4]:*?\\") == "报表_3_4_____"
    assert sheet_title("订单", ["订单"]) == "订单(2)"
    assert sheet_title("x" * 31, ["X" * 31]) == "x" * 28 + "(2)"
