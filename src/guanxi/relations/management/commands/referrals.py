"""guanxi referrals value|downstream|add — referral value (direct and indirect) and the "250" view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.relations import selectors, services
from guanxi.relations.api import referrer_value_out
from guanxi.relations.management.base import RelationsCommand


class Command(RelationsCommand):
    help = "Referrals: value per referrer, the customers behind one customer, record one / 转介绍"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("value", help="customers and revenue per referrer / 介绍人价值")
        p.add_argument("--user", required=True)
        p.add_argument("--top", type=int, default=20)
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("downstream", help='the "250" view of one customer / 经由该客户而来的客户')
        p.add_argument("--user", required=True)
        p.add_argument("--customer", type=int, required=True)
        p = sub.add_parser("add", help="record who referred a customer / 记录转介绍")
        p.add_argument("--user", required=True)
        p.add_argument("--customer", type=int, required=True)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--referrer-customer", type=int)
        who.add_argument("--referrer-contact", type=int)
        who.add_argument("--referrer-user", help="username / 用户名")
        who.add_argument("--referrer-name", help="an outside partner / 外部伙伴")
        p.add_argument("--date", default=None, help="YYYY-MM-DD (default: today)")
        p.add_argument("--note", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = self.user(opts["user"])
        if opts["action"] == "value":
            if not 1 <= opts["top"] <= 1000:
                raise CommandError("--top 应在 1 到 1000 之间 / --top must be 1–1000")
            values = selectors.referral_values(user=user, top=opts["top"])
            thank = {v.key for v in selectors.worth_thanking(values, today=timezone.localdate())}
            if opts["json"]:
                self.json([referrer_value_out(v, thank) for v in values])
                return
            self.stdout.write("referrer\tdirect\tindirect\trevenue\tthank")
            for v in values:
                self.stdout.write(
                    f"{v.label}\t{v.direct_customers}\t{v.indirect_customers}\t{v.total_revenue}\t"
                    f"{'yes' if v.key in thank else ''}"
                )
        elif opts["action"] == "downstream":
            d = self.run(lambda: selectors.referral_downstream(user=user, customer_id=opts["customer"]))
            self.stdout.write(f"{d.customer.name}: {d.count} customers / 个客户, ¥{d.revenue}")
            for label, rows in (("direct", d.direct), ("indirect", d.indirect)):
                for cid, name, revenue, status in rows:
                    self.stdout.write(f"  {label}\t{cid}\t{name}\t{revenue}\t{status}")
        else:
            customer = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["customer"]))
            referrer_user_id = None
            if opts["referrer_user"]:
                referrer_user_id = self.user(opts["referrer_user"]).pk
            on = None
            if opts["date"]:
                try:
                    on = dt.date.fromisoformat(opts["date"])
                except ValueError:
                    raise CommandError(
                        f"日期格式应为 YYYY-MM-DD：{opts['date']} / dates are YYYY-MM-DD"
                    ) from None
            referral = self.run(
                lambda: services.referral_create(
                    actor=user,
                    source=Source.CLI,
                    customer=customer,
                    referrer_customer_id=opts["referrer_customer"],
                    referrer_contact_id=opts["referrer_contact"],
                    referrer_user_id=referrer_user_id,
                    referrer_name=opts["referrer_name"] or "",
                    referred_on=on,
                    note=opts["note"],
                )
            )
            self.stdout.write(f"referral {referral.pk}: {referral}")
