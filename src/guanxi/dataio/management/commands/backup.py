"""guanxi backup [--output FILE] — a consistent online backup with a manifest of row counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from guanxi.dataio import backup
from guanxi.dataio.management.base import DataCommand


class Command(DataCommand):
    help = "Consistent online backup (SQLite backup API / pg_dump) with a row-count manifest / 备份"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", help="backup file (default: $GUANXI_DATA_DIR/backups/guanxi-<time>.*)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["output"]) if opts["output"] else None
        manifest = self.run(lambda: backup.backup(path))
        target = manifest["path"]
        self.stdout.write(
            f"backup written: {target} ({manifest['rows']} rows in {len(manifest['counts'])} tables, "
            f"{manifest['bytes']} bytes) / 备份完成"
        )
