"""SQLite: index the 2- and 3-character beginnings of customer and contact tokens, not the 4-character ones.

Each prefix length FTS5 indexes is one more index entry per token of every document. The
4-character one cost the most of the three (most 4-character beginnings are distinct: "wuxi",
"yong", "tong", "wxyt"…): filling the index of 100k imported customers took 5.5 s with prefixes
2, 3 and 4 and 3.4 s with 2 and 3 (measured on this machine, BENCHMARKS.md), two fifths of the
import's index work. Without it a 4-letter query ("zhan", "wang") reads the words that begin with
those letters, as a 5-letter one ("zhang") always did: ~5 ms per table at 100k customers instead
of ~0.3 ms, well inside the search page's budget. Interactions keep 2, 3 and 4: they are not
bulk-imported and their notes hold few Latin words.
"""

import importlib

from django.db import migrations

TABLES = ("customers_customer", "customers_contact")
_V3 = "guanxi.search.migrations.0003_search_scope"


def _create(table: str, prefix: str) -> str:
    fts = f"{table}_fts"
    return (
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_doc, search_scope, content='{table}', "
        f"content_rowid='id', tokenize='unicode61', prefix='{prefix}')"
    )


def _recreate(schema_editor, prefix: str) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    v3 = importlib.import_module(_V3)
    for table in TABLES:
        for sql in v3.sqlite_drop(table):
            schema_editor.execute(sql)
        schema_editor.execute(_create(table, prefix))
        for sql in v3.sqlite_sql(table):
            if not sql.startswith("CREATE VIRTUAL TABLE"):
                schema_editor.execute(sql)  # the triggers, then 'rebuild'


def forwards(apps, schema_editor):
    _recreate(schema_editor, "2 3")


def backwards(apps, schema_editor):
    _recreate(schema_editor, "2 3 4")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_postgresql_two_letter_prefixes")]
    operations = [migrations.RunPython(forwards, backwards)]
