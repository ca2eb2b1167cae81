"""PostgreSQL: index a stored tsvector instead of the expression to_tsvector('simple', search_doc).

With an expression index every candidate row is re-parsed on recheck (about 9 µs a row: 24 ms for
a 2-letter initials query over 230k contacts); a generated column is parsed once, on write.
SQLite keeps its FTS5 tables (migration 0001).
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_contact", "engagement_interaction")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN search_tsv tsvector "
            f"GENERATED ALWAYS AS (to_tsvector('simple', search_doc)) STORED"
        )
        schema_editor.execute(f"CREATE INDEX {table}_search_tsv_gin ON {table} USING gin (search_tsv)")
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_gin")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {table}_search_gin ON {table} USING gin (to_tsvector('simple', search_doc))"
        )
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_tsv")


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
