from __future__ import annotations

from typing import Any

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.service import services
from guanxi.service.api import complaint_out
from guanxi.service.management.commands._base import ServiceCommand
from guanxi.service.models import ComplaintCategory, Severity
from guanxi.service.selectors import complaints as sel


class Command(ServiceCommand):
    help = "Complaints: list, show, log, acknowledge, act, escalate, resolve, stats, check / 投诉"

    def add_actions(self, sub: Any) -> None:
        p = sub.add_parser("list", help="open / overdue / escalated / mine / resolved / all")
        p.add_argument("--view", default="open", choices=sel.VIEWS)
        p.add_argument("--customer", type=int)
        p.add_argument("--limit", type=int, default=50, choices=range(1, 201), metavar="1-200")
        p = sub.add_parser("show")
        p.add_argument("id", type=int)
        p = sub.add_parser("log", help="log a complaint")
        p.add_argument("--customer", type=int, required=True)
        p.add_argument("--summary", required=True)
        p.add_argument("--category", required=True, choices=ComplaintCategory.values)
        p.add_argument("--severity", default="medium", choices=Severity.values)
        p.add_argument("--words", default="", help="the customer's own words")
        p.add_argument("--wants", default="", help="what the customer wants")
        p.add_argument("--beyond-authority", action="store_true", help="escalate to the manager at once")
        for name in ("acknowledge", "act", "escalate"):
            p = sub.add_parser(name)
            p.add_argument("id", type=int)
            p.add_argument("--note", default="")
        p = sub.add_parser("resolve")
        p.add_argument("id", type=int)
        p.add_argument("--resolution", required=True)
        p = sub.add_parser("stats")
        p.add_argument("--group", default="category", choices=sel.STAT_GROUPS)
        sub.add_parser("check", help="deadline warnings and escalations now (idempotent)")

    def _get(self, user: User, complaint_id: int) -> Any:
        return sel.complaint_get_for_user(user=user, complaint_id=complaint_id)

    def do_list(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        page = sel.complaint_list(user=user, view=o["view"], customer_id=o["customer"], size=o["limit"])
        if o["json"]:
            return [complaint_out(c) for c in page.items]
        return [
            {
                "id": c.pk,
                "status": c.status,
                "severity": c.severity,
                "resolve_by": f"{c.resolve_by:%Y-%m-%d %H:%M}",
                "customer": c.customer.name,
                "summary": c.summary,
            }
            for c in page.items
        ]

    def do_show(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        c = self._get(user, o["id"])
        data = complaint_out(c)
        data["steps"] = [f"{e.created_at:%Y-%m-%d %H:%M} {e.action}" for e in sel.complaint_timeline(c)]
        return data

    def do_log(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        customer = customer_get_for_user(user=user, customer_id=o["customer"])
        c = services.complaint_create(
            actor=user,
            source=Source.CLI,
            customer=customer,
            summary=o["summary"],
            category=o["category"],
            severity=o["severity"],
            customer_words=o["words"],
            customer_wants=o["wants"],
            beyond_authority=o["beyond_authority"],
        )
        return complaint_out(self._get(user, c.pk))

    def do_acknowledge(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        c = services.complaint_acknowledge(
            actor=user, source=Source.CLI, complaint=self._get(user, o["id"]), note=o["note"]
        )
        return complaint_out(self._get(user, c.pk))

    def do_act(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        c = services.complaint_add_action(
            actor=user, source=Source.CLI, complaint=self._get(user, o["id"]), note=o["note"]
        )
        return complaint_out(self._get(user, c.pk))

    def do_escalate(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        c = services.complaint_escalate(
            actor=user, source=Source.CLI, complaint=self._get(user, o["id"]), note=o["note"]
        )
        return complaint_out(self._get(user, c.pk))

    def do_resolve(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        c = services.complaint_resolve(
            actor=user, source=Source.CLI, complaint=self._get(user, o["id"]), resolution=o["resolution"]
        )
        return complaint_out(self._get(user, c.pk))

    def do_stats(self, user: User, o: dict[str, Any]) -> list[dict[str, Any]]:
        return sel.complaint_stats(user, group=o["group"])

    def do_check(self, user: User, o: dict[str, Any]) -> dict[str, int]:
        from django.core.management.base import CommandError

        if not user.is_admin:
            raise CommandError("只有管理员可以运行 / administrators only")
        counts = services.complaint_check_deadlines()
        counts["promise_reminders"] = services.promise_remind_due()
        return counts
