"""Latin words on a Chinese screen: what a zh_CN reader must never be shown."""

from __future__ import annotations

import re

# Latin words a Chinese screen may show, each for a reason: the language switch names English
# in English, for the reader who needs it. Order numbers (TA-20260310-0001) are taken out
# before the check. Nothing else: units, file types and statuses are all said in Chinese.
LATIN_ALLOWED = {"English"}
ORDER_NUMBER = re.compile(r"\b[A-Z]{2}-\d{8}-\d{4}\b")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.'/-]*")


def latin_words(text: str) -> list[str]:
    """The Latin words in `text` that a Chinese reader should not see."""
    words = LATIN_WORD.findall(ORDER_NUMBER.sub(" ", text))
    return [w for w in words if w not in LATIN_ALLOWED]
