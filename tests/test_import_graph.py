"""The import graph, read from the source with `ast`: each layer imports only what its row
of `LAYERS` allows, and no module of a checked layer imports another in a circle.

Every import counts, wherever it is written (inside a function, under `TYPE_CHECKING`):
an import hidden in a function is still an arrow. Importing `a.b.c` from outside `a.b`
also runs `a/__init__.py` and `a/b/__init__.py`, so those count as arrows too.

To check another layer, add its row: the first-party packages it may import (itself
included) and the libraries it must not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = frozenset(
    {
        "bench",
        "bot",
        "dashboard",
        "handlers",
        "migrations",
        "models",
        "scheduler",
        "services",
        "simulator",
        "tests",
        "views",
    }
)


@dataclass(frozen=True)
class Layer:
    may_import: frozenset[str]  # first-party top-level packages, the layer itself included
    never: frozenset[str] = field(default_factory=frozenset)  # libraries it must not import


LAYERS: dict[str, Layer] = {
    "models": Layer(may_import=frozenset({"models"}), never=frozenset({"aiogram"})),
    "services": Layer(may_import=frozenset({"services", "models"}), never=frozenset({"aiogram"})),
    "scheduler": Layer(
        may_import=frozenset({"scheduler", "services", "models"}), never=frozenset({"aiogram"})
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of every first-party package, by dotted name."""
    found: dict[str, Path] = {}
    for top in FIRST_PARTY:
        if (ROOT / top).is_dir():
            for path in (ROOT / top).rglob("*.py"):
                found[module_name(path)] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _with_parents(importer: str, target: str) -> set[str]:
    """`target` and the packages above it that importing it runs, except those the
    importer is inside of (their `__init__` is already running)."""
    out = set()
    parts = target.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        inside = importer == name or importer.startswith(name + ".")
        if name in modules() and not inside:
            out.add(name)
    return out


@cache
def imports_of(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(first-party modules, other top-level libraries) that `module` imports."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    ours: set[str] = set()
    libraries: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod.
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules() else base for a in node.names
            ]
        else:
            continue
        for name in names:
            if name.split(".")[0] in FIRST_PARTY:
                ours |= _with_parents(module, name)
            else:
                libraries.add(name.split(".")[0])
    ours.discard(module)
    return frozenset(ours), frozenset(libraries)


def layer_of(module: str) -> str:
    return module.split(".")[0]


def checked_modules() -> list[str]:
    return sorted(m for m in modules() if layer_of(m) in LAYERS)


def layer_violations() -> list[str]:
    found = []
    for module in checked_modules():
        rule = LAYERS[layer_of(module)]
        ours, libraries = imports_of(module)
        found += [
            f"{module} imports {t}" for t in sorted(ours) if layer_of(t) not in rule.may_import
        ]
        found += [f"{module} imports {lib}" for lib in sorted(libraries & rule.never)]
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def checked_graph() -> dict[str, set[str]]:
    names = set(checked_modules())
    return {m: set(imports_of(m)[0]) & names for m in names}


def test_each_layer_imports_only_what_its_row_allows() -> None:
    assert layer_violations() == []


def test_no_module_imports_in_a_circle() -> None:
    assert cycles(checked_graph()) == []


# --- the checker itself can fail ------------------------------------------------------


def test_a_cycle_is_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_importing_a_submodule_runs_its_package() -> None:
    assert "services.orders" in imports_of("scheduler.jobs")[0]


def test_a_submodule_does_not_depend_on_its_own_package_init() -> None:
    assert "services.orders" not in imports_of("services.orders.placing")[0]
    assert "services.orders.routing" in imports_of("services.orders.placing")[0]


def test_a_forbidden_import_is_reported(tmp_path: Path) -> None:
    modules()  # warm the cache, then pretend one service imports a handler
    imports_of.cache_clear()
    original = modules()["services.quiet"]
    try:
        fake = tmp_path / "quiet.py"
        fake.write_text("def f():\n    from handlers import menu\n    import aiogram\n")
        modules()["services.quiet"] = fake
        found = layer_violations()
        assert "services.quiet imports handlers.menu" in found
        assert "services.quiet imports aiogram" in found
    finally:
        modules()["services.quiet"] = original
        imports_of.cache_clear()
