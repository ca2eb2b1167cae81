"""Index each row's visibility keys (``search_scope``: ``o<owner> t<team>``) beside its document.

A salesperson's search then intersects "matches the words" with "is one of mine" inside the index:
SQLite's FTS5 tables get a second column (queried with column filters), PostgreSQL a stored
``scope_tsv`` and one GIN index over (search_tsv, scope_tsv). See guanxi.search.documents.scope.
"""

import importlib

from django.db import migrations

TABLES = ("customers_customer", "customers_contact", "engagement_interaction")

FILL = {
    "customers_customer": (
        "UPDATE customers_customer SET search_scope = 'o' || owner_id "
        "|| CASE WHEN team_id IS NULL THEN '' ELSE ' t' || team_id END"
    ),
    "customers_contact": (
        "UPDATE customers_contact SET search_scope = "
        "(SELECT c.search_scope FROM customers_customer c WHERE c.id = customers_contact.customer_id)"
    ),
    "engagement_interaction": (
        "UPDATE engagement_interaction SET search_scope = "
        "(SELECT c.search_scope FROM customers_customer c WHERE c.id = engagement_interaction.customer_id)"
    ),
}


def sqlite_sql(table: str) -> list[str]:
    fts = f"{table}_fts"
    cols = "search_doc, search_scope"
    new = "new.search_doc, new.search_scope"
    old = "old.search_doc, old.search_scope"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
        f"tokenize='unicode61', prefix='2 3 4')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_drop(table: str) -> list[str]:
    return importlib.import_module("guanxi.search.migrations.0001_search_indexes").sqlite_drop(table)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for sql in sqlite_drop(table):  # the triggers would re-index every row on the fill
                schema_editor.execute(sql)
        schema_editor.execute(FILL[table])
        if vendor == "sqlite":
            for sql in sqlite_sql(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE {table} ADD COLUMN scope_tsv tsvector "
                f"GENERATED ALWAYS AS (to_tsvector('simple', search_scope)) STORED"
            )
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_tsv_gin")
            schema_editor.execute(
                f"CREATE INDEX {table}_search_scope_gin ON {table} USING gin (search_tsv, scope_tsv)"
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for sql in sqlite_drop(table):
                schema_editor.execute(sql)
            for sql in importlib.import_module("guanxi.search.migrations.0001_search_indexes").sqlite_sql(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_scope_gin")
            schema_editor.execute(f"CREATE INDEX {table}_search_tsv_gin ON {table} USING gin (search_tsv)")
            schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS scope_tsv")


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0002_postgresql_stored_tsvector"),
        ("customers", "0002_search_scope"),
        ("engagement", "0002_search_scope"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
