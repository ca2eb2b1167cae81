from __future__ import annotations

from typing import Any

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_get_for_user
from guanxi.service import services
from guanxi.service.management.commands._base import ServiceCommand
from guanxi.service.selectors import surveys as sel


class Command(ServiceCommand):
    help = "Feedback surveys: invite (prints a link once, or e-mails it), results (NPS) / 客户反馈"

    def add_actions(self, sub: Any) -> None:
        p = sub.add_parser("invite")
        p.add_argument("--customer", type=int, required=True)
        p.add_argument("--email", default="", help="send by e-mail to this address (else print a link)")
        p.add_argument("--days", type=int, default=30, choices=range(1, 181), metavar="1-180")
        p = sub.add_parser("results")
        p.add_argument("--customer", type=int)
        p.add_argument("--segment", default="relationship_type", choices=sel.SEGMENTS)

    def do_invite(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        customer = customer_get_for_user(user=user, customer_id=o["customer"])
        invitation, link = services.survey_invitation_create(
            actor=user,
            source=Source.CLI,
            customer=customer,
            channel="email" if o["email"] else "link",
            to_address=o["email"],
            valid_days=o["days"],
        )
        return {"id": invitation.pk, "expires_at": invitation.expires_at, "link": link or "(e-mail queued)"}

    def do_results(self, user: User, o: dict[str, Any]) -> dict[str, Any]:
        if o["customer"]:
            customer_get_for_user(user=user, customer_id=o["customer"])
        return sel.survey_results(user, customer_id=o["customer"], segment=o["segment"])
