"""What the volunteer services share: limits, the unit of work (`transaction`), and
cleaning names, phones and short texts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import DomainError
from services.i18n import N_

MAX_NAME = 64
MAX_SKILLS = 300
MAX_REASON = 200
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 \-]{5,24}")
WROTE = "services.volunteers.wrote"  # session.info flag: a Core UPDATE was executed


@asynccontextmanager
async def transaction(session: AsyncSession, *keep: object) -> AsyncIterator[None]:
    """One unit of work: commit at the end; on an error roll back whatever was written.

    Refusals are checked before writing, so a refusal usually leaves nothing to undo and the
    caller's loaded objects stay usable. After a rollback the objects in `keep` (the actor,
    say) are reloaded, so a handler can still read them to reply."""
    session.info[WROTE] = False
    try:
        yield
        await session.commit()
    except DomainError:
        if session.info.get(WROTE) or session.new or session.dirty or session.deleted:
            await _rollback_keeping(session, keep)
        raise
    except BaseException:
        await _rollback_keeping(session, keep)
        raise


async def _rollback_keeping(session: AsyncSession, keep: tuple[object, ...]) -> None:
    await session.rollback()
    for obj in keep:
        if obj is not None and obj in session:
            await session.refresh(obj)


def clean_text(value: str | None, *, limit: int, required: bool, what: str) -> str | None:
    """Trimmed text within `limit`; `what` is the msgid asking for it when it is missing."""
    text = (value or "").strip()
    if not text:
        if required:
            raise DomainError(what)
        return None
    if len(text) > limit:
        raise DomainError(N_("This text is too long (at most {limit} characters)."), limit=limit)
    return text


def clean_phone(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not PHONE_PATTERN.fullmatch(text):
        raise DomainError(N_("That does not look like a phone number."))
    return re.sub(r"[ \-]", "", text)


def stamp(at: datetime) -> str:
    """A moment as a dedupe-key part: each application (and decision) is told once."""
    return f"{at:%Y%m%d%H%M%S%f}"


def phone_key(phone: str | None) -> str | None:
    """Digits only, without China's +86: the same number however it was written."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits or None
