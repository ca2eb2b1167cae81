"""Shared customers carry their own key in the search scope (``c<id>``, see documents.scope).

A user's shared customers are then searched through the index (``c<id> OR c<id> …``) instead of
reading every document of their rows. Only the rows of customers that are shared change: the
customer row, its contacts and its interactions (a few thousand rows at 1M customers).
"""

from django.db import migrations

SHARED = "SELECT customer_id FROM customers_customershare"
SCOPE = (
    "'o' || owner_id || CASE WHEN team_id IS NULL THEN '' ELSE ' t' || team_id END"
    " || CASE WHEN id IN (" + SHARED + ") THEN ' c' || id ELSE '' END"
)
ROW_SCOPE = "(SELECT c.search_scope FROM customers_customer c WHERE c.id = {table}.customer_id)"


def forwards(apps, schema_editor):
    schema_editor.execute(
        f"UPDATE customers_customer SET search_scope = {SCOPE} "  # noqa: S608 - fixed SQL
        f"WHERE id IN ({SHARED}) AND search_scope <> {SCOPE}"
    )
    for table in ("customers_contact", "engagement_interaction"):
        expr = ROW_SCOPE.format(table=table)
        schema_editor.execute(
            f"UPDATE {table} SET search_scope = {expr} "  # noqa: S608 - fixed SQL
            f"WHERE customer_id IN ({SHARED}) AND search_scope <> {expr}"
        )


def backwards(apps, schema_editor):
    plain = "'o' || owner_id || CASE WHEN team_id IS NULL THEN '' ELSE ' t' || team_id END"
    schema_editor.execute(
        f"UPDATE customers_customer SET search_scope = {plain} WHERE search_scope LIKE '% c%'"  # noqa: S608
    )
    for table in ("customers_contact", "engagement_interaction"):
        expr = ROW_SCOPE.format(table=table)
        schema_editor.execute(
            f"UPDATE {table} SET search_scope = {expr} WHERE search_scope LIKE '% c%'"  # noqa: S608
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_value_score_in_snapshot"),
        ("engagement", "0002_search_scope"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
