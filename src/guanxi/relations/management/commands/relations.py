"""guanxi relations gaps|stale|map|role|link|review — the decision chain, links and profile reviews."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser

from guanxi.audit.models import Source
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.relations import selectors, services
from guanxi.relations.api import map_out
from guanxi.relations.management.base import RelationsCommand
from guanxi.relations.models import DecisionRoleKind, LinkKind, Stance


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期格式应为 YYYY-MM-DD：{text} / dates are YYYY-MM-DD: {text}") from None


class Command(RelationsCommand):
    help = "Relationship gaps, stale profiles, maps, decision roles, links / 关系缺口、档案复核、关系图谱"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("gaps", help="gaps in the relationships of the user's customers / 关系缺口")
        p.add_argument("--user", required=True)
        p.add_argument("--limit", type=int, default=100)
        p = sub.add_parser("stale", help="profiles not reviewed for too long / 待复核的档案")
        p.add_argument("--user", required=True)
        p.add_argument("--days", type=int, default=None)
        p = sub.add_parser("map", help="a customer's relationship map as JSON / 关系图谱")
        p.add_argument("--user", required=True)
        p.add_argument("--customer", type=int, required=True)
        p = sub.add_parser("role", help="set a contact's decision roles, stance, warmth / 设置决策角色")
        p.add_argument("--user", required=True)
        p.add_argument("--contact", type=int, required=True)
        p.add_argument("--roles", help=f"comma-separated: {', '.join(DecisionRoleKind.values)}")
        p.add_argument("--stance", help=", ".join(Stance.values))
        p.add_argument("--warmth", type=int)
        p = sub.add_parser("link", help="link two people / 添加人脉关系")
        p.add_argument("--user", required=True)
        p.add_argument("--from", dest="from_contact", type=int, required=True)
        p.add_argument("--to", dest="to_contact", type=int, required=True)
        p.add_argument("--kind", required=True, help=", ".join(LinkKind.values))
        p.add_argument("--strength", type=int, default=3)
        p.add_argument("--note", default="")
        p = sub.add_parser("review", help="mark a customer's profile as reviewed / 标记档案已复核")
        p.add_argument("--user", required=True)
        p.add_argument("--customer", type=int, required=True)
        p.add_argument("--on", default=None, help="YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = self.user(opts["user"])
        action = opts["action"]
        if action == "gaps":
            if not 1 <= opts["limit"] <= 10_000:
                raise CommandError("--limit 应在 1 到 10000 之间 / --limit must be 1–10000")
            for g in selectors.gaps_for_owner(user=user, limit=opts["limit"]):
                self.stdout.write(f"{g.customer.pk}\t{g.customer.name}")
                for gap in g.gaps:
                    self.stdout.write(f"  [{gap.severity}] {gap.code}: {gap.message_zh} / {gap.message_en}")
        elif action == "stale":
            if opts["days"] is not None and not 1 <= opts["days"] <= 3650:
                raise CommandError("--days 应在 1 到 3650 之间 / --days must be 1–3650")
            for c in selectors.stale_profiles(user=user, days=opts["days"]):
                reviewed = c.profile_reviewed_on.isoformat() if c.profile_reviewed_on else "never / 从未"
                self.stdout.write(f"{c.pk}\t{c.name}\t{reviewed}")
        elif action == "map":
            m = self.run(lambda: selectors.relationship_map(user=user, customer_id=opts["customer"]))
            self.json(map_out(m))
        elif action == "role":
            contact = self.run(lambda: contact_get_for_user(user=user, contact_id=opts["contact"]))
            roles = None
            if opts["roles"] is not None:
                roles = [r.strip() for r in opts["roles"].split(",") if r.strip()]
            result = self.run(
                lambda: services.contact_decision_set(
                    actor=user,
                    source=Source.CLI,
                    contact=contact,
                    roles=roles,
                    stance=opts["stance"],
                    warmth=opts["warmth"],
                )
            )
            self.stdout.write(
                f"{contact.name}: roles={','.join(result[0])} stance={result[1]} warmth={result[2]}"
            )
        elif action == "link":
            link = self.run(
                lambda: services.person_link_create(
                    actor=user,
                    source=Source.CLI,
                    from_contact_id=opts["from_contact"],
                    to_contact_id=opts["to_contact"],
                    kind=opts["kind"],
                    strength=opts["strength"],
                    note=opts["note"],
                )
            )
            self.stdout.write(f"link {link.pk}: {link}")
        elif action == "review":
            customer = self.run(lambda: customer_get_for_user(user=user, customer_id=opts["customer"]))
            on = _date(opts["on"]) if opts["on"] else None
            customer = self.run(
                lambda: services.customer_profile_review(
                    actor=user, source=Source.CLI, customer=customer, reviewed_on=on
                )
            )
            self.stdout.write(f"{customer.name}: reviewed {customer.profile_reviewed_on}")
