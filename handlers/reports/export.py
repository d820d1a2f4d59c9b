"""A report's 📦 XLSX archive and 🖼 photo archive, sent as documents."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, FSInputFile, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.common import Settings
from handlers.reports.access import asked_for, slug
from services import archive, reports
from services.people import Roles
from views.format import locale
from views.reports import Archive, ArchiveKind

TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may send as one document


async def export(
    query: CallbackQuery,
    callback_data: Archive,
    session: AsyncSession,
    roles: Roles,
    settings: Settings,
    bot: Bot,
) -> None:
    asked = await asked_for(query, callback_data, roles, settings.tz)
    if asked is None:
        return
    scope, period = asked
    with archive.EXPORTS.slot(roles.user_id):  # ExportsBusy: a pop-up, before anything
        await query.answer(_("Preparing the file…"))
        if isinstance(query.message, Message):
            await _send_archive(query.message, callback_data, session, scope, period, settings, bot)


async def _send_archive(
    message: Message,
    callback_data: Archive,
    session: AsyncSession,
    scope: reports.Scope,
    period: reports.Period,
    settings: Settings,
    bot: Bot,
) -> None:
    chat_id = message.chat.id
    photos = callback_data.what == ArchiveKind.PHOTOS
    await bot.send_chat_action(chat_id, "upload_document")
    folder = Path(tempfile.mkdtemp(prefix="archive-"))
    try:
        name = f"{'photos' if photos else 'archive'}-{slug(period)}"
        path = folder / f"{name}.{'zip' if photos else 'xlsx'}"
        if photos:
            summary = await archive.write_photo_zip(
                session, path, scope, period, settings.media_dir, tz=settings.tz
            )
            caption = _("Photos {period}: {n} photos, {missing} missing").format(
                period=period.label(locale()), n=summary.photos, missing=len(summary.missing)
            )
        else:
            rows = await archive.write_xlsx(session, path, scope, period, tz=settings.tz)
            caption = _("Archive {period}: {orders} orders").format(
                period=period.label(locale()), orders=rows.rows.get("订单", 0)
            )
        if path.stat().st_size > TELEGRAM_UPLOAD_LIMIT:
            await message.answer(
                _(
                    "The file is too big to send in the chat. Download it from the "
                    "dashboard (/dashboard) or choose a shorter period."
                )
            )
            return
        await message.answer_document(FSInputFile(path, filename=path.name), caption=caption)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


def router() -> Router:
    r = Router(name="reports.export")
    r.callback_query.register(export, Archive.filter())
    return r
