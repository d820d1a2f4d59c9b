"""Translations for code that runs outside a handler (services, scheduler, sender).

Handlers use aiogram's I18n over the same catalogues; this module reads the compiled
`.mo` files directly so the domain layer needs no aiogram import.
"""

from __future__ import annotations

import gettext as _gettext
from functools import cache
from pathlib import Path
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older. Returns the files written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=False)
        written.append(mo_path)
    _translations.cache_clear()
    return written


@cache
def _translations(locale: str) -> _gettext.NullTranslations:
    mo_path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo_path.exists():
        return _gettext.NullTranslations()
    with mo_path.open("rb") as fh:
        return _gettext.GNUTranslations(fh)


def normalise_locale(code: str | None) -> str:
    """Map a Telegram language code (zh-hans, zh-CN, en-US, …) to a supported locale."""
    if not code:
        return DEFAULT_LOCALE
    lowered = code.replace("_", "-").lower()
    if lowered.startswith("zh"):
        return "zh_CN"
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def gettext(message: str, locale: str | None = None, /, **params: object) -> str:
    text = _translations(locale or DEFAULT_LOCALE).gettext(message)
    return text.format(**params) if params else text


def ngettext(
    singular: str, plural: str, n: int, locale: str | None = None, /, **params: object
) -> str:
    text = _translations(locale or DEFAULT_LOCALE).ngettext(singular, plural, n)
    return text.format(n=n, **params)


class Named(Protocol):
    """Anything with a Chinese and an English name (read-only, so mapped columns fit)."""

    @property
    def name_zh(self) -> str: ...

    @property
    def name_en(self) -> str: ...


def local_name(thing: Named, locale: str | None) -> str:
    """The name of an org item (station, team, category, …) in the reader's language."""
    return thing.name_en if locale == "en" else thing.name_zh


class LocalName:
    """Mixin: `name(locale)` for a figure that carries `name_zh` and `name_en`."""

    name_zh: str
    name_en: str

    def name(self, locale: str | None) -> str:
        return local_name(self, locale)
