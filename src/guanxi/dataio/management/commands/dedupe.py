"""guanxi dedupe --user U [--threshold 0.5] [--limit N] [--json] — duplicate customers, explained."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.dataio.dedupe import THRESHOLD, duplicates_for_user
from guanxi.dataio.management.base import DataCommand


class Command(DataCommand):
    help = "Find duplicate customers (phone, e-mail, WeChat, name within region), scored and explained / 查重"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="scan what this user can see")
        parser.add_argument("--threshold", type=float, default=THRESHOLD, help="lowest score shown (0–1)")
        parser.add_argument("--limit", type=int, default=200)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 0 < opts["threshold"] <= 1:
            raise CommandError("阈值必须在 0–1 之间 / the threshold must be within 0–1")
        if opts["limit"] < 1:
            raise CommandError("limit 必须为正数 / limit must be positive")
        user = self.user(opts["user"])
        started = time.perf_counter()
        pairs = duplicates_for_user(user=user, threshold=opts["threshold"], limit=opts["limit"])
        elapsed = time.perf_counter() - started
        if opts["json"]:
            self.json({"seconds": round(elapsed, 2), "pairs": [p.as_dict() for p in pairs]})
            return
        for p in pairs:
            self.stdout.write(
                f"{p.score:.2f}  #{p.a} {p.a_name}  ⇄  #{p.b} {p.b_name}  — {'; '.join(p.reasons)}"
            )
        self.stdout.write(f"{len(pairs)} pairs in {elapsed:.1f} s / 找到 {len(pairs)} 对疑似重复")
