"""Every user-facing string is translated into zh_CN and en, and none bypasses gettext."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n_tools
from bot.i18n_tools import extract

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers", "views", "services", "scheduler", "dashboard")
PLACEHOLDER = re.compile(r"{(\w*)}")
SENDING_METHODS = {"answer", "edit_text", "edit_caption", "send_message", "reply", "send_photo"}


def _extracted() -> set[str]:
    """The msgids `python -m bot i18n update` extracts (its folders are checked below)."""
    return {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}


def test_extraction_reads_every_folder_with_user_facing_strings():
    assert set(i18n_tools.SOURCES) >= set(SOURCES)


def _catalog(locale: str):
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_string_is_translated(locale):
    catalog = _catalog(locale)
    missing = []
    for msgid in sorted(_extracted()):
        entry = catalog.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(msgid)
    assert not missing, f"{len(missing)} untranslated in {locale}: {missing[:10]}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_placeholders_survive_translation(locale):
    wrong = []
    for entry in _catalog(locale):
        if not (entry.id and entry.string and isinstance(entry.id, str)):
            continue
        if set(PLACEHOLDER.findall(entry.id)) != set(PLACEHOLDER.findall(entry.string)):
            wrong.append(entry.id)
    assert not wrong, f"placeholders differ in {locale}: {wrong[:10]}"


def test_chinese_catalogue_is_chinese():
    catalog = _catalog("zh_CN")
    untranslated = [
        e.id for e in catalog if e.id and e.string == e.id and re.search("[a-z]{3}", e.id)
    ]
    assert not untranslated, f"copied from English: {untranslated[:10]}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_prompts_speak_of_buttons_not_commands(locale):
    """The help speaks of “✖ Cancel”; no prompt may ask for /cancel instead."""
    asking = [
        e.id
        for e in _catalog(locale)
        if e.id and isinstance(e.string, str) and "/cancel" in e.string
    ]
    assert not asking, f"/cancel in {locale}: {asking}"


def _literal_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.strip()
        and re.search(r"[A-Za-z\u4e00-\u9fff]", node.value) is not None
    )


def test_no_literal_text_is_sent_to_users():
    offenders = []
    for folder in ("handlers", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in SENDING_METHODS:
                    continue
                args = list(node.args[:1]) + [
                    k.value for k in node.keywords if k.arg in ("text", "caption")
                ]
                offenders += [f"{path.name}:{node.lineno}" for a in args if _literal_text(a)]
    assert not offenders, f"literal text sent to users at {offenders}"
