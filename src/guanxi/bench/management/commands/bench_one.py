"""Internal: one (engine, scale) benchmark inside the database's own environment (see ``bench``)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from guanxi.bench import bulk, measure
from guanxi.bench.scales import get_scale
from guanxi.bench.workloads import settle, workload_providers


class Command(BaseCommand):
    help = "Internal to `guanxi bench`: generate (unless --keep) and measure the configured database"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engine", required=True, choices=("sqlite", "postgresql"))
        parser.add_argument("--scale", required=True)
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--warmup", type=int, default=20)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--result", required=True)
        parser.add_argument("--keep", action="store_true")
        parser.add_argument("--fts", default="rebuild")
        parser.add_argument("--pages", default="", help="page keys to time (empty: all; 'none')")
        parser.add_argument("--workloads", default="", help="packages whose workloads run (empty: all)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != opts["engine"]:
            raise CommandError(f"DATABASE_URL points at {connection.vendor}, not {opts['engine']}")
        scale = get_scale(opts["scale"])
        data_dir = Path(settings.DATA_DIR)
        meta_path = data_dir / "meta.json"
        log = self.stdout.write
        reused = False
        # Reused data gets the migrations added since it was generated, so it runs today's schema.
        log("  migrate")
        call_command("migrate", verbosity=0, interactive=False)
        call_command("createcachetable", verbosity=0)
        if opts["keep"] and meta_path.exists():
            meta = json.loads(meta_path.read_text())
            reused = True
            log(f"  reusing the data generated {meta['generated_at']}")
        else:
            log(f"  generating {scale.describe()}")
            writer_options = {"fts": opts["fts"]} if opts["engine"] == "sqlite" else {}
            stats = bulk.generate(scale, seed=opts["seed"], log=log, **writer_options)
            meta = {
                "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                "generation": stats.to_dict(),
            }
            meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False))
            log(f"  generated {stats.total_rows:,} rows in {stats.total_seconds:.0f} s")
        vacuumed = _vacuum_if_autovacuum_is_off(log)
        counts = measure.data_counts()
        sales, _manager = measure.bench_users()
        log(f"  measuring ({opts['requests']} requests per page after {opts['warmup']} warm-up)")
        load: dict[str, float] = {}
        only_pages = _subset(opts["pages"])
        pages = measure.measure(
            requests=opts["requests"],
            warmup=opts["warmup"],
            seed=opts["seed"],
            log_dir=data_dir,
            load=load,
            log=log,
            only=only_pages,
        )
        only_workloads = _subset(opts["workloads"])
        workloads = []
        for provider in workload_providers(only=only_workloads):
            workloads += [w.summary() for w in provider(scale=scale, data_dir=data_dir, log=log)]
        result = {
            "engine": opts["engine"],
            "scale": scale.name,
            "reused": reused,
            "generated_at": meta["generated_at"],
            "generation": meta["generation"],
            "counts": counts,
            "visible_customers": measure.customer_count_visible(sales),
            "db_size_mb": _db_size_mb(),
            "db_version": _db_version(),
            "pages": [p.summary() for p in pages],
            "workloads": workloads,
            "load_average": load,
            "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE", 0),
            "pid": os.getpid(),
            "vacuumed_s": vacuumed,
        }
        Path(opts["result"]).write_text(json.dumps(result, indent=1, ensure_ascii=False))


def _vacuum_if_autovacuum_is_off(log: Any) -> float | None:
    """PostgreSQL with autovacuum off (as on these machines): VACUUM (ANALYZE) the database before
    timing, as autovacuum would have done by then. Reused data carries the dead rows and stale
    statistics of earlier runs' writes (a value run rewrites ~40 % of the customers), and timing
    pages on them measures the missing maintenance, not the pages. A CHECKPOINT then writes out the
    pages the VACUUM dirtied (hint bits, visibility maps), which the server would otherwise flush
    in the background while the first pages are timed."""
    started = time.perf_counter()
    if not settle(vacuum=True):
        return None
    seconds = time.perf_counter() - started
    log(f"  autovacuum is off on this server: VACUUM (ANALYZE) and CHECKPOINT in {seconds:.1f} s")
    return round(seconds, 1)


def _subset(value: str) -> list[str] | None:
    if not value:
        return None
    return [] if value == "none" else value.split(",")


def _db_size_mb() -> float:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return float(cursor.fetchone()[0]) / 1024 / 1024
    name = Path(settings.DATABASES["default"]["NAME"])
    return sum(p.stat().st_size for p in name.parent.glob(name.name + "*")) / 1024 / 1024


def _db_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT sqlite_version()")
        return str(cursor.fetchone()[0])
