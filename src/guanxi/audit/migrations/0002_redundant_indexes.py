"""Drop ``audit_auditevent (customer_id)``: the (customer_id, created_at) index begins with it.
One B-tree entry fewer per audit event (an import writes one per customer). A plain DROP INDEX:
on SQLite Django's AlterField would rebuild the whole table."""

import django.db.models.deletion
from django.db import migrations, models

NAME = "audit_auditevent_customer_id_5339a91e"


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("customers", "0011_name_address_inline"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="customer",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="audit_events",
                        to="customers.customer",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{NAME}"',
                    f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "audit_auditevent" ("customer_id")',
                ),
            ],
        ),
    ]
