"""guanxi playbooks list|export|import|reset — the relationship playbooks, run by the operator."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import get_language

from guanxi.audit.models import Source
from guanxi.relations import selectors, services
from guanxi.relations.management.base import RelationsCommand
from guanxi.relations.playbook_defaults import DEFAULT_PLAYBOOKS
from guanxi.relations.services import PLAYBOOK_FIELDS


class Command(RelationsCommand):
    help = "Relationship playbooks: list, export to JSON, import from JSON, reset to defaults / 关系维护手册"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="show the playbooks / 查看")
        p = sub.add_parser("export", help="write the playbooks as JSON / 导出")
        p.add_argument("--output", default="-", help="file (default: standard output)")
        p = sub.add_parser("import", help="update the playbooks from JSON / 导入")
        p.add_argument("file", help="a JSON file written by export ('-' for standard input)")
        sub.add_parser("reset", help="restore the shipped defaults / 恢复默认")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "list":
            for p in selectors.playbook_list():
                self.stdout.write(
                    f"{p.relationship_type}\t{p.get_basis_display()}\t{p.cadence_days}d\t"
                    f"{p.text('summary', get_language())[:60]}"
                )
        elif action == "export":
            data = [
                {"relationship_type": p.relationship_type, **{f: getattr(p, f) for f in PLAYBOOK_FIELDS}}
                for p in selectors.playbook_list()
            ]
            text = json.dumps(data, ensure_ascii=False, indent=2)
            if opts["output"] == "-":
                self.stdout.write(text)
            else:
                Path(opts["output"]).write_text(text + "\n", encoding="utf-8")
                self.stdout.write(f"wrote {len(data)} playbooks to {opts['output']}")
        elif action == "import":
            try:
                raw = (
                    sys.stdin.read()
                    if opts["file"] == "-"
                    else Path(opts["file"]).read_text(encoding="utf-8")
                )
                items = json.loads(raw)
            except OSError as exc:
                raise CommandError(f"无法读取文件：{exc} / cannot read the file: {exc}") from None
            except ValueError as exc:
                raise CommandError(f"不是有效的 JSON：{exc} / not valid JSON: {exc}") from None
            changed = self.run(lambda: services.playbooks_import(actor=None, source=Source.CLI, items=items))
            self.stdout.write(f"imported: {changed} changed / 已更新 {changed} 个")
        else:
            changed = self.run(
                lambda: services.playbooks_import(actor=None, source=Source.CLI, items=DEFAULT_PLAYBOOKS)
            )
            self.stdout.write(f"reset: {changed} changed / 已恢复 {changed} 个")
