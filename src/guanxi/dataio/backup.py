"""Consistent online backups and checked restores (备份与恢复).

SQLite: the backup API copies a consistent snapshot while the application keeps running (never a
file copy of a live database). PostgreSQL: ``pg_dump -Fc`` of a snapshot exported from a
REPEATABLE READ transaction, in which the row counts of the manifest are taken too, so counts and
dump describe the same instant. Every backup gets a manifest (``<file>.manifest.json``: engine,
time, migrations applied, row count per table). A restore checks the file first (SQLite
``integrity_check``), restores, then checks the restored database against the manifest: the same
tables with the same row counts, and an integrity check — and says what differs if anything does.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from guanxi.core.errors import GuanxiError, ValidationFailed


class BackupError(GuanxiError):
    status = 500
    code = "backup_failed"


@dataclass
class RestoreResult:
    tables: int
    rows: int
    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def default_path() -> Path:
    directory = Path(settings.DATA_DIR) / "backups"
    directory.mkdir(parents=True, exist_ok=True)
    suffix = "sqlite3" if connection.vendor == "sqlite" else "dump"
    return directory / f"guanxi-{timezone.now():%Y%m%d-%H%M%S}.{suffix}"


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _is_shadow(name: str) -> bool:
    # FTS5 tables and their shadow tables are rebuilt from their content tables; not counted.
    return name.startswith("sqlite_") or "_fts" in name


def _sqlite_counts(db: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names if not _is_shadow(n)}  # noqa: S608


def _sqlite_integrity(db: sqlite3.Connection) -> list[str]:
    rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows[:20]


def _sqlite_name() -> str:
    return str(settings.DATABASES["default"]["NAME"])


def _pg_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = [
        "-h",
        str(db.get("HOST") or "127.0.0.1"),
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        str(db["USER"]),
    ]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _pg_counts(cursor: Any) -> dict[str, int]:
    counts = {}
    for name in sorted(connection.introspection.table_names(cursor)):
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 - names from the catalogue
        counts[name] = cursor.fetchone()[0]
    return counts


def backup(path: Path | None = None) -> dict[str, Any]:
    """Write a backup and its manifest; returns the manifest."""
    path = Path(path) if path else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "engine": connection.vendor,
        "created_at": timezone.now().isoformat(),
        "file": path.name,
    }
    if connection.vendor == "sqlite":
        source = sqlite3.connect(_sqlite_name())
        target = sqlite3.connect(str(path))
        try:
            source.backup(target)
            manifest["counts"] = _sqlite_counts(target)
            problems = _sqlite_integrity(target)
        finally:
            target.close()
            source.close()
        if problems:
            raise BackupError(
                "备份文件未通过完整性检查", f"the backup failed its integrity check: {problems}"
            )
    elif connection.vendor == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if not pg_dump:
            raise BackupError("找不到 pg_dump", "pg_dump is not installed", code="pg_dump_missing")
        args, env = _pg_env()
        db = settings.DATABASES["default"]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            manifest["counts"] = _pg_counts(cursor)
            proc = subprocess.run(  # noqa: S603 - fixed program, arguments from settings
                [
                    pg_dump,
                    *args,
                    "-Fc",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(path),
                    str(db["NAME"]),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
        if proc.returncode != 0:
            raise BackupError("pg_dump 失败", f"pg_dump failed: {proc.stderr.strip()[:500]}")
    else:
        raise BackupError("不支持的数据库", f"unsupported database: {connection.vendor}", code="unsupported")
    manifest["migrations"] = manifest["counts"].get("django_migrations", 0)
    manifest["rows"] = sum(manifest["counts"].values())
    manifest["bytes"] = path.stat().st_size
    manifest["path"] = str(path)
    manifest_path(path).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def _load_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def restore(path: Path) -> RestoreResult:
    """Replace the database with a backup, then check it. Raises ValidationFailed for a file that is
    not a usable backup (nothing is changed then)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationFailed(f"备份文件不存在：{path}", f"no such backup file: {path}", code="no_backup")
    manifest = _load_manifest(path)
    if connection.vendor == "sqlite":
        return _restore_sqlite(path, manifest)
    if connection.vendor == "postgresql":
        if manifest is None:
            raise ValidationFailed(
                "缺少备份清单（.manifest.json），无法校验",
                "the backup's manifest is missing; cannot check the restore",
                code="no_manifest",
            )
        return _restore_pg(path, manifest)
    raise BackupError("不支持的数据库", f"unsupported database: {connection.vendor}", code="unsupported")


def _restore_sqlite(path: Path, manifest: dict[str, Any] | None) -> RestoreResult:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        problems = _sqlite_integrity(source)
        expected = _sqlite_counts(source)
    except sqlite3.DatabaseError as exc:
        raise ValidationFailed(
            f"不是有效的 SQLite 备份：{exc}", f"not a valid SQLite backup: {exc}", code="bad_backup"
        ) from None
    if problems:
        source.close()
        raise ValidationFailed("备份文件已损坏", f"the backup file is damaged: {problems}", code="bad_backup")
    if manifest and manifest.get("counts") and manifest["counts"] != expected:
        source.close()
        raise ValidationFailed(
            "备份文件与清单不符", "the backup file does not match its manifest", code="bad_backup"
        )
    connection.close()
    target = sqlite3.connect(_sqlite_name())
    try:
        source.backup(target)
        actual = _sqlite_counts(target)
        problems = _sqlite_integrity(target)
        for fts in [
            r[0]
            for r in target.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
            )
        ]:
            target.execute(f'INSERT INTO "{fts}"("{fts}", rank) VALUES (\'integrity-check\', 1)')  # noqa: S608
    finally:
        target.close()
        source.close()
    return _compare(expected, actual, problems)


def _restore_pg(path: Path, manifest: dict[str, Any]) -> RestoreResult:
    pg_restore = shutil.which("pg_restore")
    if not pg_restore:
        raise BackupError("找不到 pg_restore", "pg_restore is not installed", code="pg_restore_missing")
    args, env = _pg_env()
    listing = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True, check=False)  # noqa: S603
    if listing.returncode != 0:
        raise ValidationFailed(
            "不是有效的 pg_dump 备份",
            f"not a valid pg_dump archive: {listing.stderr[:300]}",
            code="bad_backup",
        )
    db = settings.DATABASES["default"]
    connection.close()
    proc = subprocess.run(  # noqa: S603
        [
            pg_restore,
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            str(db["NAME"]),
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BackupError(
            "pg_restore 失败（数据库未改变）", f"pg_restore failed (nothing changed): {proc.stderr[:500]}"
        )
    with connection.cursor() as cursor:
        actual = _pg_counts(cursor)
    return _compare(manifest["counts"], actual, [])


def _compare(expected: dict[str, int], actual: dict[str, int], problems: list[str]) -> RestoreResult:
    mismatches = list(problems)
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):
            mismatches.append(f"{name}: expected {expected.get(name)}, found {actual.get(name)}")
    return RestoreResult(tables=len(actual), rows=sum(actual.values()), mismatches=mismatches)
