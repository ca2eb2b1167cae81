from typing import Any

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.signals import post_migrate


def ensure_fts_triggers(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> list[str]:
    """SQLite: put back the triggers that keep an FTS5 index in step with its table, and rebuild
    that index, where a migration dropped them.

    Django changes a column on SQLite by re-creating the table (a new table, a copy, a rename),
    which drops the table's triggers: a later migration of customers, contacts or interactions
    (an AlterField, a constraint) would silently stop new and changed rows reaching the search
    index of a database created before it. Runs after every ``migrate``; checks three names when
    nothing is wrong. Returns the tables it repaired.
    """
    import importlib

    from guanxi.search.query import INDEXED_TABLES, fts_table

    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    repaired = []
    scope_migration = importlib.import_module("guanxi.search.migrations.0003_search_scope")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        names = {row[0] for row in cursor.fetchall()}
        for table in INDEXED_TABLES:
            fts = fts_table(table)
            triggers = {f"{fts}_ai", f"{fts}_ad", f"{fts}_au"}
            if table not in names or fts not in names or triggers <= names:
                continue
            cursor.execute(f"PRAGMA table_info({fts})")
            if "search_scope" not in {row[1] for row in cursor.fetchall()}:
                continue  # the index of an older migration state: its own migrations finish it
            for name in triggers & names:
                cursor.execute(f"DROP TRIGGER {name}")
            for sql in scope_migration.sqlite_sql(table):
                if not sql.startswith("CREATE VIRTUAL TABLE"):
                    cursor.execute(sql)  # the triggers, then 'rebuild'
            repaired.append(table)
    return repaired


class SearchConfig(AppConfig):
    name = "guanxi.search"
    label = "search"

    def ready(self) -> None:
        post_migrate.connect(ensure_fts_triggers, sender=self, dispatch_uid="guanxi.search.fts_triggers")
