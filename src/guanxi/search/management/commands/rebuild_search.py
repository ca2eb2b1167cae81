from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from guanxi.customers.models import Contact, Customer, CustomerKind
from guanxi.customers.services import contact_search_doc, customer_search_doc, search_scopes_repair
from guanxi.engagement.models import Interaction
from guanxi.engagement.services import interaction_search_doc
from guanxi.search.pinyin import sort_key


class Command(BaseCommand):
    help = "Recompute search documents, pinyin sort keys and visibility keys (after the format changes)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, **opts: Any) -> None:
        batch = max(100, opts["batch"])
        changed = 0
        for start in range(
            0, (Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1, batch
        ):
            with transaction.atomic():
                rows = list(Customer.objects.filter(id__gte=start, id__lt=start + batch))
                for c in rows:
                    c.search_doc = customer_search_doc(c)
                    c.sort_key = sort_key(c.name, person=c.kind == CustomerKind.PERSON)
                Customer.objects.bulk_update(rows, ["search_doc", "sort_key"])
                changed += len(rows)
        for start in range(
            0, (Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1, batch
        ):
            with transaction.atomic():
                contacts = list(
                    Contact.objects.filter(id__gte=start, id__lt=start + batch).prefetch_related("points")
                )
                for ct in contacts:
                    ct.search_doc = contact_search_doc(ct, ct.points.all())
                    ct.sort_key = sort_key(ct.name, person=True)
                Contact.objects.bulk_update(contacts, ["search_doc", "sort_key"])
                changed += len(contacts)
        last = Interaction.objects.order_by("-id").values_list("id", flat=True).first() or 0
        for start in range(0, last + 1, batch):
            with transaction.atomic():
                items = list(Interaction.objects.filter(id__gte=start, id__lt=start + batch))
                for i in items:
                    i.search_doc = interaction_search_doc(i)
                Interaction.objects.bulk_update(items, ["search_doc"])
                changed += len(items)
        scopes = search_scopes_repair()
        self.stdout.write(f"rebuilt {changed} search documents; {scopes} visibility keys repaired")
