"""guanxi import FILE [--kind …] [--dry-run] [--mapping …] — prints a JSON report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.core.errors import GuanxiError
from guanxi.dataio.management.base import DataCommand
from guanxi.dataio.models import DuplicatePolicy, ImportKind, ImportStatus


class Command(DataCommand):
    help = "Import customers, contacts, interactions, orders or products from CSV/xlsx/xls/vCard / 导入数据"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .csv, .xlsx, .xls or .vcf file")
        parser.add_argument("--user", required=True, help="the importing user (owner of new customers)")
        parser.add_argument(
            "--kind",
            default="customers",
            choices=[*ImportKind.values, "auto"],
            help="what the rows are; 'auto': one sheet per kind, by sheet name",
        )
        parser.add_argument("--dry-run", action="store_true", help="report what would happen; write nothing")
        parser.add_argument("--mapping", help='JSON {"header": "field"} or a file holding it')
        parser.add_argument(
            "--encoding", default="", help="override the detected text encoding (gb18030, utf-8…)"
        )
        parser.add_argument("--sheet", default="", help="the workbook sheet to read (default: the first)")
        parser.add_argument("--on-duplicate", default=DuplicatePolicy.UPDATE, choices=DuplicatePolicy.values)
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the valid rows, report the rest"
        )
        parser.add_argument("--quiet", action="store_true", help="no progress on standard error")

    def handle(self, *args: Any, **opts: Any) -> None:
        from guanxi.dataio import services

        user = self.user(opts["user"])
        path = Path(opts["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc} / cannot read the file: {exc}") from None
        mapping = None
        if opts["mapping"]:
            raw = opts["mapping"]
            if not raw.lstrip().startswith("{"):
                try:
                    raw = Path(raw).read_text(encoding="utf-8")
                except OSError as exc:
                    raise CommandError(f"无法读取映射文件：{exc} / cannot read the mapping: {exc}") from None
            try:
                mapping = json.loads(raw)
            except ValueError as exc:
                raise CommandError(
                    f"映射不是有效的 JSON：{exc} / the mapping is not valid JSON: {exc}"
                ) from None
            if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
                raise CommandError('映射必须是 {"表头": "字段"} / the mapping must be {"header": "field"}')

        def progress(kind: str, done: int, total: int) -> None:
            if not opts["quiet"] and total:
                sys.stderr.write(f"\r{kind}: {done}/{total} ({100 * done // total}%)")
                sys.stderr.flush()

        try:
            job = services.import_preview(
                actor=user,
                data=data,
                file_name=path.name,
                kind=opts["kind"],
                encoding=opts["encoding"],
                sheet=opts["sheet"],
                mapping=mapping,
                on_duplicate=opts["on_duplicate"],
            )
            if opts["dry_run"]:
                report = job.report
                services.import_cancel(actor=user, job=job)
            else:
                job = services.import_confirm(
                    actor=user,
                    job=job,
                    skip_invalid=opts["skip_invalid"],
                    background=True,
                    remember_mapping=False,
                )
                if job.status == ImportStatus.QUEUED:
                    # The CLI waits for its own import instead of leaving it to a worker.
                    job = services.import_execute(job_id=job.pk, progress=progress)
                report = job.report
        except GuanxiError as exc:
            self._error(exc.as_dict())
        if not opts["quiet"]:
            sys.stderr.write("\n")
        out = {"job": job.pk, "status": job.status, **report}
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        if job.status == ImportStatus.FAILED:
            self._error(report.get("error", {}), printed=True)

    def _error(self, error: dict[str, Any], printed: bool = False) -> None:
        if not printed:
            self.stdout.write(
                json.dumps({"status": "rejected", "error": error}, ensure_ascii=False, indent=2)
            )
        details = error.get("details") or []
        lines = [error.get("message", "")]
        for d in details[:20]:
            where = " ".join(str(x) for x in (d.get("row") and f"row {d['row']}", d.get("column")) if x)
            lines.append(f"  {where}: {d.get('message', '')}")
        raise CommandError("\n".join(lines))
