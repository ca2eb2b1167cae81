"""PostgreSQL: the engine's scratch table (value_indicatorstage) is UNLOGGED.

It is filled and emptied within one re-evaluation, so a crash loses nothing worth keeping; as a
logged table its 100k–1M rows per run were written twice (table and write-ahead log) and the run's
COMMIT waited for that log to reach the disk. SQLite has no such distinction.
"""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE value_indicatorstage SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE value_indicatorstage SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("value", "0004_snapshot_fewer_indexes")]
    operations = [migrations.RunPython(unlogged, logged)]
