"""The benchmark driver: one subprocess per (engine, scale), then BENCHMARKS.md.

Each subprocess (``bench_one``) gets ``DATABASE_URL`` / ``GUANXI_DATA_DIR`` for its database, so
Django's settings (read from the environment at import) point at it; it generates the data (unless
``--keep`` finds it already there), starts gunicorn against it and measures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guanxi.bench.scales import ENGINES, SCALES, get_scale

PROJECT_DIR = Path(__file__).resolve().parents[3]
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
PG_SETTINGS = (
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "random_page_cost",
    "jit",
    "max_parallel_workers_per_gather",
)


@dataclass
class RunOptions:
    scales: list[str]
    engines: list[str]
    requests: int = 200
    warmup: int = 20
    seed: int = 2026
    keep: bool = False
    cleanup: bool = False
    merge: bool = False
    output: Path = PROJECT_DIR / "BENCHMARKS.md"
    data_dir: Path = PROJECT_DIR / "bench-data"
    pg_url: str = DEFAULT_PG
    command: str = ""
    fts: str = "rebuild"
    report_only: bool = False
    pages: list[str] | None = None  # page keys to time (None: all)
    workloads: list[str] | None = None  # packages whose workloads run (None: all)
    started_at: str = ""
    runs: list[tuple[str, str]] = field(default_factory=list)


def plan_runs(scales: list[str], engines: list[str]) -> list[tuple[str, str]]:
    """(engine, scale) pairs in order; a scale only runs on the engines it applies to."""
    runs = []
    for name in scales:
        scale = get_scale(name)
        for engine in engines:
            if engine in scale.engines:
                runs.append((engine, name))
    return runs


def pg_name(scale: str) -> str:
    """``guanxi_bench_<scale>``; ``GUANXI_BENCH_PG_PREFIX`` keeps two checkouts' runs apart."""
    return f"{os.environ.get('GUANXI_BENCH_PG_PREFIX', 'guanxi_bench')}_{scale}"


def pg_connect(url: str, dbname: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgres://", "postgresql://", 1) + f"/{dbname}", autocommit=True)


def pg_reachable(url: str) -> str | None:
    try:
        with pg_connect(url) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])
    except Exception:
        return None


def pg_database_exists(url: str, name: str) -> bool:
    with pg_connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def pg_recreate(url: str, name: str) -> None:
    with pg_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")


def pg_drop(url: str, name: str) -> None:
    with pg_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine_facts(pg_url: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
        nproc = shutil.which("nproc")
        if nproc:
            facts["nproc"] = int(subprocess.run([nproc], capture_output=True, text=True, check=True).stdout)
    except (OSError, ValueError, subprocess.CalledProcessError):
        pass
    import django

    facts["django"] = django.get_version()
    try:
        import gunicorn

        facts["gunicorn"] = gunicorn.__version__
    except ImportError:
        pass
    if pg_url:
        try:
            with pg_connect(pg_url) as conn:
                facts["postgresql"] = str(conn.execute("SELECT version()").fetchone()[0])
                rows = conn.execute(
                    "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
                    [list(PG_SETTINGS)],
                ).fetchall()
                facts["postgresql_settings"] = {n: _pg_setting(s, u) for n, s, u in rows}
        except Exception as exc:
            facts["postgresql"] = f"unreachable: {exc}"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        facts["git_commit"] = commit + (f" + {len(dirty)} uncommitted files" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return facts


def _pg_setting(setting: str, unit: str | None) -> str:
    if unit == "8kB":
        return f"{int(setting) * 8 // 1024} MB"
    if unit == "kB":
        return f"{int(setting) // 1024} MB"
    return setting + (f" {unit}" if unit else "")


def child_env(engine: str, scale: str, opts: RunOptions) -> tuple[dict[str, str], Path]:
    data_dir = opts.data_dir / f"{engine}-{scale}"
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="guanxi.settings",
        GUANXI_ENV="development",
        GUANXI_DEBUG="false",
        GUANXI_ALLOWED_HOSTS="127.0.0.1",
        GUANXI_DATA_DIR=str(data_dir),
        GUANXI_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env["DATABASE_URL"] = f"{opts.pg_url}/{pg_name(scale)}" if engine == "postgresql" else ""
    return env, data_dir


def run_one(engine: str, scale: str, opts: RunOptions, log: Callable[[str], None]) -> dict[str, Any]:
    env, data_dir = child_env(engine, scale, opts)
    meta = data_dir / "meta.json"
    reuse = opts.keep and meta.exists()
    if engine == "postgresql":
        name = pg_name(scale)
        reuse = reuse and pg_database_exists(opts.pg_url, name)
        if not reuse:
            pg_recreate(opts.pg_url, name)
    elif not reuse and data_dir.exists():
        shutil.rmtree(data_dir)
    if not reuse:
        meta.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    result_path = data_dir / "result.json"
    result_path.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "django",
        "bench_one",
        "--engine",
        engine,
        "--scale",
        scale,
        "--requests",
        str(opts.requests),
        "--warmup",
        str(opts.warmup),
        "--seed",
        str(opts.seed),
        "--result",
        str(result_path),
        "--fts",
        opts.fts,
    ]
    if reuse:
        cmd.append("--keep")
    if opts.pages is not None:
        cmd += ["--pages", ",".join(opts.pages) or "none"]
    if opts.workloads is not None:
        cmd += ["--workloads", ",".join(opts.workloads) or "none"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=PROJECT_DIR, check=False)
    if proc.returncode != 0 or not result_path.exists():
        return {"engine": engine, "scale": scale, "error": f"bench_one exited with {proc.returncode}"}
    result: dict[str, Any] = json.loads(result_path.read_text())
    result["wall_seconds"] = time.perf_counter() - started
    result["command"] = opts.command
    result["run_started_at"] = opts.started_at
    result["requests"], result["warmup"] = opts.requests, opts.warmup
    result["subset"] = {"pages": opts.pages, "workloads": opts.workloads}
    results_dir = opts.data_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{engine}-{scale}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    if opts.cleanup and engine == "postgresql":
        pg_drop(opts.pg_url, pg_name(scale))
        log(f"  dropped database {pg_name(scale)}")
    return result


def run(opts: RunOptions, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    from guanxi.bench.report import write_report

    started_at = dt.datetime.now().astimezone()
    opts.started_at = started_at.isoformat(timespec="seconds")
    started = time.perf_counter()
    engines = list(opts.engines)
    pg_version = pg_reachable(opts.pg_url) if "postgresql" in engines else None
    skipped: list[str] = []
    if "postgresql" in engines and pg_version is None:
        skipped.append(f"PostgreSQL unreachable at {opts.pg_url}: its runs were skipped")
        log(f"!! {skipped[-1]}")
        engines.remove("postgresql")
    # Facts (and the git commit) as of the start: the working tree may change during a long run.
    facts = machine_facts(opts.pg_url if pg_version or opts.report_only else None)
    runs = [] if opts.report_only else plan_runs(opts.scales, engines)
    results = []
    for engine, scale in runs:
        log(f"== {engine} / {scale}: {get_scale(scale).describe()}")
        result = run_one(engine, scale, opts, log)
        if "error" in result:
            log(f"!! {engine}/{scale} failed: {result['error']}")
        results.append(result)
    if opts.merge or opts.report_only:
        done = {(r["engine"], r["scale"]) for r in results}
        for path in sorted((opts.data_dir / "results").glob("*.json")):
            earlier = json.loads(path.read_text())
            if (earlier.get("engine"), earlier.get("scale")) not in done:
                earlier["merged_from_earlier_run"] = not opts.report_only
                results.append(earlier)
    order = {name: i for i, name in enumerate([*SCALES, "tiny"])}
    results.sort(key=lambda r: (order.get(r["scale"], 99), ENGINES.index(r["engine"])))
    command, seconds, requests, warmup = (
        opts.command,
        time.perf_counter() - started,
        opts.requests,
        opts.warmup,
    )
    if opts.report_only and results:
        # Describe the runs the results came from, not this re-rendering.
        command = "; ".join(dict.fromkeys(r.get("command", "?") for r in results))
        starts = sorted(r["run_started_at"] for r in results if r.get("run_started_at"))
        if starts:
            started_at = dt.datetime.fromisoformat(starts[0])
        seconds = sum(r.get("wall_seconds", 0.0) for r in results)
        requests, warmup = results[0].get("requests", requests), results[0].get("warmup", warmup)
    write_report(
        opts.output,
        results=results,
        facts=facts,
        command=command,
        started_at=started_at,
        seconds=seconds,
        requests=requests,
        warmup=warmup,
        notes=skipped,
    )
    log(f"wrote {opts.output}")
    return results
