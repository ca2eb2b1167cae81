"""Shared customers carry their grantees' keys in the search scope (``u<user>`` / ``s<team>``,
see documents.scope) instead of their own ``c<id>``: a user's shared rows are then one or two
index keys, however many customers are shared with them. Only shared customers' rows change:
the customer, its contacts and its interactions (a few tens of thousands of rows at 1M customers).
"""

from django.db import migrations

SHARED = "SELECT customer_id FROM customers_customershare"
ROW_SCOPE = "(SELECT c.search_scope FROM customers_customer c WHERE c.id = {table}.customer_id)"
ROW_TABLES = ("customers_contact", "engagement_interaction")


def _scope(owner_id, team_id, users, teams):
    # documents.scope as of this migration.
    keys = [f"o{owner_id}"] if owner_id else []
    if team_id:
        keys.append(f"t{team_id}")
    keys += [f"u{u}" for u in sorted({u for u in users if u})]
    keys += [f"s{t}" for t in sorted({t for t in teams if t})]
    return " ".join(keys)


def _rescope_rows(schema_editor):
    for table in ROW_TABLES:
        expr = ROW_SCOPE.format(table=table)
        schema_editor.execute(
            f"UPDATE {table} SET search_scope = {expr} "  # noqa: S608 - fixed SQL
            f"WHERE customer_id IN ({SHARED}) AND search_scope <> {expr}"
        )


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    CustomerShare = apps.get_model("customers", "CustomerShare")
    grantees = {}
    for customer_id, user_id, team_id in CustomerShare.objects.values_list("customer_id", "user_id", "team_id"):
        users, teams = grantees.setdefault(customer_id, ([], []))
        users.append(user_id)
        teams.append(team_id)
    ids = sorted(grantees)
    for i in range(0, len(ids), 2000):
        stale = []
        for customer in Customer.objects.filter(pk__in=ids[i : i + 2000]).only(
            "id", "owner_id", "team_id", "search_scope"
        ):
            scope = _scope(customer.owner_id, customer.team_id, *grantees[customer.pk])
            if scope != customer.search_scope:
                customer.search_scope = scope
                stale.append(customer)
        Customer.objects.bulk_update(stale, ["search_scope"], batch_size=1000)
    _rescope_rows(schema_editor)


def backwards(apps, schema_editor):
    own_key = (
        "'o' || owner_id || CASE WHEN team_id IS NULL THEN '' ELSE ' t' || team_id END || ' c' || id"
    )
    schema_editor.execute(
        f"UPDATE customers_customer SET search_scope = {own_key} WHERE id IN ({SHARED})"  # noqa: S608
    )
    _rescope_rows(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_shared_customer_search_key"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
