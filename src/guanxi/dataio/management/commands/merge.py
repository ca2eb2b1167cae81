"""guanxi merge customers|contacts SURVIVOR MERGED --user U [--take field …]; guanxi merge undo RECORD"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from guanxi.audit.models import Source
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.dataio import merge
from guanxi.dataio.management.base import DataCommand
from guanxi.dataio.selectors import merge_record_get_for_user


class Command(DataCommand):
    help = "Merge two customers or two contacts (everything moves to the survivor), or undo a merge / 合并"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name in ("customers", "contacts"):
            p = sub.add_parser(name, help=f"merge two {name} / 合并")
            p.add_argument("survivor", type=int, help="id of the record that stays")
            p.add_argument("merged", type=int, help="id of the record merged into it")
            p.add_argument("--user", required=True)
            p.add_argument(
                "--take",
                action="append",
                default=[],
                metavar="FIELD",
                help="take this field's value from the merged record",
            )
        p = sub.add_parser("undo", help="undo a merge / 撤销合并")
        p.add_argument("record", type=int, help="the merge record id (printed by merge)")
        p.add_argument("--user", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        user = self.user(opts["user"])
        action = opts["action"]
        if action == "undo":
            record = self.run(lambda: merge_record_get_for_user(user=user, record_id=opts["record"]))
            restored = self.run(lambda: merge.merge_undo(actor=user, source=Source.CLI, record=record))
            self.stdout.write(f"restored {record.object_type} #{restored.pk} {restored} / 已撤销合并")
            return
        fields = dict.fromkeys(opts["take"], "merged")
        if action == "customers":
            survivor = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["survivor"]))
            merged = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["merged"]))
            record = self.run(
                lambda: merge.customer_merge(
                    actor=user, source=Source.CLI, survivor=survivor, merged=merged, fields=fields
                )
            )
        else:
            c_survivor = self.run(lambda: contact_get_for_user(user=user, contact_id=opts["survivor"]))
            c_merged = self.run(lambda: contact_get_for_user(user=user, contact_id=opts["merged"]))
            record = self.run(
                lambda: merge.contact_merge(
                    actor=user, source=Source.CLI, survivor=c_survivor, merged=c_merged, fields=fields
                )
            )
        self.stdout.write(
            f"merged #{record.merged_id} into #{record.survivor_id}; "
            f"undo with: guanxi merge undo {record.pk} "
            f"--user {user.username} / 已合并"
        )
