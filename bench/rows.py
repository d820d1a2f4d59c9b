"""The table of results every benchmark prints: a row a figure, with its target, and the
JSON the README's table is made from."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Row:
    """One figure of the table. `met` is None when the figure has no target."""

    bench: str
    case: str
    metric: str
    value: float | None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "skipped"
        v = self.value
        text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}" if abs(v) < 1 else f"{v:.1f}"
        return f"{text} {self.unit}".strip()


def skipped(bench: str, case: str, why: str) -> Row:
    return Row(bench, case, "skipped", None, note=why)


def check(value: float, *, at_least: float | None = None, at_most: float | None = None) -> bool:
    return (at_least is None or value >= at_least) and (at_most is None or value <= at_most)


def miss_note(value: float, *, at_least: float | None = None, at_most: float | None = None) -> str:
    """How far from its target a missed figure is, e.g. "missed by 23%"."""
    if at_least is not None and value < at_least:
        return f"missed: {100 * (1 - value / at_least):.0f}% under"
    if at_most is not None and value > at_most:
        return f"missed: {100 * (value / at_most - 1):.0f}% over"
    return ""


def target_row(row: Row, *, at_least: float | None = None, at_most: float | None = None) -> Row:
    """`row`, whose `target` states the goal, with whether its value meets it and, if not,
    how far it missed (in place of its note)."""
    assert row.value is not None
    row.met = check(row.value, at_least=at_least, at_most=at_most)
    row.note = miss_note(row.value, at_least=at_least, at_most=at_most) or row.note
    return row


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (the README's Performance section is this, pasted)."""
    head = "| benchmark | case | figure | value | target | met | note |"
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(
            f"| {r.bench} | {r.case} | {r.metric} | {r.shown()} | {r.target} | {met} | {r.note} |"
        )
    return "\n".join(lines)


def write_json(rows: Sequence[Row], path: Path, **meta: Any) -> None:
    path.write_text(
        json.dumps({**meta, "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1) + "\n"
    )


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
    }


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: Iterable[float]) -> float:
    return percentile(list(values), 50)


def read_rows(path: Path) -> list[Row]:
    return [Row(**r) for r in json.loads(path.read_text())]
