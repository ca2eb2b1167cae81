"""customers 0009: shared customers' rows trade their own key (c<id>) for their grantees' keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from guanxi.audit.models import Source
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import customer_share
from guanxi.engagement.models import Interaction

BEFORE = [("customers", "0008_shared_customer_search_key")]
AFTER = [("customers", "0009_share_grantee_search_keys")]


def _scopes(customer_id: int) -> set[str]:
    rows = list(Customer.objects.filter(pk=customer_id).values_list("search_scope", flat=True))
    rows += Contact.objects.filter(customer_id=customer_id).values_list("search_scope", flat=True)
    rows += Interaction.objects.filter(customer_id=customer_id).values_list("search_scope", flat=True)
    return set(rows)


@pytest.mark.django_db(transaction=True)
def test_0009_rewrites_shared_rows_both_ways(world):
    customer_share(actor=world.owner, source=Source.UI, customer=world.customer, user=world.teammate)
    customer_share(actor=world.owner, source=Source.UI, customer=world.customer, team=world.north)
    base = f"o{world.owner.pk} t{world.east.pk}"
    grantees = f"{base} u{world.teammate.pk} s{world.north.pk}"
    assert _scopes(world.customer.pk) == {grantees}

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    assert _scopes(world.customer.pk) == {f"{base} c{world.customer.pk}"}

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    assert _scopes(world.customer.pk) == {grantees}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
