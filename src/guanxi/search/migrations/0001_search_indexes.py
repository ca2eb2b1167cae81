"""Full-text indexes over the precomputed search documents.

SQLite: an FTS5 table (unicode61 tokenizer, external content) per searchable table, kept in step by
triggers. PostgreSQL: a GIN index on to_tsvector('simple', search_doc). See guanxi.search.documents.
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_contact", "engagement_interaction")


def sqlite_sql(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_doc, content='{table}', content_rowid='id', "
        f"tokenize='unicode61', prefix='2 3 4')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_doc) VALUES (new.id, new.search_doc); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_doc) VALUES ('delete', old.id, old.search_doc); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_doc ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_doc) VALUES ('delete', old.id, old.search_doc); "
        f"INSERT INTO {fts}(rowid, search_doc) VALUES (new.id, new.search_doc); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [f"DROP TABLE IF EXISTS {fts}"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for sql in sqlite_sql(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(
                f"CREATE INDEX {table}_search_gin ON {table} USING gin (to_tsvector('simple', search_doc))"
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for sql in sqlite_drop(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_gin")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("engagement", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
