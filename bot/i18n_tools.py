"""Catalogue upkeep for developers: extract strings, merge them into zh_CN and en.

English is the source language, so the en catalogue's translations are the msgids
themselves; zh_CN is translated by people (a test fails while any entry is empty).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from services.i18n import DOMAIN, LOCALES, LOCALES_DIR

ROOT = LOCALES_DIR.parent
SOURCES = ("bot", "handlers", "views", "services", "scheduler", "dashboard")
# Python everywhere; the dashboard's Jinja2 templates too (`{{ _("…") }}`).
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "__": None, "N_": None}


def extract() -> Catalog:
    template = Catalog(project="civic-dispatch", fuzzy=False)
    for folder in SOURCES:
        path = ROOT / folder
        if not path.exists():
            continue
        for filename, lineno, message, comments, context in extract_from_dir(
            str(path), method_map=METHODS, keywords=KEYWORDS
        ):
            template.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def _po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> dict[str, int]:
    """Merge the extracted strings into each catalogue; returns untranslated counts."""
    template = extract()
    missing: dict[str, int] = {}
    for locale in LOCALES:
        path = _po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="civic-dispatch", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        missing[locale] = sum(1 for m in catalog if m.id and not m.string)
        with path.open("wb") as fh:
            write_po(
                fh, catalog, width=100, sort_output=True, omit_header=False, include_lineno=False
            )
    return missing
