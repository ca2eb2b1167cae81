"""guanxi restore FILE --yes — replace the database with a backup, then check it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.dataio import backup
from guanxi.dataio.management.base import DataCommand


class Command(DataCommand):
    help = "Restore a backup and check it (row counts against the manifest, integrity) / 恢复"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a file written by guanxi backup")
        parser.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["yes"]:
            raise CommandError(
                "恢复会覆盖当前数据，请加 --yes 确认 / restoring replaces the current data: add --yes"
            )
        result = self.run(lambda: backup.restore(Path(opts["file"])))
        if not result.ok:
            raise CommandError(
                "恢复后校验失败 / the restored database does not match the backup:\n  "
                + "\n  ".join(result.mismatches)
            )
        self.stdout.write(
            f"restored and checked: {result.tables} tables, {result.rows} rows / 恢复完成并已校验"
        )
