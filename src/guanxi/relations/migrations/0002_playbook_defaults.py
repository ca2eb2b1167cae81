"""Seed the four playbooks (upstream 讲义, partner 讲情, channel 讲利, end customer 讲理)."""

from django.db import migrations

from guanxi.relations.playbook_defaults import DEFAULT_PLAYBOOKS


def seed(apps, schema_editor):
    Playbook = apps.get_model("relations", "Playbook")
    for data in DEFAULT_PLAYBOOKS:
        Playbook.objects.get_or_create(relationship_type=data["relationship_type"], defaults=data)


class Migration(migrations.Migration):
    dependencies = [("relations", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
