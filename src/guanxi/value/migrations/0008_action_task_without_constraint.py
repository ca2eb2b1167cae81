"""A lifecycle action's task without a database constraint, as its customer and run (0006): the
deferred check at COMMIT of each of the ~200k actions a monthly run writes at 1M customers."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('followup', '0002_checklist_templates'),
        ('value', '0007_snapshot_moved_index'),
    ]

    operations = [
        migrations.AlterField(
            model_name='lifecycleaction',
            name='task',
            field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='followup.followuptask'),
        ),
    ]
