"""core.checkpoint: a big SQLite transaction's commit leaves the WAL copy to a background thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.sqlite3.base import DatabaseWrapper

from guanxi.core import checkpoint

ALIAS = "checkpoint_test"


def _frames(path: str) -> tuple[int, int]:
    """(frames in the log, frames already copied into the database file): what PRAGMA
    wal_checkpoint reports, after copying whatever was left (nothing, if the thread did it)."""
    db = sqlite3.connect(path)
    try:
        _, log, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, done
    finally:
        db.close()


@pytest.fixture
def wal_db(tmp_path: Path, django_db_blocker: Any) -> Iterator[BaseDatabaseWrapper]:
    """A SQLite database in a file, in WAL mode, as ``make run`` has it (the suite's is in memory)."""
    settings = connections.configure_settings(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            ALIAS: {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(tmp_path / "wal.sqlite3"),
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
            },
        }
    )
    db = DatabaseWrapper(settings[ALIAS], alias=ALIAS)
    connections[ALIAS] = db
    with django_db_blocker.unblock():  # a database of the test's own, not the suite's
        with db.cursor() as cursor:
            cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        yield db
        db.close()
    del connections[ALIAS]


def _fill(db: BaseDatabaseWrapper, rows: int = 2500) -> None:
    with db.cursor() as cursor:
        # ~2,500 pages: past the default threshold (1,000), so a plain commit would checkpoint.
        cursor.executemany("INSERT INTO t (v) VALUES (%s)", [("x" * 4000,) for _ in range(rows)])


def test_the_commit_leaves_the_log_and_the_thread_copies_it(
    wal_db: BaseDatabaseWrapper, monkeypatch: pytest.MonkeyPatch
):
    path = wal_db.settings_dict["NAME"]
    held: list[str] = []
    monkeypatch.setattr(checkpoint, "start", held.append)  # hold the thread back, to look first
    with checkpoint.checkpoint_later(wal_db), transaction.atomic(using=ALIAS):
        _fill(wal_db)
    # Committed, in the log (~10 MB), not yet in the database file.
    assert held == [path]
    assert Path(path + "-wal").stat().st_size > 8_000_000
    assert Path(path).stat().st_size < 1_000_000
    with wal_db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 2500
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000  # the connection's own setting is back
    monkeypatch.undo()
    checkpoint.start(path)
    checkpoint.wait()
    assert Path(path).stat().st_size > 8_000_000  # copied by the thread
    log, done = _frames(path)
    assert log > 1000 and done == log


def test_without_it_the_commit_copies_the_log_itself(wal_db: BaseDatabaseWrapper):
    """The control: the same transaction committed plainly is in the database file at once."""
    path = wal_db.settings_dict["NAME"]
    with transaction.atomic(using=ALIAS):
        _fill(wal_db)
    assert Path(path).stat().st_size > 8_000_000


def test_inside_an_outer_transaction_no_thread_starts(wal_db: BaseDatabaseWrapper):
    before = list(checkpoint._threads)
    with (
        transaction.atomic(using=ALIAS),
        checkpoint.checkpoint_later(wal_db),
        transaction.atomic(using=ALIAS),
    ):
        _fill(wal_db, 10)
    assert checkpoint._threads == before


@pytest.mark.django_db
def test_elsewhere_it_does_nothing():
    """The suite's own database (in-memory SQLite, or PostgreSQL) has no log file to copy."""
    before = list(checkpoint._threads)
    with checkpoint.checkpoint_later():
        pass
    assert checkpoint._threads == before


def test_a_failed_copy_is_logged_and_loses_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    checkpoint.start(str(tmp_path / "missing-dir" / "db.sqlite3")).join()
    assert "checkpoint failed" in caplog.text


def test_a_rolled_back_transaction_starts_no_thread(wal_db: BaseDatabaseWrapper):
    before = list(checkpoint._threads)

    def failing_import() -> None:
        with checkpoint.checkpoint_later(wal_db), transaction.atomic(using=ALIAS):
            _fill(wal_db, 10)
            raise RuntimeError("the import fails")

    with pytest.raises(RuntimeError):
        failing_import()
    assert checkpoint._threads == before
    with wal_db.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 1000
        cursor.execute("SELECT count(*) FROM t")
        assert cursor.fetchone()[0] == 0
