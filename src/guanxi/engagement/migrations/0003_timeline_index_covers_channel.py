"""The timeline index also carries ``channel``: the value engine counts touches per customer from it
alone (an index-only scan instead of reading every interaction row with its notes)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('engagement', '0002_search_scope'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='interaction',
            name='interaction_customer_time',
        ),
        migrations.AddIndex(
            model_name='interaction',
            index=models.Index(fields=['customer', 'occurred_at', 'id', 'channel'], name='interaction_customer_time'),
        ),
    ]
