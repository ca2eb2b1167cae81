"""Drop indexes that another index already begins with, or that no query reads.

Every index is one more B-tree entry per inserted row: an import of 100k customers with contacts
wrote ~15 index entries per customer (BENCHMARKS.md, issue 3). These serve no query another
index does not serve as well:

- ``customers_contact (customer_id)``: ``contact_customer_sort`` begins with it;
- ``contactpoint_kind_value``: no query filters on the kind first (matching reads ``value``);
- on PostgreSQL, the ``varchar_pattern_ops`` (``_like``) twins Django adds beside a CharField's
  index, for ``LIKE 'x%'`` — no query here does that on an industry, a contact point's value or a
  WeChat id.

The customers' own ``owner_id`` and ``team_id`` indexes stay although composite indexes begin with
them: a list of a team's customer ids (``customer_id IN (SELECT id … WHERE team_id = …)``, the
pipeline's and the dashboards' manager views) reads the narrow index in 69 ms where the composite
takes 92 (SQLite medium, measured).

The foreign key's state change (``db_index=False``) is paired with a plain ``DROP INDEX``: on SQLite
Django would otherwise rebuild the whole table (and with it drop the search index's triggers).
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, index name, column) — Django's names for these single-column indexes on both engines.
FK_INDEXES = [
    ("customers_contact", "customers_contact_customer_id_b9afc0da", "customer_id"),
]
LIKE_INDEXES = [
    ("customers_customer", "customers_customer_industry_0d44e2e6_like", "industry"),
    ("customers_contact", "customers_contact_wechat_id_0284e93a_like", "wechat_id"),
    ("customers_contactpoint", "customers_contactpoint_value_ace7789d_like", "value"),
]


def forwards(apps, schema_editor):
    indexes = FK_INDEXES + (LIKE_INDEXES if schema_editor.connection.vendor == "postgresql" else [])
    for _, name, _ in indexes:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backwards(apps, schema_editor):
    for table, name, column in FK_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
    if schema_editor.connection.vendor == "postgresql":
        for table, name, column in LIKE_INDEXES:
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0011_name_address_inline"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contactpoint",
            name="contactpoint_kind_value",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
