from __future__ import annotations

from typing import Any

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.pipeline.selectors import opportunity_get_for_user
from guanxi.service import services
from guanxi.service.api import promise_out
from guanxi.service.management.commands._base import ServiceCommand, parse_date
from guanxi.service.selectors import promises as sel


class Command(ServiceCommand):
    help = "The promise ledger: list, add, close, rates, overpromising / 承诺"

    def add_actions(self, sub: Any) -> None:
        p = sub.add_parser("list")
        p.add_argument("--view", default="open", choices=sel.VIEWS)
        p.add_argument("--customer", type=int)
        p.add_argument("--limit", type=int, default=50, choices=range(1, 201), metavar="1-200")
        p = sub.add_parser("add")
        p.add_argument("--customer", type=int, required=True)
        p.add_argument("--what", required=True)
        p.add_argument("--due", required=True, help="YYYY-MM-DD")
        p.add_argument("--details", default="")
        p.add_argument("--opportunity", type=int, help="the deal it belongs to (商机 id)")
        p = sub.add_parser("close")
        p.add_argument("id", type=int)
        p.add_argument("--outcome", required=True, choices=["kept", "broken", "withdrawn"])
        p.add_argument("--kept-on", help="YYYY-MM-DD (default today)")
        p.add_argument("--reason", default="")
        p = sub.add_parser("rates")
        p.add_argument("--group", default="promised_by", choices=sel.RATE_GROUPS)
        sub.add_parser("overpromising")

    def do_list(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        page = sel.promise_list(user=user, view=o["view"], customer_id=o["customer"], size=o["limit"])
        if o["json"]:
            return [promise_out(p) for p in page.items]
        return [
            {"id": p.pk, "due_on": p.due_on, "status": p.status, "customer": p.customer.name, "what": p.what}
            for p in page.items
        ]

    def do_add(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        customer = customer_get_for_user(user=user, customer_id=o["customer"])
        p = services.promise_create(
            actor=user,
            source=Source.CLI,
            customer=customer,
            opportunity=(
                opportunity_get_for_user(user=user, opportunity_id=o["opportunity"])
                if o["opportunity"]
                else None
            ),
            what=o["what"],
            due_on=parse_date(o["due"], "--due"),
            details=o["details"],
        )
        return promise_out(sel.promise_get_for_user(user=user, promise_id=p.pk))

    def do_close(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        p = sel.promise_get_for_user(user=user, promise_id=o["id"])
        services.promise_close(
            actor=user,
            source=Source.CLI,
            promise=p,
            outcome=o["outcome"],
            kept_on=parse_date(o["kept_on"], "--kept-on") if o["kept_on"] else None,
            reason=o["reason"],
        )
        return promise_out(sel.promise_get_for_user(user=user, promise_id=p.pk))

    def do_rates(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        return sel.promise_rates(user, group=o["group"])

    def do_overpromising(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        return sel.overpromising(user)
