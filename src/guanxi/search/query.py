"""Full-text matching on the precomputed search documents, with identical results on both engines."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL

from guanxi.core.pagination import Page
from guanxi.search.documents import QueryTerm

M = TypeVar("M", bound=Model)

# One visibility key of documents.scope: o<owner id>, t<team id>, u<user shared with>, s<team shared with>.
SCOPE_TOKEN = re.compile(r"[otus][0-9]+")

# The columns of those models that only search reads: pages that show a record defer them
# (PostgreSQL keeps a customer's document out of line, in TOAST: pages not read when deferred).
SEARCH_COLUMNS = ("search_doc", "search_scope")

# Models with a search_doc column and an index over it (FTS5 table on SQLite, GIN on PostgreSQL).
INDEXED_TABLES = ("customers_customer", "customers_contact", "engagement_interaction")


def fts_table(db_table: str) -> str:
    return f"{db_table}_fts"


def _fts5_match(terms: list[QueryTerm], scope: str | None = None) -> str:
    # Tokens are [a-z0-9] only (see documents.parse_query), quoting makes them literal FTS5 strings.
    # The column filters keep the user's words on the document and the visibility key on the scope.
    words = " ".join(f'"{t.token}"*' if t.prefix else f'"{t.token}"' for t in terms)
    match = f"search_doc : ({words})"
    if scope:
        keys = " OR ".join(f'"{key}"' for key in _scope_keys(scope))
        match += f" AND search_scope : ({keys})"
    return match


def _word(token: str) -> str:
    """A word of a tsquery literal, quoted. The stored tsvectors hold the documents' own words
    (search 0006), not the text parser's reading of them; tokens and scope keys are ``[a-z0-9]``
    only (``documents.parse_query``, ``SCOPE_TOKEN``)."""
    return f"'{token}'"


def _tsquery(terms: list[QueryTerm]) -> str:
    """A tsquery literal of the terms, all required."""
    return " & ".join(f"{_word(t.token)}:*" if t.prefix else _word(t.token) for t in terms)


# PostgreSQL tables with ``prefix_tsv``: each token's first two characters as words (search 0004).
PREFIX2_TABLES = ("customers_customer", "customers_contact")


def _pg_match(table: str, terms: list[QueryTerm], scope: str | None, params: list[int | str]) -> str:
    """The WHERE of a match on PostgreSQL. A 2-character prefix term (``cj``) is an exact word of
    ``prefix_tsv`` where the table has one — the same rows as ``cj:*`` on the document, without
    collecting every posting of every word that begins with it."""
    two = [t for t in terms if t.prefix and len(t.token) == 2] if table in PREFIX2_TABLES else []
    rest = [t for t in terms if t not in two]
    conditions = []
    if rest:
        params.append(_tsquery(rest))
        conditions.append("search_tsv @@ %s::tsquery")
    if two:
        params.append(" & ".join(_word(t.token) for t in two))
        conditions.append("prefix_tsv @@ %s::tsquery")
    return " AND ".join(conditions) + _pg_scope(scope, params)


def _scope_keys(scope: str) -> list[str]:
    """The keys of a scope: one (``o3``) or several separated by spaces, any of which may match
    (``u7 s2``: the rows of customers shared with user 7 or with team 2)."""
    keys = scope.split()
    if not keys or not all(SCOPE_TOKEN.fullmatch(key) for key in keys):
        raise ValueError(f"not a scope key: {scope!r}")
    return keys


def _pg_scope(scope: str | None, params: list[int | str]) -> str:
    if not scope:
        return ""
    params.append(" | ".join(_word(key) for key in _scope_keys(scope)))
    return " AND scope_tsv @@ %s::tsquery"


def filter_matching(
    queryset: QuerySet[M], terms: list[QueryTerm], *, scope: str | None = None, first: Window | None = None
) -> QuerySet[M]:
    """Narrow ``queryset`` to rows whose search document matches every term.

    ``scope`` (keys of ``documents.scope``: ``o<owner>``, ``t<team>``, or ``u<user> s<team>`` for
    shared customers — any of them) makes the index return only those rows, intersected inside
    the index.

    ``first`` (PostgreSQL, with a scope; see ``first_window``): only the first ``first.rows``
    matches in (sort_key, id) order, read at once. Those are all a first page sorted by name needs,
    unless the caller's other conditions drop so many that the page comes back short
    (``first_page`` then reads it again without the window). The index's matches are sorted where
    they are read, instead of each of thousands (a frequent prefix: "zh") being looked up again
    by primary key before the sort: at 1M customers 56 ms → 12 ms for a salesperson's contacts.
    """
    if not terms:
        return queryset
    table = queryset.model._meta.db_table
    if table not in INDEXED_TABLES:
        raise ValueError(f"{table} has no search index")
    if connection.vendor == "sqlite":
        fts = fts_table(table)
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s"  # noqa: S608 - fixed names, params bound
        return queryset.filter(id__in=RawSQL(sql, [_fts5_match(terms, scope)]))  # noqa: S611
    # search_tsv / scope_tsv / prefix_tsv: stored tsvectors, one GIN index over them (search 0002-4).
    params: list[int | str] = []
    where = _pg_match(table, terms, scope, params)
    if scope and first is not None:
        # Materialised first, so that the index drives: with ORDER BY … LIMIT beside it the
        # planner would walk the sort index instead, testing every customer's document.
        sql = (
            f"WITH m AS MATERIALIZED (SELECT id, sort_key FROM {table} WHERE {where}) "  # noqa: S608
            "SELECT id FROM m ORDER BY sort_key, id LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, first.rows])
            ids = [row[0] for row in cursor.fetchall()]
        first.saturated = len(ids) >= first.rows
        return queryset.filter(id__in=ids)
    sql = f"SELECT id FROM {table} WHERE {where}"  # noqa: S608 - fixed names, params bound
    if scope:
        # The index finds the few rows of the key(s) that match; left free, given a list of shared
        # customers' ids beside it, the planner reads those rows and tests each document instead.
        sql = f"WITH m AS MATERIALIZED ({sql}) SELECT id FROM m"  # noqa: S608 - as above
    return queryset.filter(id__in=RawSQL(sql, params))  # noqa: S611 - parameterised


@dataclass
class Window:
    """The first ``rows`` matches by name (``filter_matching(first=…)``); ``saturated``: the
    index had that many, so there may be more after them."""

    rows: int
    saturated: bool = False


def first_window(size: int) -> Window | None:
    """The window a first page of ``size`` rows sorted by name reads: on PostgreSQL twice the
    page, so that a few rows the other conditions drop still leave it full; SQLite's FTS5 returns
    rowids, not names (None)."""
    return Window(2 * size + 1) if connection.vendor == "postgresql" else None


def first_page(read: Callable[[Window | None], Page[M]], window: Window | None) -> Page[M]:
    """``read(window)``, a first page sorted by name, unless it came back short while the window
    was full: rows past the window may then belong on it, and the page is read again without it.
    The survivors of a window of the first N matches are exactly the first rows of the full
    result (everything outside the window sorts after it), so a page with a next one is right,
    and so is any page from a window that held every match."""
    page = read(window)
    if window is not None and window.saturated and page.next_cursor is None:
        return read(None)
    return page


def _needle(term: QueryTerm) -> str:
    """Documents are [a-z0-9] tokens joined by single spaces: with a space added at both ends, a
    prefix term matches where " <term>" occurs, a whole-token term where " <term> " does."""
    return f" {term.token}" if term.prefix else f" {term.token} "


def matches(document: str, terms: list[QueryTerm]) -> bool:
    """Whether one search document matches every term: the index's rule, in Python.

    Both engines split documents at the spaces; a prefix term matches a token it begins, any
    other term a whole token — a substring test on the space-padded document says exactly that.
    """
    padded = f" {document} "
    return all(_needle(t) in padded for t in terms)


def newest_matches(
    model: type[Model], terms: list[QueryTerm], *, scope: str | None = None, below: int | None, limit: int
) -> tuple[list[int], bool]:
    """Ids of rows matching every term (in ``scope``, below ``below``), read from the index alone.

    Returns up to ``limit`` ids, newest first, and whether they are all the matches there are.
    SQLite's FTS5 walks its rowids in descending order. PostgreSQL chooses between the GIN index
    (then sorts the few matches) and walking the primary key down (for a frequent word): its
    statistics on both tsvector columns make that choice a good one.
    """
    table = model._meta.db_table
    if table not in INDEXED_TABLES:
        raise ValueError(f"{table} has no search index")
    if connection.vendor == "sqlite":
        fts = fts_table(table)
        sql = f"SELECT rowid FROM {fts} WHERE {fts} MATCH %s"  # noqa: S608 - fixed names, params bound
        params: list[int | str] = [_fts5_match(terms, scope)]
        if below is not None:
            sql += " AND rowid < %s"
            params.append(below)
        sql += " ORDER BY rowid DESC LIMIT %s"
    else:
        return _pg_newest_matches(table, terms, scope=scope, below=below, limit=limit)
    params.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return ids[:limit], len(ids) <= limit


# PostgreSQL work_mem of a search: a prefix term (three initials, "lyx") gathers the rows of every
# word it begins into one bitmap, which at 4 MB (the default) turns lossy at 1M customers and makes
# the scan re-test ~17k rows (measured: 250 ms → 90 ms with 32 MB).
SEARCH_WORK_MEM = "32MB"


@contextmanager
def search_settings() -> Iterator[None]:
    """PostgreSQL: a search's queries run in one transaction with ``work_mem`` raised and JIT off.

    JIT compiles a query whose estimated cost is high — a frequent word's estimate is, however few
    rows the visibility key leaves — and the compilation took ~50 ms of a query that runs in 10 ms.
    Both settings are transaction-local (``set_config(…, true)``). SQLite: nothing to set."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _set_local(cursor, work_mem=SEARCH_WORK_MEM, jit="off")
        yield


def _set_local(cursor: Any, **settings: str) -> None:
    """PostgreSQL: these settings until the end of the current transaction."""
    calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
    cursor.execute(f"SELECT {calls}", [v for item in settings.items() for v in item])


# Above this many matches a word is frequent: the newest are found by walking the primary key down.
PG_PROBE = 400


def _pg_newest_matches(
    table: str, terms: list[QueryTerm], *, scope: str | None, below: int | None, limit: int
) -> tuple[list[int], bool]:
    """PostgreSQL: the GIN index always drives (MATERIALIZED). Left free, with ORDER BY id DESC
    LIMIT the planner walks the primary key testing each row, which takes seconds when a prefix
    query matches nothing (measured at 10M interactions: 5 s to 56 s). With a visibility key the
    index intersects the word and the key and the few matches are sorted; without one (an
    administrator) a lazy probe reads at most PG_PROBE matches, and only a frequent word, whose
    newest matches are near the top, walks the primary key."""
    params: list[int | str] = []
    where = _pg_match(table, terms, scope, params)
    outer, outer_params = "", []
    if below is not None:
        outer, outer_params = " WHERE id < %s", [below]
    cte = f"WITH m AS MATERIALIZED (SELECT id FROM {table} WHERE {where}) SELECT id FROM m{outer}"  # noqa: S608
    with connection.cursor() as cursor:
        if scope:
            # MATERIALIZED alone does not make the index drive: for a frequent word ("拜访", 14 % of
            # 10M interactions) beside visibility keys whose selectivity the planner cannot
            # estimate (330 shared customers' keys, when each had its own), it chose a sequential
            # scan of the table (27 s, for 662 rows the index intersects in 10 ms). The scan is
            # switched off for this statement only.
            with transaction.atomic():
                _set_local(cursor, enable_seqscan="off")
                cursor.execute(f"{cte} ORDER BY id DESC LIMIT %s", [*params, *outer_params, limit + 1])
                ids = [row[0] for row in cursor.fetchall()]
                cursor.execute("SET LOCAL enable_seqscan TO DEFAULT")
            return ids[:limit], len(ids) <= limit
        cursor.execute(f"{cte} LIMIT %s", [*params, *outer_params, PG_PROBE + 1])
        probe = [row[0] for row in cursor.fetchall()]
        if len(probe) <= PG_PROBE:
            probe.sort(reverse=True)
            return probe[:limit], len(probe) <= limit
        bound = " AND id < %s" if below is not None else ""
        sql = f"SELECT id FROM {table} WHERE {where}{bound} ORDER BY id DESC LIMIT %s"  # noqa: S608
        cursor.execute(sql, [*params, *outer_params, limit + 1])
        ids = [row[0] for row in cursor.fetchall()]
        return ids[:limit], len(ids) <= limit
