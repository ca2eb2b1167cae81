"""guanxi export --user U --kind customers --format xlsx --output FILE [--q …] [--filter k=v]"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.audit.models import Source
from guanxi.dataio import exporting, services
from guanxi.dataio.management.base import DataCommand


class Command(DataCommand):
    help = "Export customers, contacts, interactions or orders as xlsx, csv, vcf or json / 导出"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="export what this user can see")
        parser.add_argument("--kind", default="customers", choices=exporting.KINDS)
        parser.add_argument("--format", default="xlsx", choices=exporting.FORMATS)
        parser.add_argument("--output", required=True, help="the file to write ('-' for standard output)")
        parser.add_argument("--q", default="", help="search words, as in the customer list")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help=f"narrow like the list: {', '.join(exporting.FILTERABLE)}",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        user = self.user(opts["user"])
        filters: dict[str, Any] = {}
        for item in opts["filter"]:
            key, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"筛选条件应为 字段=值：{item} / a filter is FIELD=VALUE: {item}")
            filters[key] = int(value) if key.endswith("_id") and value.isdigit() else value
        spec = exporting.ExportSpec(kind=opts["kind"], q=opts["q"], filters=filters)
        kind, fmt = opts["kind"], opts["format"]
        count = self.run(lambda: exporting.count_for_export(user, spec))
        if opts["output"] == "-":
            if fmt == "xlsx":
                raise CommandError("xlsx 不能写到标准输出 / xlsx cannot go to standard output")
            rows = self.run(
                lambda: exporting.export_to(
                    sys.stdout.buffer, user=user, kind=kind, file_format=fmt, spec=spec
                )
            )
        else:
            try:
                rows = self.run(
                    lambda: exporting.export_to(
                        opts["output"], user=user, kind=kind, file_format=fmt, spec=spec
                    )
                )
            except OSError as exc:
                raise CommandError(f"无法写入文件：{exc} / cannot write the file: {exc}") from None
        services.export_log(
            actor=user, source=Source.CLI, kind=kind, file_format=fmt, filters=spec.as_dict(), row_count=rows
        )
        sys.stderr.write(f"{rows} rows ({count} customers) → {opts['output']} / 已导出 {rows} 行\n")
