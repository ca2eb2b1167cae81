"""``guanxi demo``: load the demo workspace (演示数据)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.accounts.models import User
from guanxi.core.errors import GuanxiError
from guanxi.customers.models import Customer
from guanxi.demo.generator import DEFAULT_CUSTOMERS, DEFAULT_SEED, DEMO_USERNAMES, generate


class Command(BaseCommand):
    help = "Load the demo workspace: users, teams, customers, contacts, interactions, orders / 加载演示数据"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed / 随机种子")
        parser.add_argument(
            "--customers", type=int, default=DEFAULT_CUSTOMERS, help="number of customers / 客户数量"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when customers already exist (first run only) / 已有客户时跳过",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if not 1 <= opts["customers"] <= 100_000:
            raise CommandError("客户数量必须在 1–100000 之间 / --customers must be 1–100000")
        if opts["if_empty"] and Customer.objects.exists():
            self.stdout.write("已有数据，跳过演示数据 / the database already has customers: demo skipped")
            return
        taken = sorted(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True))
        if taken:
            raise CommandError(
                f"演示用户已存在（{', '.join(taken)}），数据库不是空的；请使用新的数据库或加 --if-empty"
                f" / demo users already exist ({', '.join(taken)}): the database is not empty;"
                " use a fresh database or --if-empty"
            )
        try:
            summary = generate(seed=opts["seed"], customers=opts["customers"])
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        from guanxi.value.engine.run import classify

        classify(force=True)  # the value dashboards and customer classes have something to show
        self.stdout.write(self.style.SUCCESS("演示数据已加载 / demo workspace loaded"))
        for line in summary.lines():
            self.stdout.write("  " + line)
