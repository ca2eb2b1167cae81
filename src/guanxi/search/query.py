"""Full-text matching on the precomputed search documents, with identical results on both engines."""

from __future__ import annotations

from typing import TypeVar

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL

from guanxi.search.documents import QueryTerm

M = TypeVar("M", bound=Model)

# Models with a search_doc column and an index over it (FTS5 table on SQLite, GIN on PostgreSQL).
INDEXED_TABLES = ("customers_customer", "customers_contact", "engagement_interaction")


def fts_table(db_table: str) -> str:
    return f"{db_table}_fts"


def _fts5_match(terms: list[QueryTerm]) -> str:
    # Tokens are [a-z0-9] only (see documents.parse_query), quoting makes them literal FTS5 strings.
    return " ".join(f'"{t.token}"*' if t.prefix else f'"{t.token}"' for t in terms)


def _tsquery(terms: list[QueryTerm]) -> str:
    return " & ".join(f"{t.token}:*" if t.prefix else t.token for t in terms)


def filter_matching(
    queryset: QuerySet[M], terms: list[QueryTerm], *, id_above: int | None = None, id_below: int | None = None
) -> QuerySet[M]:
    """Narrow ``queryset`` to rows whose search document matches every term.

    ``id_above`` / ``id_below`` bound the match inside the index (FTS5 rowid range, PostgreSQL
    BitmapAnd with the primary key), so a search over the newest rows never reads every match.
    """
    if not terms:
        return queryset
    table = queryset.model._meta.db_table
    if table not in INDEXED_TABLES:
        raise ValueError(f"{table} has no search index")
    sqlite = connection.vendor == "sqlite"
    key = "rowid" if sqlite else "id"
    bounds, params = "", []
    if id_above is not None:
        bounds += f" AND {key} > %s"
        params.append(id_above)
    if id_below is not None:
        bounds += f" AND {key} < %s"
        params.append(id_below)
    if sqlite:
        fts = fts_table(table)
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s{bounds}"  # noqa: S608 - fixed names, params bound
        return queryset.filter(id__in=RawSQL(sql, [_fts5_match(terms), *params]))  # noqa: S611 - parameterised
    # search_tsv: a stored to_tsvector('simple', search_doc) with a GIN index (migration 0002).
    sql = f"SELECT id FROM {table} WHERE search_tsv @@ to_tsquery('simple', %s){bounds}"  # noqa: S608
    if bounds:
        # An id window (the note search): MATERIALIZED makes the GIN index drive; otherwise, with
        # ORDER BY id LIMIT outside, PostgreSQL may walk the primary key testing every row. Without
        # a window the planner is left free to start from the user's few visible rows instead.
        sql = f"WITH m AS MATERIALIZED ({sql}) SELECT id FROM m"  # noqa: S608 - fixed names, params bound
    return queryset.filter(id__in=RawSQL(sql, [_tsquery(terms), *params]))  # noqa: S611 - parameterised


def newest_matches(
    model: type[Model], terms: list[QueryTerm], *, below: int | None, limit: int
) -> tuple[list[int], bool]:
    """Ids of rows matching every term (below ``below``), read from the index alone.

    Returns up to ``limit`` ids, newest first, and whether they are all the matches there are.
    SQLite's FTS5 walks its rowids in descending order, so an incomplete answer still holds the
    newest matches. A GIN index returns matches in no useful order: on PostgreSQL an incomplete
    answer only says "many" (the ids are then not the newest); the CTE is read lazily, so that
    costs at most ``limit`` matching rows.
    """
    table = model._meta.db_table
    if table not in INDEXED_TABLES:
        raise ValueError(f"{table} has no search index")
    if connection.vendor == "sqlite":
        fts = fts_table(table)
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s"  # noqa: S608 - fixed names, params bound
        params: list[int | str] = [_fts5_match(terms)]
        if below is not None:
            sql += " AND rowid < %s"
            params.append(below)
        sql += " ORDER BY rowid DESC LIMIT %s"
    else:
        sql = (
            f"WITH m AS MATERIALIZED (SELECT id FROM {table} WHERE search_tsv @@ to_tsquery('simple', %s)) "  # noqa: S608
            "SELECT id FROM m"
        )
        params = [_tsquery(terms)]
        if below is not None:
            sql += " WHERE id < %s"
            params.append(below)
        sql += " LIMIT %s"
    params.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    complete = len(ids) <= limit
    ids = sorted(ids[:limit], reverse=True)
    return ids, complete
