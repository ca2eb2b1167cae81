"""The lifecycle action's customer needs no index of its own (the unique constraint leads with it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0007_value_score_in_snapshot'),
        ('value', '0005_unlogged_stage'),
    ]

    operations = [
        migrations.AlterField(
            model_name='lifecycleaction',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.customer'),
        ),
    ]
