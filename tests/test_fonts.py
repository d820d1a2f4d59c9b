"""Charts and certificates draw Chinese with the regular face of the CJK family, whatever order
matplotlib happened to list the family's files in (on some machines the Bold file first)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from services import certificate, charts
from tests.conftest import missing


def _face(path: str) -> tuple[str, str]:
    """(family, style) as the font file itself names the face."""
    font = FT2Font(path, face_index=getattr(path, "face_index", 0))
    return font.family_name, font.style_name


def _forget() -> None:
    charts.find_cjk_font.cache_clear()
    certificate.cjk_font.cache_clear()
    font_manager.fontManager._findfont_cached.cache_clear()


@pytest.fixture
def bold_listed_first() -> Iterator[None]:
    """matplotlib's font list with every bold face ahead of the regular ones."""
    if charts.find_cjk_font() is None:
        missing("cjk_font", "nothing to draw Chinese with")
    manager = font_manager.fontManager
    before = list(manager.ttflist)
    bold = [e for e in before if font_manager._normalize_weight(e.weight) >= 600]
    manager.ttflist[:] = bold + [e for e in before if all(e is not b for b in bold)]
    _forget()
    try:
        yield
    finally:
        manager.ttflist[:] = before
        _forget()


def test_charts_take_the_regular_face_when_bold_is_listed_first(bold_listed_first):
    found = charts.find_cjk_font()
    assert found is not None
    family, path = found
    assert _face(path) in {(family, "Regular"), (family, "Medium")}
    assert path == font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )


@pytest.mark.parametrize("serif", [False, True], ids=["sans", "serif"])
def test_certificates_take_the_regular_face_and_bold_for_the_title(bold_listed_first, serif):
    font = certificate.cjk_font(serif=serif)
    assert font is not None
    family = font.get_family()[0]
    regular = font_manager.findfont(font, fallback_to_default=False)
    assert _face(regular) in {(family, "Regular"), (family, "Medium")}
    if any(e.name == family and e.weight == 700 for e in font_manager.fontManager.ttflist):
        title = font.copy()
        title.set_weight("bold")
        assert _face(font_manager.findfont(title, fallback_to_default=False)) == (family, "Bold")
