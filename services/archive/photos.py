"""The photo archive: a ZIP with each photo once (by Telegram's file_unique_id) under
`<station>/<YYYY-MM>/<order or activity number>/`, month in local time. Photos are read from
`media_dir / attachment.local_path`; a photo that is not there (never downloaded, or deleted)
is skipped and listed in 缺失照片.txt inside the ZIP. The archive is the institute's, in
Chinese: file names too (01-服务照片.jpg)."""

from __future__ import annotations

import asyncio
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path, PurePosixPath
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Activity,
    Attachment,
    AttachmentKind,
    AttachmentStage,
    Order,
)
from services.archive.records import Lookups, activity_filter, batches, order_filter
from services.reports import Period, Scope

MISSING_NAME = "缺失照片.txt"
STAGE_NAMES = {
    AttachmentStage.REQUEST: "下单照片",
    AttachmentStage.COMPLETION: "服务照片",
    AttachmentStage.ACTIVITY: "活动照片",
}


@dataclass
class PhotoSummary:
    photos: int = 0
    missing: list[str] = field(default_factory=list)
    bytes: int = 0


@dataclass(frozen=True)
class _Photo:
    arcname: str
    local_path: str | None  # relative to the media folder
    label: str  # for the list of missing photos


def _safe(part: str) -> str:
    cleaned = "".join("_" if c in '/\\:*?"<>|\0' else c for c in part).strip(" .")
    return cleaned or "_"


def _inside(root: Path, local_path: str | None) -> Path | None:
    """The file under the (resolved) media folder, or None if unset or pointing outside."""
    if not local_path:
        return None
    path = (root / local_path).resolve()
    return path if path.is_relative_to(root) else None


async def photo_entries(
    session: AsyncSession,
    scope: Scope,
    period: Period | None,
    *,
    tz: tzinfo,
) -> list[_Photo]:
    """Where each photo goes in the ZIP, once per file_unique_id."""
    names = await Lookups().load(session)
    seen: set[str] = set()
    per_folder: dict[str, int] = {}
    out: list[_Photo] = []

    def add(station: str, when: datetime, number: str, att: Any) -> None:
        att_id, unique_id, local_path, stage = att
        key = unique_id or f"id:{att_id}"
        if key in seen:
            return
        seen.add(key)
        folder = f"{_safe(station)}/{when.astimezone(tz):%Y-%m}/{_safe(number)}"
        per_folder[folder] = per_folder.get(folder, 0) + 1
        suffix = PurePosixPath(local_path or "").suffix.lower() or ".jpg"
        arcname = f"{folder}/{per_folder[folder]:02d}-{STAGE_NAMES[stage]}{suffix}"
        out.append(_Photo(arcname, local_path, f"{number} #{att_id}"))

    photo_columns = (
        Attachment.id,
        Attachment.file_unique_id,
        Attachment.local_path,
        Attachment.stage,
    )

    orders = (
        select(*photo_columns, Order.station_id, Order.created_at, Order.number)
        .join(Order, Order.id == Attachment.order_id)
        .where(Attachment.kind == AttachmentKind.PHOTO, *order_filter(scope, period))
        .order_by(Order.id, Attachment.id)
    )
    async for part in batches(session, orders):
        for *att, station, created, number in part:
            add(names.regions.get(station, "_"), created, number, att)
    activities = (
        select(
            *photo_columns,
            Activity.station_id,
            Activity.town_id,
            Activity.starts_at,
            Activity.number,
        )
        .join(Activity, Activity.id == Attachment.activity_id)
        .where(Attachment.kind == AttachmentKind.PHOTO, *activity_filter(scope, period))
        .order_by(Activity.id, Attachment.id)
    )
    async for part in batches(session, activities):
        for *att, station, town, starts, number in part:
            add(names.regions.get(station or town, "_"), starts, number, att)
    return out


def _write_zip(out: Path | IO[bytes], entries: list[_Photo], media_dir: Path) -> PhotoSummary:
    summary = PhotoSummary()
    root = media_dir.resolve()
    target = str(out) if isinstance(out, Path) else out
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for entry in entries:
            source = _inside(root, entry.local_path)
            if source is None or not source.is_file():
                summary.missing.append(f"{entry.arcname}\t{entry.label}")
                continue
            zf.write(source, entry.arcname)  # photos are JPEG: stored, not deflated
            summary.photos += 1
            summary.bytes += source.stat().st_size
        if summary.missing:
            lines = [
                "以下照片在服务器上找不到，未放入压缩包（路径 → 订单/活动编号 #附件编号）：",
                "",
                *summary.missing,
                "",
            ]
            zf.writestr(MISSING_NAME, "\n".join(lines).encode("utf-8"))
    return summary


async def write_photo_zip(
    session: AsyncSession,
    out: Path | IO[bytes],
    scope: Scope,
    period: Period | None,
    media_dir: Path,
    *,
    tz: tzinfo,
) -> PhotoSummary:
    """Write the photo archive to `out`; returns how many photos went in and what is missing."""
    entries = await photo_entries(session, scope, period, tz=tz)
    return await asyncio.to_thread(_write_zip, out, entries, media_dir)
