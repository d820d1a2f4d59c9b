"""What the volunteer services share: limits, and cleaning names, phones and short texts."""

from __future__ import annotations

import re
from datetime import datetime

from services.errors import DomainError
from services.i18n import N_
from services.text import clean_text as clean_text

MAX_NAME = 64
MAX_SKILLS = 300
MAX_REASON = 200
PHONE_PATTERN = re.compile(r"\+?[0-9][0-9 \-]{5,24}")


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
