"""PostgreSQL: index the 2-character beginnings of every token (``prefix_tsv``) beside the document.

A 2-letter prefix query (initials such as ``cj``) made the GIN index collect every posting of every
word beginning with those letters — ~25,000 customers at 1M — before keeping the user's own: 10–19
ms per table. Each document's 2-character beginnings, stored as words of their own, turn such a
query into one exact word intersected with the visibility key inside the index (~1 ms). Customers
and contacts only: notes hold few Latin words, so their prefix queries are cheap already. SQLite's
FTS5 tables have a 2-character prefix index of their own (migration 0001).
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_contact")

# The 2-character beginnings of the document's tokens (space-separated [a-z0-9] words), as a
# tsvector. IMMUTABLE: it depends on its argument only, as a generated column requires.
FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_prefix2(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(to_tsvector('simple', string_agg(DISTINCT left(t, 2), ' ')), ''::tsvector)
  FROM unnest(string_to_array(doc, ' ')) AS t WHERE length(t) >= 2
$$
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN prefix_tsv tsvector "
            f"GENERATED ALWAYS AS (guanxi_prefix2(search_doc)) STORED"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_scope_gin")
        schema_editor.execute(
            f"CREATE INDEX {table}_search_scope_gin ON {table} USING gin (search_tsv, scope_tsv, prefix_tsv)"
        )
        schema_editor.execute(f"ANALYZE {table}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_scope_gin")
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS prefix_tsv")
        schema_editor.execute(
            f"CREATE INDEX {table}_search_scope_gin ON {table} USING gin (search_tsv, scope_tsv)"
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS guanxi_prefix2(text)")


class Migration(migrations.Migration):
    dependencies = [("search", "0003_search_scope")]
    operations = [migrations.RunPython(forwards, backwards)]
