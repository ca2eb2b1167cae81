from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="file backups of SQLite; PG below")


def _run(env, *args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "guanxi.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(proc.stdout + proc.stderr)
    return proc


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A real SQLite file database, migrated by the CLI, with one user and a customer."""
    import os

    tmp_path = tmp_path_factory.mktemp("live")
    env = {**os.environ, "GUANXI_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "GUANXI_ENV": "test"}
    _run(env, "migrate")
    _run(env, "createuser", "alice", "--password", "pw-for-tests-123")
    csv = tmp_path / "c.csv"
    csv.write_text(
        "客户名称,联系人,手机\n" + "".join(f"客户{i},联系人{i},139{i:08d}\n" for i in range(50)),
        encoding="utf-8",
    )
    _run(env, "import", str(csv), "--user", "alice", "--quiet")
    return env, tmp_path


def count(path, table="customers_customer"):
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
    finally:
        db.close()


def test_backup_and_checked_restore(live):
    env, tmp = live
    out = tmp / "b.sqlite3"
    _run(env, "backup", "--output", str(out))
    manifest = json.loads((tmp / "b.sqlite3.manifest.json").read_text())
    assert manifest["counts"]["customers_customer"] == 50
    db = tmp / "guanxi.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM customers_contactpoint")
    conn.commit()
    conn.close()
    assert count(db, "customers_contactpoint") == 0
    refused = _run(env, "restore", str(out), check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr
    proc = _run(env, "restore", str(out), "--yes")
    assert "restored and checked" in proc.stdout
    assert count(db, "customers_contactpoint") == 50
    # search still works on the restored database (FTS5 checked)
    conn = sqlite3.connect(db)
    hits = conn.execute(
        "SELECT count(*) FROM customers_contact_fts WHERE customers_contact_fts MATCH '\"00000007\"*'"
    )
    assert hits.fetchone()[0] == 1
    conn.close()


def test_damaged_backup_is_refused_and_nothing_changes(live):
    env, tmp = live
    bad = tmp / "bad.sqlite3"
    bad.write_bytes(b"SQLite format 3\0" + b"\x00garbage" * 500)
    proc = _run(env, "restore", str(bad), "--yes", check=False)
    assert proc.returncode != 0
    assert "backup" in proc.stderr
    assert count(tmp / "guanxi.sqlite3") == 50
