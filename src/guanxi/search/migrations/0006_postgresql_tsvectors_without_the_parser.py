"""PostgreSQL: the stored tsvectors made from the document's own words, without the text parser.

A search document is already a list of lower-case ``[a-z0-9]`` words separated by single spaces
(``documents.build``), so ``array_to_tsvector(string_to_array(doc, ' '))`` holds the same words as
``to_tsvector('simple', doc)`` without running the parser and its dictionary over every character;
the 2-character beginnings likewise come from an array instead of re-parsed text. Writing 100k
imported customers' three tsvectors took 8.6 s before and 3.9 s after (measured on the bench
database; BENCHMARKS.md). Positions are no longer stored: no query uses them (no phrases, no
ranking).

The words are exactly the document's, also where the parser split one: it read ``0e1t3mjx4b`` (an
e-mail's local part) as a number ``0e1`` and a word ``t3mjx4b``; queries are now tsquery literals
of the same words (``search.query``), as SQLite's FTS5 reads them. A word longer than 255
characters (``documents.MAX_TOKEN``; only a note can hold one) is dropped from interaction
documents first: the parser skipped words over 2047 bytes, ``array_to_tsvector`` would reject them.
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_contact", "engagement_interaction")
PREFIX_TABLES = ("customers_customer", "customers_contact")

WORDS = "array_to_tsvector(array_remove(string_to_array({column}, ' '), ''))"

FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_prefixes(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_to_tsvector(ARRAY(
    SELECT left(t, 2) FROM unnest(string_to_array(doc, ' ')) AS t WHERE length(t) >= 2
  ))
$$
"""

OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION guanxi_prefix2(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT COALESCE(to_tsvector('simple', string_agg(DISTINCT left(t, 2), ' ')), ''::tsvector)
  FROM unnest(string_to_array(doc, ' ')) AS t WHERE length(t) >= 2
$$
"""


def _rebuild(schema_editor, table: str, search: str, scope: str, prefix: str | None) -> None:
    """One rewrite of the table: the three columns dropped (and the GIN index with them) and added
    back with the new expressions in the same ALTER TABLE, then the index built once."""
    columns = ["search_tsv", "scope_tsv"] + (["prefix_tsv"] if prefix else [])
    drops = [f"DROP COLUMN IF EXISTS {c}" for c in columns]
    adds = [
        f"ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({search}) STORED",
        f"ADD COLUMN scope_tsv tsvector GENERATED ALWAYS AS ({scope}) STORED",
    ]
    if prefix:
        adds.append(f"ADD COLUMN prefix_tsv tsvector GENERATED ALWAYS AS ({prefix}) STORED")
    schema_editor.execute(f"ALTER TABLE {table} {', '.join(drops + adds)}")
    schema_editor.execute(f"CREATE INDEX {table}_search_scope_gin ON {table} USING gin ({', '.join(columns)})")
    schema_editor.execute(f"ANALYZE {table}")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(
        r"UPDATE engagement_interaction SET search_doc = "
        r"btrim(regexp_replace(search_doc, '(^| )\S{255}\S+', '', 'g')) WHERE search_doc ~ '\S{255}\S+'"
    )
    for table in TABLES:
        _rebuild(
            schema_editor,
            table,
            WORDS.format(column="search_doc"),
            WORDS.format(column="search_scope"),
            "guanxi_prefixes(search_doc)" if table in PREFIX_TABLES else None,
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS guanxi_prefix2(text)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(OLD_FUNCTION)
    for table in TABLES:
        _rebuild(
            schema_editor,
            table,
            "to_tsvector('simple', search_doc)",
            "to_tsvector('simple', search_scope)",
            "guanxi_prefix2(search_doc)" if table in PREFIX_TABLES else None,
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS guanxi_prefixes(text)")


class Migration(migrations.Migration):
    dependencies = [("search", "0005_sqlite_prefix_2_3")]
    operations = [migrations.RunPython(forwards, backwards)]
