"""Drop indexes that another index already begins with, or that no query reads.

Every index is one more B-tree entry per inserted row: an import of 100k customers with contacts
wrote ~15 index entries per customer (BENCHMARKS.md, issue 3). These serve no query another
index does not serve as well:

- ``customers_customer (owner_id)``: ``cust_owner_lastint`` / ``cust_owner_sort`` /
  ``cust_owner_reviewed`` begin with it (also for the PROTECT check when a user is deleted);
- ``customers_customer (team_id)``: ``cust_team_lastint`` begins with it;
- ``customers_contact (customer_id)``: ``contact_customer_sort`` begins with it;
- ``contactpoint_kind_value``: no query filters on the kind first (matching reads ``value``);
- on PostgreSQL, the ``varchar_pattern_ops`` (``_like``) twins Django adds beside a CharField's
  index, for ``LIKE 'x%'`` — no query here does that on an industry, a contact point's value or a
  WeChat id.

The foreign keys' state changes (``db_index=False``) are paired with plain ``DROP INDEX``: on SQLite
Django would otherwise rebuild each whole table (and with it drop the search index's triggers).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, index name, column) — Django's names for these single-column indexes on both engines.
FK_INDEXES = [
    ("customers_customer", "customers_customer_owner_id_fbb2798e", "owner_id"),
    ("customers_customer", "customers_customer_team_id_677425ba", "team_id"),
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
        ("accounts", "0001_initial"),
        ("customers", "0011_name_address_inline"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
                migrations.AlterField(
                    model_name="customer",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="owned_customers",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="负责人",
                    ),
                ),
                migrations.AlterField(
                    model_name="customer",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="customers",
                        to="accounts.team",
                        verbose_name="团队",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
