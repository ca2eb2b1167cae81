"""Timed workloads that are not pages: batch jobs, imports, exports, scans (``make bench``).

Each domain package may add its own in ``guanxi.<package>.benchwork``, a module defining::

    def workloads(*, scale: Scale, data_dir: Path, log: Callable[[str], None]) -> list[Workload]

It runs inside the benchmark's database (after the pages are timed), does its work for real
through the package's services, times it, and — where the issue names one — times the
hand-written SQL floor of the same work in the same run, so the report can give the ratio.
A workload that changes data must leave the database fit for a re-run with ``--keep``.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Workload:
    key: str
    label: str
    seconds: float
    floor_seconds: float | None = None  # hand-written SQL (or raw bulk insert) doing the same work
    target: str = ""  # the target, in words ("< 30 s", "≥ 5,000 rows/s", "≤ 2× floor")
    passed: bool | None = None  # None: no target, or not decidable at this scale
    rows: int | None = None  # rows processed, for a rate
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. peak RSS, per-part timings

    def summary(self) -> dict[str, Any]:
        return asdict(self)


def settle(*, vacuum: bool, tables: Sequence[str] = ()) -> bool:
    """PostgreSQL, before a timed part: with autovacuum off on the server (as on these machines)
    and ``vacuum``, VACUUM (ANALYZE) ``tables`` (all, when none are named), as autovacuum would
    have done by then; then a CHECKPOINT, so the timing does not pay for flushing what earlier,
    untimed work (or the VACUUM) dirtied. Returns whether it vacuumed.

    Nothing on SQLite, nor inside a transaction (VACUUM cannot run in one: a test's, say); a role
    not allowed to CHECKPOINT (superuser or pg_checkpoint) is measured as it comes."""
    from django.db import DatabaseError, connection

    vacuumed = False
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return vacuumed
    try:
        with connection.cursor() as cursor:
            if vacuum:
                cursor.execute("SELECT current_setting('autovacuum')")
                if cursor.fetchone()[0] != "on":
                    cursor.execute(f"VACUUM (ANALYZE) {', '.join(tables)}".rstrip())
                    vacuumed = True
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        pass
    return vacuumed


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` holds the elapsed seconds."""
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)


def workload_providers(only: list[str] | None = None) -> list[Callable[..., list[Workload]]]:
    """Each package's ``workloads``; ``only``: just these packages (``value``, ``dataio``…)."""
    from django.apps import apps

    providers = []
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi."):
            continue
        if only is not None and config.name.removeprefix("guanxi.") not in only:
            continue
        try:
            module = importlib.import_module(f"{config.name}.benchwork")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.benchwork":
                raise
            continue
        providers.append(module.workloads)
    return providers


def workload_table(result: dict[str, Any]) -> list[str]:
    rows = result.get("workloads") or []
    if not rows:
        return []
    lines = [
        "| Workload | time (s) | rows | rate (rows/s) | SQL floor (s) | ÷ floor | target | result | notes |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for w in rows:
        rate = f"{w['rows'] / w['seconds']:,.0f}" if w.get("rows") and w["seconds"] else "–"
        floor = f"{w['floor_seconds']:.2f}" if w.get("floor_seconds") else "–"
        ratio = f"{w['seconds'] / w['floor_seconds']:.1f}×" if w.get("floor_seconds") else "–"
        verdict = {True: "**PASS**", False: "**FAIL**", None: "–"}[w.get("passed")]
        extra = "; ".join(f"{k} {v}" for k, v in (w.get("extra") or {}).items())
        notes = "; ".join(x for x in (w.get("note", ""), extra) if x)
        count = f"{w['rows']:,}" if w.get("rows") else "–"
        lines.append(
            f"| {w['label']} | {w['seconds']:.2f} | {count} | {rate} | {floor} | {ratio} "
            f"| {w.get('target') or '–'} | {verdict} | {notes} |"
        )
    return lines
