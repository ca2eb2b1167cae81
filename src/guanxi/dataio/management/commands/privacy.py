"""guanxi privacy export|erase (--contact ID | --customer ID) --user U — personal-data requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.dataio import privacy
from guanxi.dataio.management.base import DataCommand


class Command(DataCommand):
    help = "Personal-data requests (PIPL/GDPR): export everything about one person, or erase them / 个人信息"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("export", "write a zip (JSON + CSV) / 导出"),
            ("erase", "anonymise everywhere / 删除"),
        ):
            p = sub.add_parser(name, help=text)
            who = p.add_mutually_exclusive_group(required=True)
            who.add_argument("--contact", type=int, help="a contact id")
            who.add_argument("--customer", type=int, help="a customer id (a single person)")
            p.add_argument("--user", required=True, help="who handles the request")
            if name == "export":
                p.add_argument("--output", required=True, help="the zip file to write")
            else:
                p.add_argument("--reason", default="", help="e.g. the request's reference")
                p.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = self.user(opts["user"])
        target: Customer | Contact
        if opts["contact"]:
            target = self.run(lambda: contact_get_for_user(user=user, contact_id=opts["contact"]))
        else:
            target = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["customer"]))
        if opts["action"] == "export":
            data = self.run(lambda: privacy.person_export(actor=user, target=target))
            try:
                Path(opts["output"]).write_bytes(data)
            except OSError as exc:
                raise CommandError(f"无法写入文件：{exc} / cannot write the file: {exc}") from None
            self.stdout.write(f"wrote {opts['output']} ({len(data)} bytes) / 已导出")
            return
        if not opts["yes"]:
            raise CommandError("删除个人信息不可撤销，请加 --yes 确认 / erasure cannot be undone: add --yes")
        tombstone = self.run(lambda: privacy.person_erase(actor=user, target=target, reason=opts["reason"]))
        self.stdout.write(f"erased; tombstone #{tombstone.pk}: {tombstone.counts} / 已删除")
