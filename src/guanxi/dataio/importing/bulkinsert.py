"""Raw multi-row inserts for imports: ids reserved up front, values already in database form.

Django's ``bulk_create`` spends ~10 µs of Python per value (field_as_sql, pre_save, adapters) and on
SQLite binds at most 999 values per statement: 100k customers with contacts took minutes. Here the
import computes each row's values once and sends them in bulk — the same rows, the same triggers
(search index), one transaction (the caller's): on SQLite ``executemany`` in chunks (a prepared
statement stepped per row, in process), on PostgreSQL one ``COPY … FROM STDIN`` per table. An
INSERT per row costs PostgreSQL a parse, bind and execute each: the 730k rows of 100k customers
with contacts took 76 s by ``executemany`` (pipelined) and 42 s by COPY (BENCHMARKS.md).

Ids: on PostgreSQL they come from the table's own sequence (``nextval`` for n rows, safe beside
other writers); on SQLite the import holds the write lock (IMMEDIATE transactions), so the next ids
after the highest ever used (``sqlite_sequence`` included: AUTOINCREMENT never reuses an id) are free.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations

CHUNK = 2000
T = TypeVar("T")


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')  # noqa: S608 - a model's table
        highest = int(cursor.fetchone()[0])
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if cursor.fetchone():
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row:
                highest = max(highest, int(row[0]))
    return list(range(highest + 1, highest + 1 + count))


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def db_date(value: dt.date | None) -> Any:
    return connection.ops.adapt_datefield_value(value) if value is not None else None


def db_json(value: Any) -> Any:
    return connection.ops.adapt_json_value(value, DjangoJSONEncoder)


_JSON_ENCODER = DjangoJSONEncoder()


def json_adapter() -> Callable[[Any], Any]:
    """``db_json`` for many values. Where the backend stores ``json.dumps(value, cls=encoder)``
    (SQLite) one shared encoder does the same without building an encoder per value."""
    if type(connection.ops).adapt_json_value is BaseDatabaseOperations.adapt_json_value:
        return _JSON_ENCODER.encode
    return db_json


def db_decimal(field: models.Field[Any, Any], value: Any) -> Any:
    return field.get_db_prep_save(value, connection) if value is not None else None


class Inserter:
    """INSERT INTO ``model`` (``fields`` …, every other column at its default)."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        meta = model._meta
        self.table = meta.db_table
        named = [meta.get_field(name) for name in fields]
        self.columns = [f.column for f in named if isinstance(f, models.Field)]
        tail_columns: list[str] = []
        tail: list[Any] = []
        for f in meta.concrete_fields:
            if f.column in self.columns:
                continue
            if f.primary_key:
                raise ValueError(f"{self.table}: pass the id (reserve_ids)")
            default = f.get_default()
            tail_columns.append(f.column)
            tail.append(
                db_json(default)
                if isinstance(f, models.JSONField)
                else f.get_db_prep_save(default, connection)
            )
        self.all_columns = self.columns + tail_columns
        self.tail = tuple(tail)
        quoted = ", ".join(connection.ops.quote_name(c) for c in self.all_columns)
        marks = ", ".join(["%s"] * len(self.all_columns))
        self.sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({quoted}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {connection.ops.quote_name(self.table)} ({quoted}) FROM STDIN"

    def insert(self, rows: Sequence[tuple[Any, ...]], *, beside: Callable[[], T] | None = None) -> T | None:
        """Insert the rows. ``beside``: pure-Python work (no database) to run on a thread while the
        database works and the driver has let go of the interpreter: SQLite filling the search
        index (one long statement), PostgreSQL taking a COPY (the rows go out faster than the server
        indexes them, and the driver waits for it with the interpreter released). A small insert
        runs it here, after the rows. Returns its result."""
        tail = self.tail
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with _on_a_thread(beside if len(rows) >= FTS_MIN_ROWS else None, "beside-copy") as result:
                    copy_rows(cursor, self.copy_sql, rows, tail)
            else:
                ids = [r[self.columns.index("id")] for r in rows] if "id" in self.columns else []
                with _search_index_filled_after(cursor, self.table, ids, beside) as result:
                    for start in range(0, len(rows), CHUNK):
                        chunk = rows[start : start + CHUNK]
                        cursor.executemany(self.sql, [r + tail for r in chunk] if tail else list(chunk))
        if beside is None:
            return None
        return result[0] if result else beside()


@contextmanager
def _on_a_thread(work: Callable[[], Any] | None, name: str) -> Iterator[list[Any]]:
    """Run ``work`` (pure Python, no database) on a thread while the block runs; its result is put
    in the yielded list once both are done. Nothing runs, and the list stays empty, for no work."""
    result: list[Any] = []
    if work is None:
        yield result
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=name) as pool:
        future = pool.submit(work)
        yield result
    result.append(future.result())


def copy_rows(cursor: Any, sql: str, rows: Sequence[tuple[Any, ...]], tail: tuple[Any, ...] = ()) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` of the rows (each followed by ``tail``) through psycopg,
    its errors raised as Django's (IntegrityError, DataError…) as an INSERT's would be."""
    with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        if tail:
            for row in rows:
                write(row + tail)
        else:
            for row in rows:
                write(row)


FTS_MIN_ROWS = 1000
FTS5_DEFAULT_AUTOMERGE = 4
FILL_AUTOMERGE = 16


@contextmanager
def _search_index_filled_after(
    cursor: Any, table: str, ids: list[int], beside: Callable[[], Any] | None = None
) -> Iterator[list[Any]]:
    """SQLite: a table with an FTS5 index (``<table>_fts``, kept by the ``<table>_fts_ai`` trigger)
    gets its many new rows indexed by one INSERT…SELECT after they are written, instead of the
    trigger tokenising them one at a time (20k customer documents: ~1 s instead of ~2.7 s). The
    trigger is dropped and re-created inside the caller's transaction, so a failed or killed import
    rolls both back; the rows' ids are reserved, hence contiguous and no one else's (the import
    holds the write lock) — other ids take the trigger's way. Should the insert fail, the trigger is
    put back all the same, so a caller that goes on in the transaction keeps an indexed table.

    ``beside`` runs on a thread during the fill, its result put in the yielded list. Only there:
    Python runs one thread at a time, and while the rows themselves go in (a short C call per row,
    the interpreter taken back after each) a busy second thread made the insert ~1.5× slower."""
    trigger = f"{table}_fts_ai"
    definition = None
    contiguous = bool(ids) and max(ids) - min(ids) + 1 == len(ids) == len(set(ids))
    if connection.vendor == "sqlite" and len(ids) >= FTS_MIN_ROWS and contiguous:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger])
        found = cursor.fetchone()
        definition = found[0] if found else None
    result: list[Any] = []
    if definition is None:
        yield result
        return
    fts = f'"{table}_fts"'
    cursor.execute(f"SELECT v FROM \"{table}_fts_config\" WHERE k = 'automerge'")  # noqa: S608
    found = cursor.fetchone()
    automerge = int(found[0]) if found else FTS5_DEFAULT_AUTOMERGE
    cursor.execute(f'DROP TRIGGER "{trigger}"')
    try:
        yield result
        # FTS5 merges its index segments 4 at a time as they are written (automerge); for a big
        # fill, merging only 16 at a time rewrites the index fewer times: 100k customers' documents
        # ~9 s → ~6.5 s CPU, leaving ~15 segments (the bench database holds 12) where queries run
        # as fast. Put back in the same transaction; later writes merge on as before.
        automerge_sql = f"INSERT INTO {fts} ({fts}, rank) VALUES ('automerge', %s)"  # noqa: S608
        cursor.execute(automerge_sql, [FILL_AUTOMERGE])
        try:
            with _on_a_thread(beside, "beside-fts") as built:
                cursor.execute(
                    f"INSERT INTO {fts} (rowid, search_doc, search_scope) "  # noqa: S608 - a model's table
                    f'SELECT id, search_doc, search_scope FROM "{table}" WHERE id BETWEEN %s AND %s',
                    [min(ids), max(ids)],
                )
            result.extend(built)
        finally:
            cursor.execute(automerge_sql, [automerge])
    finally:
        cursor.execute(definition)


def plain_json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
