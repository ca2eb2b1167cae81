"""The value score lives in the run's snapshot only (guanxi.value.engine.sql.persist_sql)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0006_value_hot_updates'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='customer',
            name='value_score',
        ),
    ]
