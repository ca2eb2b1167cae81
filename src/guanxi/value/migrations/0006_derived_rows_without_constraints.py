"""The value engine's derived rows (snapshots, lifecycle actions) keep their keys without database
constraints: deletes still cascade through Django's collector (see CustomerSnapshot)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_value_score_in_snapshot'),
        ('value', '0005_unlogged_stage'),
    ]

    operations = [
        migrations.AlterField(
            model_name='customersnapshot',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='value_snapshots', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='customersnapshot',
            name='run',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='value.classificationrun'),
        ),
        migrations.AlterField(
            model_name='lifecycleaction',
            name='customer',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='lifecycleaction',
            name='run',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='actions', to='value.classificationrun'),
        ),
    ]
