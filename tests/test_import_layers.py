"""The layers import only downwards: views/ (what people see) never reaches into handlers/,
bot/ or a database session; bot/ imports handlers/ only to assemble the routers; nothing
else imports handlers/ at all. Read from the source (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

from models import NoticeKind

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dashboard", "handlers", "models", "scheduler", "services", "simulator", "views")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for every import in a file, relative ones resolved."""
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package[: len(package) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append((base, node.lineno))
            # `from pkg import module` imports the module too
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _edges(package: str) -> list[tuple[str, int, str]]:
    edges = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module, line in _imports(path):
            edges.append((str(path.relative_to(ROOT)), line, module))
    return edges


def _into(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_views_import_no_handlers_bot_or_session():
    forbidden = ("handlers", "bot", "models.db", "sqlalchemy")
    wrong = [e for e in _edges("views") if any(_into(e[2], f) for f in forbidden)]
    assert wrong == []


def test_bot_imports_handlers_only_to_assemble_the_routers():
    found = {(file, module) for file, _line, module in _edges("bot") if _into(module, "handlers")}
    assert found <= {("bot/app.py", "handlers"), ("bot/app.py", "handlers.get_routers")}
    assert found, "the dispatcher no longer includes the routers?"


def test_nothing_but_bot_imports_handlers():
    wrong = [
        edge
        for package in PACKAGES
        if package not in ("bot", "handlers")
        for edge in _edges(package)
        if _into(edge[2], "handlers")
    ]
    assert wrong == []


def test_handlers_import_nothing_from_bot():
    # What a handler needs of the wiring (settings, ctx, the media store) arrives as
    # middleware data; bot/ assembles the handlers, never the other way round.
    wrong = [e for e in _edges("handlers") if _into(e[2], "bot")]
    assert wrong == []


def test_services_and_models_import_no_views_or_aiogram():
    wrong = [
        edge
        for package in ("services", "models")
        for edge in _edges(package)
        if any(_into(edge[2], f) for f in ("views", "handlers", "bot", "aiogram"))
    ]
    assert wrong == []


def test_every_notice_kind_has_a_renderer():
    from views.notices import renderer_for

    missing = [kind for kind in NoticeKind if renderer_for(kind) is None]
    assert missing == []
    assert renderer_for("no_such_kind") is None


# Handlers parse, authorise through a service, and reply: no queries, no commits.
QUERYING = {"select", "update", "delete", "insert", "commit", "get", "scalar", "scalars", "execute"}


def _queries(path: Path) -> list[tuple[int, str]]:
    """Calls that talk to the database directly: `select(...)`, `session.get(...)`,
    `session.commit()` and their kin."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"select", "update", "delete", "insert"}:
            found.append((node.lineno, func.id))
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in QUERYING
            and isinstance(func.value, ast.Name)
            and func.value.id in {"session", "s", "tx"}
        ):
            found.append((node.lineno, f"{func.value.id}.{func.attr}"))
    return sorted(found)


def test_handlers_make_no_queries_and_no_commits():
    wrong = {}
    for path in sorted((ROOT / "handlers").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if calls := _queries(path):
            wrong[name] = calls
    assert wrong == {}


def test_the_query_check_sees_a_query(tmp_path):
    path = tmp_path / "h.py"
    path.write_text("async def h(session):\n    await session.commit()\n    select(User)\n")
    assert _queries(path) == [(2, "session.commit"), (3, "select")]


def test_only_the_unit_of_work_commits():
    """A service that writes runs in `services.uow.unit`; nothing else in services/ commits
    (or a second transaction convention would creep back)."""
    wrong = {}
    for path in sorted((ROOT / "services").rglob("*.py")):
        if path.name == "uow.py":
            continue
        calls = [
            node.lineno
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"
        ]
        if calls:
            wrong[str(path.relative_to(ROOT))] = calls
    assert wrong == {}
