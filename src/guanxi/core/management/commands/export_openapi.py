from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def openapi_text() -> str:
    from guanxi.api import api

    return json.dumps(api.get_openapi_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI schema (--output) or fail when the committed one drifted (--check)"

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--output", type=Path)
        group.add_argument("--check", type=Path)

    def handle(self, *args: Any, **opts: Any) -> None:
        text = openapi_text()
        if opts["output"]:
            opts["output"].parent.mkdir(parents=True, exist_ok=True)
            opts["output"].write_text(text)
            self.stdout.write(f"wrote {opts['output']}")
            return
        path: Path = opts["check"]
        committed = path.read_text() if path.exists() else ""
        if committed != text:
            delta = "".join(
                difflib.unified_diff(
                    committed.splitlines(True), text.splitlines(True), str(path), "generated", n=2
                )
            )
            raise CommandError(f"OpenAPI schema drifted; run `make openapi` and commit.\n{delta[:4000]}")
        self.stdout.write("OpenAPI schema matches")
