"""A killed import leaves nothing behind: the write is one transaction, committed at the end."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="runs its own SQLite file database")


def test_import_killed_while_writing_leaves_the_database_as_before(tmp_path):
    env = {**os.environ, "GUANXI_DATA_DIR": str(tmp_path), "DATABASE_URL": "", "GUANXI_ENV": "test"}
    cli = [sys.executable, "-m", "guanxi.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True, timeout=300)
    subprocess.run(
        [*cli, "createuser", "alice", "--password", "pw-for-tests-123"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = 40_000
    big = tmp_path / "big.csv"
    big.write_text(
        "客户名称,联系人,手机,邮箱\n"
        + "".join(f"客户{i}贸易有限公司,联系人{i},139{i:08d},c{i}@example.com\n" for i in range(rows)),
        encoding="utf-8",
    )
    db = tmp_path / "guanxi.sqlite3"

    def job_state() -> tuple[str, int, int] | None:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute(
                "SELECT status, done_rows, total_rows FROM dataio_importjob ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:
            row = None
        finally:
            conn.close()
        return row

    proc = subprocess.Popen(
        [*cli, "import", str(big), "--user", "alice", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            state = job_state()
            # Preparation done: the single write transaction is under way.
            if state and state[0] == "running" and state[1] >= state[2] > 0:
                break
            assert proc.poll() is None, "the import finished before it could be killed"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    conn = sqlite3.connect(db)
    try:
        counts = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in ("customers_customer", "customers_contact", "customers_contactpoint", "dataio_importrow")
        ]
        audits = conn.execute("SELECT count(*) FROM audit_auditevent WHERE source = 'import'").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert counts == [0, 0, 0, 0]
    assert audits == 0
