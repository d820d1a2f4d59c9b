"""The sender's renderer: a queued notice becomes a Telegram message in the recipient's
language, at send time.

Rendering late means a card shows the order as it is when it goes out, and services stay
free of Telegram types: they queue `kind` + ids (services/outbox.py). Each kind's renderer
and the read that feeds it are registered in views/ (`@renders`); this only wires them to
the session and the recipient's language.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import tzinfo

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from models import OutboxMessage, User
from services.i18n import DEFAULT_LOCALE
from views.notices import Note, Rendered, renderer_for


def make_renderer(
    i18n: I18n, tz: tzinfo
) -> Callable[[AsyncSession, OutboxMessage], Awaitable[Rendered | None]]:
    async def render(session: AsyncSession, row: OutboxMessage) -> Rendered | None:
        if row.method != "notice":
            return row.method, {"chat_id": row.chat_id, **row.payload}
        renderer = renderer_for(row.payload.get("kind", ""))
        if renderer is None:
            return None
        user = await session.get(User, row.user_id) if row.user_id else None
        loc = user.locale if user and user.locale in i18n.available_locales else DEFAULT_LOCALE
        facts = None
        if renderer.reads is not None:
            facts = await renderer.reads(session, row)
            if facts is None:
                return None  # gone, or moved on so far that there is nothing to say
        note = Note(row.chat_id, row.user_id, row.payload, tz)
        with i18n.context(), i18n.use_locale(loc):
            return renderer.render(note, facts)

    return render
