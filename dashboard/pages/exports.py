"""The archives page and its downloads: the period's records as XLSX, its photos as ZIP,
streamed from a temporary file that goes as soon as the response is sent."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from dashboard.security import secure
from dashboard.web import SETTINGS, db_of, period_context, period_of, render, viewer_of
from services import archive
from services.i18n import N_, gettext
from services.reports import Period

DOWNLOAD_TYPES = {
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def exports(request: web.Request) -> web.Response:
    period = period_of(request)
    return render(request, "exports.html", **period_context(request, period))


async def export_file(request: web.Request) -> web.StreamResponse:
    v = viewer_of(request)
    settings = request.app[SETTINGS]
    period = period_of(request)
    photos = request.match_info["kind"] == "photos.zip"
    try:  # one export at a time per person, a few in all (shared with the chat's exports)
        archive.EXPORTS.take(v.user.id)
    except archive.ExportsBusy as busy:
        raise web.HTTPTooManyRequests(
            text=v.t(busy.message), headers={"Retry-After": "30"}
        ) from None
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="dashboard-"))
    path = folder / ("photos.zip" if photos else "archive.xlsx")
    try:
        if photos:
            await archive.write_photo_zip(
                db_of(request), path, v.scope, period, settings.media_dir, tz=settings.tz
            )
        else:
            await archive.write_xlsx(db_of(request), path, v.scope, period, tz=settings.tz)
        return await _send_file(request, path, download_name(photos, period, v.locale))
    finally:
        archive.EXPORTS.give_back(v.user.id)
        await asyncio.to_thread(shutil.rmtree, folder, True)


def download_name(photos: bool, period: Period, locale: str) -> str:
    """The file name a download is saved under, in the viewer's language."""
    slug = f"{period.first:%Y%m%d}-{period.last:%Y%m%d}"
    what = N_("photos") if photos else N_("records")
    return f"{gettext(what, locale)}-{slug}.{'zip' if photos else 'xlsx'}"


async def _send_file(request: web.Request, path: Path, name: str) -> web.StreamResponse:
    """Stream a temporary file and finish the response here, so the file can go as soon as
    this returns (a FileResponse would open it again after the handler has returned)."""
    kind = DOWNLOAD_TYPES[path.suffix]
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    response = web.StreamResponse(
        headers={
            "Content-Type": kind,
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name)}",
        }
    )
    response.content_length = (await asyncio.to_thread(path.stat)).st_size
    secure(response.headers)
    await response.prepare(request)
    with await asyncio.to_thread(path.open, "rb") as f:
        while chunk := await asyncio.to_thread(f.read, 256 * 1024):
            await response.write(chunk)
    await response.write_eof()
    return response
