"""Fewer index entries per follow-up task.

A monthly re-evaluation creates one task per customer who entered a lifecycle state: ~200k tasks at
1M customers (issue 7), each written into every index of the table. Three of its six indexes
served no query another index does not serve:

- ``assignee_id``: ``task_assignee_due`` (assignee, status, due_on) begins with it;
- ``contact_id`` and ``created_by_id``: most tasks have neither, yet a B-tree holds an entry for
  each NULL. Partial indexes (``IS NOT NULL``) hold only the tasks that have one, and still serve
  every lookup by contact or creator, Django's ``on_delete`` updates included.

The foreign keys' state change (``db_index=False``) is paired with a plain ``DROP INDEX``: on SQLite
Django would otherwise rebuild the whole table three times.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Django's names for the single-column foreign-key indexes, the same on both engines.
FK_INDEXES = [
    ("followup_followuptask_assignee_id_2e70ad75", "assignee_id"),
    ("followup_followuptask_contact_id_a7bf90b3", "contact_id"),
    ("followup_followuptask_created_by_id_62e4bf4f", "created_by_id"),
]


def forwards(apps, schema_editor):
    for name, _ in FK_INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def backwards(apps, schema_editor):
    for name, column in FK_INDEXES:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "followup_followuptask" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0012_redundant_indexes"),
        ("followup", "0002_checklist_templates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="followuptask",
                    name="assignee",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="followup_tasks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="followuptask",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="followup_tasks",
                        to="customers.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="followuptask",
                    name="created_by",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
        migrations.AddIndex(
            model_name="followuptask",
            index=models.Index(
                condition=models.Q(("contact__isnull", False)), fields=["contact"], name="task_contact"
            ),
        ),
        migrations.AddIndex(
            model_name="followuptask",
            index=models.Index(
                condition=models.Q(("created_by__isnull", False)), fields=["created_by"], name="task_created_by"
            ),
        ),
    ]
