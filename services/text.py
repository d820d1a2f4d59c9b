"""What people type, cleaned: trimmed, asked for when it must be given, within a limit."""

from __future__ import annotations

from services.errors import DomainError
from services.i18n import N_


def required_text(value: str | None, *, limit: int, what: str) -> str:
    """Trimmed text within `limit`; `what` is the msgid asking for it when it is missing."""
    text = (value or "").strip()
    if not text:
        raise DomainError(what)
    if len(text) > limit:
        raise DomainError(N_("This text is too long (at most {limit} characters)."), limit=limit)
    return text


def clean_text(value: str | None, *, limit: int, required: bool, what: str) -> str | None:
    """`required_text`, or None for a missing text that is not required."""
    if not required and not (value or "").strip():
        return None
    return required_text(value, limit=limit, what=what)
