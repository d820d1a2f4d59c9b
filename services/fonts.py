"""The font file Chinese text is drawn with: the regular face of the first CJK family
installed, exactly as matplotlib itself resolves that family.

A family is several files (Debian's fonts-noto-cjk: NotoSansCJK-Regular.ttc and
NotoSansCJK-Bold.ttc). Taking the first file that carries the family's name takes whichever
face matplotlib happened to list first, on some machines the Bold one. Asking matplotlib's
own matcher for the family in normal style and regular weight gives the face ordinary text
is drawn with, while text asked for in bold still resolves to the Bold file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

REGULAR_WEIGHTS = range(400, 501)  # CSS weights Regular (400) to Medium (500)
FontStyle = Literal["normal", "italic", "oblique"]
_STYLES: dict[str, FontStyle] = {"normal": "normal", "italic": "italic", "oblique": "oblique"}


@dataclass(frozen=True)
class Face:
    family: str
    path: str  # matplotlib's FontPath: a str that also knows the face's index in a .ttc
    style: FontStyle
    weight: int

    @property
    def regular(self) -> bool:
        return self.style == "normal" and self.weight in REGULAR_WEIGHTS


def resolve(family: str) -> Face | None:
    """The face matplotlib draws `family` with in normal style and regular weight (its best
    match: a bold-only install gives the bold face); None when the family is not known."""
    from matplotlib import font_manager as fm

    wanted = fm.FontProperties(family=family, style="normal", weight="regular")
    try:
        path = fm.findfont(wanted, fallback_to_default=False)
    except ValueError:
        return None
    index = getattr(path, "face_index", 0)
    for entry in fm.fontManager.ttflist:
        if (
            entry.name == family
            and getattr(entry, "index", 0) == index
            and os.path.realpath(entry.fname) == os.path.realpath(path)
        ):
            weight = entry.weight if isinstance(entry.weight, int) else fm.weight_dict[entry.weight]
            return Face(family, path, _STYLES.get(entry.style, "normal"), weight)
    return None


def regular_face(families: Sequence[str]) -> Face | None:
    """The regular face of the first of `families` that has one; failing that, the first
    face found at all (Chinese in a bold face beats empty boxes); None when none is known."""
    faces = [face for face in map(resolve, families) if face is not None]
    return next((face for face in faces if face.regular), faces[0] if faces else None)
