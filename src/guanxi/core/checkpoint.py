"""SQLite: a big transaction's write-ahead log is copied into the database file after its commit,
on a thread of its own, instead of inside the commit.

In WAL mode SQLite appends each committed page to the ``-wal`` file, and the connection whose
commit takes the log past ``wal_autocheckpoint`` pages (1,000 by default) copies the log back into
the database file right then, inside its COMMIT. After an import of 100k customers that is ~300 MB
of pages: the commit took 2.1 s, 1.5 s of it that copy (measured on this machine, BENCHMARKS.md).
The transaction is durable without it — the log *is* the database until it is copied — so
``checkpoint_later`` switches the automatic checkpoint off for the transaction and, once it has
committed, copies the log on a background thread with a connection of its own: the other core does
it while the import reports back. This is what PostgreSQL always does (its checkpointer process).

A PASSIVE checkpoint never blocks readers or writers; should another connection's commit attempt
one meanwhile, SQLite lets only one run and the other returns at once. The thread is not a daemon: a
command that ends right after an import waits for the copy instead of leaving it to the next start.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)
_threads: list[threading.Thread] = []


def _is_wal(db: BaseDatabaseWrapper) -> bool:
    if db.vendor != "sqlite":
        return False
    with db.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        return str(cursor.fetchone()[0]).lower() == "wal"


@contextmanager
def checkpoint_later(db: BaseDatabaseWrapper = connection) -> Iterator[None]:
    """Around a transaction (outside its ``atomic``): on SQLite in WAL mode its commit does not
    checkpoint; a background thread does afterwards. Elsewhere, nothing."""
    if not _is_wal(db):
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        pages = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {pages:d}")
    if not db.in_atomic_block:  # committed (a rolled-back transaction left nothing to copy)
        start(str(db.settings_dict["NAME"]))


def start(path: str) -> threading.Thread:
    thread = threading.Thread(target=_checkpoint, args=(path,), name="sqlite-checkpoint")
    thread.start()
    _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    return thread


def wait() -> None:
    """Until every background checkpoint started here has finished (tests, benchmarks)."""
    for thread in list(_threads):
        thread.join()


def _checkpoint(path: str) -> None:
    try:
        db = sqlite3.connect(path, timeout=30)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        # Nothing is lost: the log stays valid and the next checkpoint (any later commit past the
        # threshold, or the last connection's close) copies it.
        log.warning("background WAL checkpoint failed", exc_info=True)
