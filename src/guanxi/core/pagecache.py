"""SQLite: a larger page cache for one big piece of work, put back afterwards.

The connection's cache is 64 MB (settings.py). A transaction that touches more index pages than
that — an import's search index, a re-evaluation's snapshot indexes — has SQLite write pages out
and read them back again and again. ``page_cache`` raises the cache of this connection for the
block and restores the previous size after it, so a long-lived connection (the job worker's, a
web process's) does not keep the memory once the work is done. Elsewhere it does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def page_cache(megabytes: int, db: BaseDatabaseWrapper = connection) -> Iterator[None]:
    if db.vendor != "sqlite":
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-1024 * int(megabytes):d}")  # negative: KiB
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before:d}")
