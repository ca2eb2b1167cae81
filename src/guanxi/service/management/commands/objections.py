from __future__ import annotations

from typing import Any

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.pipeline.selectors import opportunity_get_for_user
from guanxi.service import services
from guanxi.service.api import objection_out
from guanxi.service.management.commands._base import ServiceCommand
from guanxi.service.models import Judgement, ObjectionCategory, ObjectionOutcome
from guanxi.service.selectors import objections as sel


class Command(ServiceCommand):
    help = "Objections: list, add, analysis, knowledge (search the answers) / 异议"

    def add_actions(self, sub: Any) -> None:
        p = sub.add_parser("list")
        p.add_argument("--customer", type=int)
        p.add_argument("--category", choices=ObjectionCategory.values)
        p.add_argument("--q", default="")
        p = sub.add_parser("add")
        p.add_argument("--customer", type=int)
        p.add_argument("--category", required=True, choices=ObjectionCategory.values)
        p.add_argument("--words", required=True, help="the customer's words")
        p.add_argument("--judgement", default="unsure", choices=Judgement.values)
        p.add_argument("--real-reason", default="")
        p.add_argument("--response", default="")
        p.add_argument("--outcome", default="pending", choices=ObjectionOutcome.values)
        p.add_argument("--opportunity", type=int, help="the deal it belongs to (商机 id)")
        sub.add_parser("analysis")
        p = sub.add_parser("knowledge")
        p.add_argument("q", nargs="?", default="")
        p.add_argument("--category", choices=ObjectionCategory.values)

    def do_list(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        page = sel.objection_list(
            user=user, customer_id=o["customer"], category=o["category"] or "", q=o["q"][:100]
        )
        return [objection_out(x) for x in page.items]

    def do_add(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        customer = customer_get_for_user(user=user, customer_id=o["customer"]) if o["customer"] else None
        x = services.objection_create(
            actor=user,
            source=Source.CLI,
            customer=customer,
            opportunity=(
                opportunity_get_for_user(user=user, opportunity_id=o["opportunity"])
                if o["opportunity"]
                else None
            ),
            category=o["category"],
            customer_words=o["words"],
            judgement=o["judgement"],
            real_reason=o["real_reason"],
            response=o["response"],
            outcome=o["outcome"],
        )
        return objection_out(sel.objection_get_for_user(user=user, objection_id=x.pk))

    def do_analysis(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        return sel.objection_analysis(user)

    def do_knowledge(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        items = sel.objection_knowledge(user, q=o["q"][:100], category=o["category"] or "")
        return [
            {"category": x.category, "outcome": x.outcome, "words": x.customer_words, "response": x.response}
            for x in items
        ]
