"""Fast, deterministic bulk generation of benchmark data (10k … 1M customers).

The per-row services are far too slow for millions of rows, so rows are built here as plain tuples
and written with ``executemany`` in one transaction (SQLite) or ``COPY … FREEZE`` (PostgreSQL).
What the services would maintain is filled in from the generated rows themselves:

* search documents and pinyin sort keys come from the functions in ``guanxi.search`` (token
  functions of ``documents`` and ``pinyin.syllables``), with pinyin cached per name part; every
  ``verify_every``-th row is recomputed with the services' own functions and mismatches are counted;
* ``last_interaction_at``, ``last_order_at``, ``order_count`` and ``revenue_total`` are computed
  from the customer's generated interactions and (non-cancelled) orders;
* secondary indexes are dropped before the load and rebuilt after it, then the tables are analysed.

One audit event (customer.create) is written per customer so the customer page's timeline query
has rows to read; the per-interaction and per-order audit events the services write are not.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction

from guanxi.accounts.models import Role, Team, User
from guanxi.audit.models import AUDIT_ROW_FIELDS, AuditEvent
from guanxi.bench.scales import Scale
from guanxi.customers.models import Contact, ContactPoint, Customer, CustomerShare, Tag
from guanxi.customers.phones import normalise_phone
from guanxi.dataio.importing.bulkinsert import copy_rows
from guanxi.demo import fake, vocab
from guanxi.engagement.models import Interaction
from guanxi.sales.models import Order, OrderLine, Product
from guanxi.search import documents
from guanxi.search.pinyin import sort_key, sort_key_from, syllables

BENCH_PASSWORD = "guanxi-bench"  # noqa: S105 - the documented password of the generated bench users
TZ = ZoneInfo("Asia/Shanghai")
DAY = 86_400

STATUS = fake.Picker([("active", 58), ("prospect", 20), ("dormant", 13), ("lost", 6), ("archived", 3)])
RELATIONSHIP = fake.Picker([("end", 48), ("channel", 32), ("partner", 12), ("upstream", 8)])
LEAD_SOURCE = fake.Picker(
    [(s, w) for s, w in (("referral", 22), ("exhibition", 18), ("cold_call", 20), ("website", 16))]
    + [("advertising", 8), ("partner", 10), ("other", 6)]
)
SIZE = fake.Picker([("micro", 20), ("small", 40), ("medium", 28), ("large", 12)])
CREDIT = fake.Picker([("AAA", 10), ("AA", 25), ("A", 35), ("B", 20), ("C", 10), ("", 10)])
CONTACTS = fake.Picker([(1, 30), (2, 30), (3, 22), (4, 12), (5, 6)])
ORDER_STATUS = fake.Picker([("completed", 72), ("shipped", 10), ("confirmed", 12), ("cancelled", 6)])
LINES = fake.Picker([(1, 45), (2, 35), (3, 20)])
# (first day ago, span in days, skew exponent: >1 puts more contact near the start of the window)
INTERACTION_WINDOW = {
    "active": (1, 364, 1.5),
    "prospect": (1, 89, 1.0),
    "dormant": (120, 245, 1.0),
    "lost": (200, 165, 1.0),
    "archived": (250, 115, 1.0),
}
ORDER_WINDOW = {"active": (1, 364), "dormant": (150, 215), "lost": (250, 115)}
ACTIVITY = {"active": 1.0, "prospect": 0.35, "dormant": 0.5, "lost": 0.3, "archived": 0.2}
NOTES = [(channel, note) for channel, notes in vocab.NOTES.items() for note in notes]


class BenchError(RuntimeError):
    pass


# --- Statistics ---------------------------------------------------------------------------------


@dataclass
class TableStats:
    rows: int = 0
    seconds: float = 0.0  # time spent writing (executemany / COPY), not generating

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class GenerationStats:
    scale: str
    engine: str
    seed: int
    tables: dict[str, TableStats] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    index_seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0
    verified: int = 0
    mismatches: int = 0
    mismatch_example: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_rows"] = self.total_rows
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationStats:
        data = dict(data)
        data.pop("total_rows", None)
        data["tables"] = {k: TableStats(**v) for k, v in data.get("tables", {}).items()}
        return cls(**data)


# --- Table layouts ------------------------------------------------------------------------------


class TableSpec:
    """The columns the generator fills, plus a constant tail with the defaults of any other column."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        meta = model._meta
        self.table = meta.db_table
        self.columns = [meta.get_field(name).column for name in fields]  # type: ignore[union-attr]
        tail_columns, tail_values = [], []
        for f in meta.concrete_fields:
            if f.column in self.columns:
                continue
            default = f.get_default()
            if default is None and not f.null:
                raise BenchError(
                    f"{self.table}.{f.column} is NOT NULL without a default:"
                    " teach guanxi.bench.bulk to fill it"
                )
            tail_columns.append(f.column)
            tail_values.append(f.get_db_prep_save(default, connection))
        self.all_columns = self.columns + tail_columns
        self.tail = tuple(tail_values)

    def rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if not self.tail:
            return rows
        tail = self.tail
        return [r + tail for r in rows]


def _m2m(model: type[models.Model], name: str) -> type[models.Model]:
    through: type[models.Model] = model._meta.get_field(name).remote_field.through  # type: ignore[union-attr]
    return through


def table_specs() -> dict[str, TableSpec]:
    """Write order matters on engines that check foreign keys per statement: parents first."""
    return {
        "customer": TableSpec(
            Customer,
            [
                "id",
                "kind",
                "name",
                "short_name",
                "business_scope",
                "industry",
                "province",
                "city",
                "district",
                "address",
                "latitude",
                "longitude",
                "size",
                "phone",
                "email",
                "website",
                "financial_notes",
                "credit_rating",
                "lead_source",
                "relationship_type",
                "status",
                "founded_on",
                "notes",
                "owner",
                "team",
                "created_at",
                "updated_at",
                "last_interaction_at",
                "last_order_at",
                "order_count",
                "revenue_total",
                "search_doc",
                "search_scope",
                "sort_key",
            ],
        ),
        "customer_tag": TableSpec(_m2m(Customer, "tags"), ["id", "customer", "tag"]),
        "share": TableSpec(CustomerShare, ["id", "customer", "user", "team", "created_by", "created_at"]),
        "contact": TableSpec(
            Contact,
            [
                "id",
                "customer",
                "name",
                "gender",
                "title",
                "department",
                "wechat_id",
                "birthday",
                "birthday_is_lunar",
                "birthday_lunar_leap_month",
                "background",
                "hobbies",
                "preferences",
                "personality",
                "communication_style",
                "home_location",
                "work_location",
                "notes",
                "is_key",
                "created_at",
                "updated_at",
                "search_doc",
                "search_scope",
                "sort_key",
            ],
        ),
        "contact_point": TableSpec(
            ContactPoint, ["id", "contact", "kind", "raw", "value", "label", "is_ambiguous", "position"]
        ),
        "interaction": TableSpec(
            Interaction,
            [
                "id",
                "customer",
                "channel",
                "direction",
                "occurred_at",
                "duration_minutes",
                "summary",
                "outcome",
                "next_step",
                "next_step_due",
                "created_by",
                "created_at",
                "updated_at",
                "search_doc",
                "search_scope",
            ],
        ),
        "participant": TableSpec(_m2m(Interaction, "participants"), ["id", "interaction", "user"]),
        "interaction_contact": TableSpec(_m2m(Interaction, "contacts"), ["id", "interaction", "contact"]),
        "order": TableSpec(
            Order,
            [
                "id",
                "customer",
                "number",
                "ordered_on",
                "status",
                "amount",
                "cost",
                "uncosted",
                "notes",
                "created_by",
                "created_at",
            ],
        ),
        "order_line": TableSpec(OrderLine, ["id", "order", "product", "quantity", "unit_price", "amount"]),
        "audit": TableSpec(
            AuditEvent,
            AUDIT_ROW_FIELDS,
        ),
        **relation_specs(),
    }


# --- Writers ------------------------------------------------------------------------------------


class Writer(Protocol):
    vendor: str
    ts_suffix: str  # appended to "YYYY-MM-DD HH:MM:SS" (UTC): "" on SQLite (Django's format), "+00" on PG

    def begin(self, specs: Sequence[TableSpec]) -> None: ...

    def write(self, spec: TableSpec, rows: list[tuple[Any, ...]]) -> float: ...

    def finish(self, stats: GenerationStats, log: Callable[[str], None]) -> None: ...

    def abort(self) -> None: ...


class SqliteWriter:
    """One big transaction of ``executemany`` on the raw sqlite3 connection.

    ``fts`` chooses how the FTS5 tables are filled: "trigger" keeps the insert triggers (each row is
    tokenised as it is inserted), "rebuild" drops them for the load and runs FTS5's 'rebuild' after.
    """

    vendor = "sqlite"
    ts_suffix = ""

    def __init__(self, fts: str = "rebuild") -> None:
        if fts not in ("trigger", "rebuild"):
            raise BenchError(f"unknown FTS mode {fts!r}")
        self.fts = fts
        self.indexes: list[tuple[str, str]] = []
        self.triggers: list[tuple[str, str]] = []
        self.fts_tables: list[str] = []

    def begin(self, specs: Sequence[TableSpec]) -> None:
        connection.ensure_connection()
        raw = connection.connection
        self.raw = raw
        tables = [s.table for s in specs]
        marks = ",".join("?" * len(tables))
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA cache_size=-1000000")
        raw.execute("PRAGMA temp_store=MEMORY")
        self.indexes = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            tables,
        ).fetchall()
        self.fts_tables = [
            name
            for (name,) in raw.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
            )
        ]
        raw.execute("BEGIN IMMEDIATE")
        for name, _sql in self.indexes:
            raw.execute(f'DROP INDEX "{name}"')
        if self.fts == "rebuild":
            self.triggers = raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='trigger'"
                " AND name LIKE '%\\_fts\\_ai' ESCAPE '\\'"
                f" AND tbl_name IN ({marks})",
                tables,
            ).fetchall()
            for name, _sql in self.triggers:
                raw.execute(f'DROP TRIGGER "{name}"')

    def write(self, spec: TableSpec, rows: list[tuple[Any, ...]]) -> float:
        started = time.perf_counter()
        cols = ", ".join(f'"{c}"' for c in spec.all_columns)
        marks = ", ".join("?" * len(spec.all_columns))
        self.raw.executemany(f'INSERT INTO "{spec.table}" ({cols}) VALUES ({marks})', spec.rows(rows))
        return time.perf_counter() - started

    def finish(self, stats: GenerationStats, log: Callable[[str], None]) -> None:
        raw = self.raw
        started = time.perf_counter()
        for name, sql in self.indexes:
            t = time.perf_counter()
            raw.execute(sql)
            stats.index_seconds[name] = time.perf_counter() - t
        stats.phases["indexes"] = time.perf_counter() - started
        log(f"    indexes rebuilt in {stats.phases['indexes']:.1f} s")
        if self.fts == "rebuild":
            started = time.perf_counter()
            for table in self.fts_tables:
                t = time.perf_counter()
                raw.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
                stats.index_seconds[table] = time.perf_counter() - t
            for _name, sql in self.triggers:
                raw.execute(sql)
            stats.phases["fts_rebuild"] = time.perf_counter() - started
            log(f"    FTS5 rebuilt in {stats.phases['fts_rebuild']:.1f} s")
        started = time.perf_counter()
        raw.execute("COMMIT")
        stats.phases["commit"] = time.perf_counter() - started
        started = time.perf_counter()
        raw.execute("ANALYZE")
        raw.execute("PRAGMA journal_mode=WAL")
        stats.phases["analyze"] = time.perf_counter() - started
        log(f"    ANALYZE in {stats.phases['analyze']:.1f} s")
        connection.close()

    def abort(self) -> None:
        try:
            self.raw.execute("ROLLBACK")
        finally:
            connection.close()


class PostgresWriter:
    """COPY … FREEZE into tables truncated in the same transaction; indexes and constraints rebuilt after.

    Freezing at load sets the hint bits and the visibility map, so no VACUUM is needed afterwards for
    index-only scans; the primary keys stay in place (ids arrive in order, cheap to maintain).
    """

    vendor = "postgresql"
    ts_suffix = "+00"

    def __init__(self, freeze: bool = True, parallel: int | None = None) -> None:
        self.freeze = freeze
        # Index builds after the load run on this many connections at once (GIN builds are single-threaded).
        self.parallel = parallel if parallel is not None else min(4, os.cpu_count() or 1)
        self.indexes: list[tuple[str, str]] = []
        self.constraints: list[tuple[str, str, str, str]] = []
        self.tables: list[str] = []

    def begin(self, specs: Sequence[TableSpec]) -> None:
        self.tables = [s.table for s in specs]
        self.table_of = {key: spec.table for key, spec in table_specs().items()}
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.cursor = connection.cursor()
        cur = self.cursor
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables) + " CASCADE")
        cur.execute(
            """
            SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = ANY(%s) AND c.contype IN ('f', 'u')
            ORDER BY c.contype, c.conname
            """,
            [self.tables],
        )
        self.constraints = list(cur.fetchall())
        cur.execute(
            """
            SELECT ic.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE t.relname = ANY(%s) AND NOT i.indisprimary
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
            ORDER BY ic.relname
            """,
            [self.tables],
        )
        self.indexes = list(cur.fetchall())
        for name, table, _definition, _kind in self.constraints:  # 'f' sorts before 'u'
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            cur.execute(f'DROP INDEX "{name}"')

    def write(self, spec: TableSpec, rows: list[tuple[Any, ...]]) -> float:
        started = time.perf_counter()
        cols = ", ".join(f'"{c}"' for c in spec.all_columns)
        options = " WITH (FREEZE)" if self.freeze else ""
        copy_rows(self.cursor, f'COPY "{spec.table}" ({cols}) FROM STDIN{options}', rows, spec.tail)
        return time.perf_counter() - started

    def finish(self, stats: GenerationStats, log: Callable[[str], None]) -> None:
        cur = self.cursor
        for table in self.tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
            )
        started = time.perf_counter()
        self.atomic.__exit__(None, None, None)  # the data is in; indexes next (a failure leaves no meta.json)
        stats.phases["commit"] = time.perf_counter() - started

        rows = dict.fromkeys(self.tables, 0)
        for key, table_stats in stats.tables.items():
            if key in self.table_of:
                rows[self.table_of[key]] = rows.get(self.table_of[key], 0) + table_stats.rows
        uniques = [c for c in self.constraints if c[3] == "u"]
        foreign = [c for c in self.constraints if c[3] == "f"]
        jobs: list[tuple[str, str, float]] = [
            (name, definition, _cost(definition, rows)) for name, definition in self.indexes
        ]
        jobs += [
            (name, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}', rows.get(_bare(table), 0))
            for name, table, definition, _kind in uniques
        ]
        jobs.sort(key=lambda job: -job[2])  # biggest first, so the connections finish together
        started = time.perf_counter()
        self._run_parallel([(name, sql) for name, sql, _cost_ in jobs], stats)
        stats.phases["indexes"] = time.perf_counter() - started
        log(f"    indexes rebuilt in {stats.phases['indexes']:.1f} s on {self.parallel} connections")
        started = time.perf_counter()
        with connection.cursor() as c:
            c.execute("SET maintenance_work_mem = '1GB'")
            for name, table, definition, _kind in foreign:
                began = time.perf_counter()
                c.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
                stats.index_seconds[name] = time.perf_counter() - began
        stats.phases["constraints"] = time.perf_counter() - started
        log(f"    foreign keys restored in {stats.phases['constraints']:.1f} s")
        started = time.perf_counter()
        if self.freeze:
            analyse = [(t, f'ANALYZE "{t}"') for t in self.tables]
        else:
            analyse = [(t, f'VACUUM (FREEZE, ANALYZE) "{t}"') for t in self.tables]
        self._run_parallel(analyse, None)
        stats.phases["analyze"] = time.perf_counter() - started
        log(f"    ANALYZE in {stats.phases['analyze']:.1f} s")

    def _run_parallel(self, jobs: list[tuple[str, str]], stats: GenerationStats | None) -> None:
        """Run statements on ``self.parallel`` connections of their own (autocommit)."""
        import psycopg

        db = connection.settings_dict
        params = {
            "dbname": db["NAME"],
            "user": db.get("USER") or None,
            "password": db.get("PASSWORD") or None,
            "host": db.get("HOST") or None,
            "port": db.get("PORT") or None,
        }
        pending = list(reversed(jobs))
        lock = threading.Lock()
        errors: list[BaseException] = []

        def worker() -> None:
            with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '1GB'")
                while True:
                    with lock:
                        if not pending or errors:
                            return
                        name, sql = pending.pop()
                    t = time.perf_counter()
                    try:
                        conn.execute(sql)
                    except BaseException as exc:
                        with lock:
                            errors.append(exc)
                        return
                    if stats is not None:
                        with lock:
                            stats.index_seconds[name] = time.perf_counter() - t

        threads = [threading.Thread(target=worker) for _ in range(max(1, self.parallel))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def abort(self) -> None:
        import sys

        self.atomic.__exit__(*sys.exc_info())


def _bare(table: str) -> str:
    return table.strip('"').split(".")[-1].strip('"')


def _cost(definition: str, rows: dict[str, int]) -> float:
    """A rough cost for ordering index builds: rows of the table, ×20 for a GIN over a search document."""
    table = _bare(definition.split(" ON ", 1)[1].split()[0]) if " ON " in definition else ""
    return rows.get(table, 0) * (20 if "USING gin" in definition else 1)


def writer_for_connection(**options: Any) -> Writer:
    if connection.vendor == "sqlite":
        return SqliteWriter(**options)
    if connection.vendor == "postgresql":
        return PostgresWriter(**options)
    raise BenchError(f"unsupported database: {connection.vendor}")


# --- Search documents ---------------------------------------------------------------------------


class DocMaker:
    """Search documents and sort keys built from the token functions of guanxi.search, with caches.

    A company name's pinyin is the concatenation of its parts' pinyin (see guanxi.demo.vocab), so
    each part is read once; person names, short names and note texts come from small vocabularies
    and are cached whole.
    """

    def __init__(self) -> None:
        self._part_syl: dict[str, list[str]] = {}
        self._part_cjk: dict[str, set[str]] = {}
        self._name: dict[tuple[str, bool], frozenset[str]] = {}
        self._texts: dict[tuple[str, ...], frozenset[str]] = {}
        self._person_sort: dict[str, str] = {}
        self._notes: dict[tuple[str, str, str], str] = {}

    def _syl(self, part: str) -> list[str]:
        syl = self._part_syl.get(part)
        if syl is None:
            syl = self._part_syl[part] = syllables(part)
        return syl

    def _cjk(self, part: str) -> set[str]:
        tokens = self._part_cjk.get(part)
        if tokens is None:
            tokens = self._part_cjk[part] = documents.cjk_tokens(part)
        return tokens

    def name(self, text: str, person: bool = False) -> frozenset[str]:
        key = (text, person)
        tokens = self._name.get(key)
        if tokens is None:
            tokens = self._name[key] = frozenset(documents.name_tokens(text, person=person))
        return tokens

    def texts(self, *texts: str) -> frozenset[str]:
        tokens = self._texts.get(texts)
        if tokens is None:
            acc: set[str] = set()
            for t in texts:
                acc |= documents.text_tokens(t)
            tokens = self._texts[texts] = frozenset(acc)
        return tokens

    def company_name(self, parts: Sequence[str]) -> tuple[set[str], str]:
        """Tokens of ``documents.name_tokens(name)`` and ``pinyin.sort_key(name)`` for a CJK-only name."""
        syl: list[str] = []
        tokens: set[str] = set()
        for i, part in enumerate(parts):
            syl += self._syl(part)
            tokens |= self._cjk(part)
            if i:
                tokens |= documents.cjk_tokens(parts[i - 1][-1] + part[0])
        tokens |= documents.pinyin_tokens(syl)
        return tokens, sort_key_from(syl, "".join(parts))

    def person_sort_key(self, name: str) -> str:
        key = self._person_sort.get(name)
        if key is None:
            key = self._person_sort[name] = sort_key(name, person=True)
        return key

    def note(self, summary: str, outcome: str, next_step: str) -> str:
        key = (summary, outcome, next_step)
        doc = self._notes.get(key)
        if doc is None:
            doc = self._notes[key] = documents.build(texts=[summary, outcome, next_step])
        return doc


def _join(tokens: Iterable[str]) -> str:
    return " ".join(sorted(tokens))


# --- The generator ------------------------------------------------------------------------------


@dataclass
class BaseObjects:
    team_ids: list[int]
    admin_id: int
    manager_id: int
    sales: list[tuple[int, int]]  # (user id, team id)
    product_prices: list[tuple[int, int]]  # (product id, price in cents)
    tag_ids: list[int]


def create_base_objects(scale: Scale, rng: random.Random) -> BaseObjects:
    """Teams, users (admin, manager, salespeople s001…), products and tags, through the ORM (few rows)."""
    if Customer.objects.exists() or User.objects.exists():
        raise BenchError("the bench database is not empty / 基准数据库不是空的")
    password = make_password(BENCH_PASSWORD)  # hashed once, shared by every generated user
    east = Team.objects.create(name="华东组")
    north = Team.objects.create(name="华北组")
    admin = User.objects.create(
        username="admin", role=Role.ADMIN, is_staff=True, display_name="管理员", password=password
    )
    manager = User.objects.create(
        username="manager", role=Role.MANAGER, team=east, display_name="赵经理", password=password
    )
    Team.objects.filter(pk__in=[east.pk, north.pk]).update(manager=manager)
    User.objects.bulk_create(
        [
            User(
                username=f"s{i:03d}",
                role=Role.SALESPERSON,
                team=east if i % 2 else north,
                display_name=fake.person_name(rng)[0],
                password=password,
            )
            for i in range(1, scale.salespeople + 1)
        ]
    )
    sales = list(User.objects.filter(role=Role.SALESPERSON).order_by("username").values_list("id", "team_id"))
    Product.objects.bulk_create(
        [
            Product(code=code, name=name, category=category, unit=unit, price=price)
            for code, name, category, unit, price in vocab.PRODUCTS
        ]
    )
    products = [
        (pk, round(float(price) * 100))
        for pk, price in Product.objects.order_by("code").values_list("id", "price")
    ]
    Tag.objects.bulk_create([Tag(name=n) for n in vocab.TAGS])
    tag_ids = list(Tag.objects.filter(name__in=vocab.TAGS).order_by("name").values_list("id", flat=True))
    return BaseObjects(
        team_ids=[east.pk, north.pk],
        admin_id=admin.pk,
        manager_id=manager.pk,
        sales=[(u, t) for u, t in sales],
        product_prices=products,
        tag_ids=tag_ids,
    )


def _allocate(rng: random.Random, weights: list[float], total: int) -> list[int]:
    """Split ``total`` into integer counts proportional to ``weights`` (exact sum, stochastic rounding)."""
    s = sum(weights)
    if total <= 0 or s <= 0:
        return [0] * len(weights)
    scale = total / s
    counts = [int(w * scale + rng.random()) for w in weights]
    diff = total - sum(counts)
    positive = [i for i, w in enumerate(weights) if w > 0]
    while diff:
        i = positive[rng.randrange(len(positive))]
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 0:
            counts[i] -= 1
            diff += 1
    return counts


class BulkGenerator:
    def __init__(
        self,
        scale: Scale,
        writer: Writer,
        *,
        seed: int = 2026,
        chunk: int = 5000,
        today: dt.date | None = None,
        verify_every: int = 500,
        log: Callable[[str], None] = print,
    ) -> None:
        self.scale = scale
        self.writer = writer
        self.seed = seed
        self.chunk = chunk
        self.today = today or dt.datetime.now(TZ).date()
        self.verify_every = verify_every
        self.log = log
        self.rng = random.Random(seed)
        self.docs = DocMaker()
        self.specs = table_specs()
        self.relations = RelationRows(seed)
        self.stats = GenerationStats(scale=scale.name, engine=writer.vendor, seed=seed)
        self.stats.tables = {name: TableStats() for name in self.specs}
        midnight = dt.datetime.combine(self.today, dt.time(0, 0), tzinfo=TZ)
        self.midnight = int(midnight.timestamp())  # epoch seconds of today's local midnight
        self._day_prefix: dict[int, str] = {}
        self._dates: dict[int, str] = {}
        self._numbers: dict[int, int] = {}
        self._landlines: dict[str, list[tuple[str, str, str, bool]]] = {}
        self.ids = dict.fromkeys(self.specs, 0)
        self._order_days: dict[int, tuple[str, str, str]] = {}
        self.notes = [
            (
                channel,
                summary,
                outcome,
                step,
                self.docs.note(summary, outcome, step),
                60 if channel == "visit" else None,
            )
            for channel, (summary, outcome, step) in NOTES
        ]

    # -- formatting helpers --

    def ts(self, epoch: int) -> str:
        """An epoch second as the engine's UTC timestamp text."""
        day, sec = divmod(epoch, DAY)
        prefix = self._day_prefix.get(day)
        if prefix is None:
            prefix = self._day_prefix[day] = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat() + " "
        hour, rest = divmod(sec, 3600)
        return f"{prefix}{hour:02d}:{rest // 60:02d}:{rest % 60:02d}{self.writer.ts_suffix}"

    def date(self, days_ago: int) -> str:
        text = self._dates.get(days_ago)
        if text is None:
            text = self._dates[days_ago] = (self.today - dt.timedelta(days=days_ago)).isoformat()
        return text

    def landline_point(self, city: vocab.City) -> tuple[str, str, str, bool]:
        """A landline from a per-city pool normalised by the real normalise_phone (shared switchboards)."""
        pool = self._landlines.get(city.name)
        if pool is None:
            rng = random.Random(f"{self.seed}-{city.name}")
            pool = []
            for _ in range(min(200, 20 + self.scale.customers // 500)):
                raw = fake.landline(rng, city)
                p = normalise_phone(raw)
                pool.append((raw, p.value, p.label, p.ambiguous))
            self._landlines[city.name] = pool
        return pool[self.rng.randrange(len(pool))]

    def order_day(self, days_ago: int) -> tuple[str, str, str]:
        """Order-number prefix, date and creation time of an order placed ``days_ago`` days ago."""
        cached = self._order_days.get(days_ago)
        if cached is None:
            day = self.today - dt.timedelta(days=days_ago)
            cached = (
                f"SO{day:%Y%m%d}-",
                day.isoformat(),
                self.ts(self.midnight - days_ago * DAY + 10 * 3600),
            )
            self._order_days[days_ago] = cached
        return cached

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    # -- the run --

    def run(self) -> GenerationStats:
        started = time.perf_counter()
        t = time.perf_counter()
        base = create_base_objects(self.scale, self.rng)
        self.base = base
        self.stats.phases["base_objects"] = time.perf_counter() - t
        specs = list(self.specs.values())
        self.writer.begin(specs)
        try:
            n = self.scale.customers
            gen_seconds = 0.0
            next_report = 0.1
            for start in range(0, n, self.chunk):
                end = min(n, start + self.chunk)
                t = time.perf_counter()
                rows = self._chunk(start, end)
                gen_seconds += time.perf_counter() - t
                for name, table_rows in rows.items():
                    if table_rows:
                        seconds = self.writer.write(self.specs[name], table_rows)
                        self.stats.tables[name].rows += len(table_rows)
                        self.stats.tables[name].seconds += seconds
                if end / n >= next_report or end == n:
                    elapsed = time.perf_counter() - started
                    self.log(
                        f"    {end:>9,}/{n:,} customers, {self.stats.total_rows:,} rows, {elapsed:.0f} s"
                        f" ({self.stats.total_rows / elapsed:,.0f} rows/s)"
                    )
                    next_report += 0.1
            self.stats.phases["generate_python"] = gen_seconds
            self.stats.phases["write"] = sum(s.seconds for s in self.stats.tables.values())
            self.writer.finish(self.stats, self.log)
        except BaseException:
            self.writer.abort()
            raise
        self.stats.total_seconds = time.perf_counter() - started
        return self.stats

    def _chunk(self, start: int, end: int) -> dict[str, list[tuple[Any, ...]]]:
        rng = self.rng
        rand = rng.random
        randrange = rng.randrange
        scale = self.scale
        base = self.base
        docs = self.docs
        ts = self.ts
        n = scale.customers
        out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in self.specs}
        customers_out, tags_out, shares_out = out["customer"], out["customer_tag"], out["share"]
        contacts_out, points_out = out["contact"], out["contact_point"]
        inter_out, part_out, ic_out = out["interaction"], out["participant"], out["interaction_contact"]
        orders_out, lines_out, audit_out = out["order"], out["order_line"], out["audit"]
        ids = self.ids
        iid, pid, icid = ids["interaction"], ids["participant"], ids["interaction_contact"]
        oid, lid = ids["order"], ids["order_line"]
        notes, n_notes = self.notes, len(self.notes)
        products, n_products = base.product_prices, len(base.product_prices)
        numbers = self._numbers
        date = self.date
        lognormvariate = rng.lognormvariate
        work_start = self.midnight + 8 * 3600

        # 1. customer attributes and weights
        people = []
        for _ in range(start, end):
            status = STATUS(rng)
            weight = min(rng.paretovariate(1.16), 500.0)  # Pareto: ~20 % of customers bring ~80 % of revenue
            never = rand() < (0.25 if status == "prospect" else 0.04)
            activity = 0.0 if never else ACTIVITY[status] * (1 + math.sqrt(weight))
            ordering = {"active": 1.0, "dormant": 0.4, "lost": 0.15}.get(status, 0.0) * math.sqrt(weight)
            people.append((status, weight, activity, ordering))
        target_i = scale.interactions * end // n - scale.interactions * start // n
        target_o = scale.orders * end // n - scale.orders * start // n
        n_inter = _allocate(rng, [p[2] for p in people], target_i)
        n_orders = _allocate(rng, [p[3] for p in people], target_o)

        verify = self.verify_every
        for k, (status, weight, _activity, _ordering) in enumerate(people):
            cid = start + k + 1
            self.ids["customer"] = cid
            owner_id, team_id = base.sales[randrange(len(base.sales))]
            # Sharing is drawn first: a shared customer's rows carry its grantee's key (documents.scope).
            r = rand()
            share_user = share_team = None
            if r < 0.005:
                other = base.sales[randrange(len(base.sales))][0]
                share_user = other if other != owner_id else None
            elif r < 0.0055:
                share_team = team_id
            keys = documents.scope(owner_id, team_id, shared_users=[share_user], shared_teams=[share_team])
            city = fake.CITY(rng)
            district = city.districts[randrange(len(city.districts))]
            created_epoch = self.midnight - (30 + randrange(1500)) * DAY + 9 * 3600 + randrange(9 * 3600)
            created = ts(created_epoch)
            person = rand() < 0.1
            relationship = RELATIONSHIP(rng)

            # 2. contacts
            contact_ids: list[int] = []
            if person:
                name, gender = fake.person_name(rng)
                phone = fake.mobile(rng)
                short = email = website = industry = scope = size = credit = finance = ""
                tokens = set(docs.name(name, True))
                skey = docs.person_sort_key(name)
                contact_specs = [(name, gender, "", "", phone)]
            else:
                company = fake.company_name(rng, city)
                name = company.name
                short = company.brand if rand() < 0.7 else company.brand + company.trade
                industry = company.industry
                scope = vocab.INDUSTRY_SCOPES.get(industry, "")
                size = "large" if weight > 40 else SIZE(rng)
                credit = CREDIT(rng)
                domain = fake.company_domain(rng, company)
                phone = fake.landline(rng, city) if rand() < 0.75 else ""
                email = ("info@" + domain) if rand() < 0.4 else ""
                website = ("www." + domain) if rand() < 0.5 else ""
                finance = f"年营业额约{randrange(3, 900) * 10}万元" if rand() < 0.3 else ""
                tokens, skey = docs.company_name(company.parts)
                tokens |= docs.name(short)
                count = CONTACTS(rng) + (1 if weight > 10 else 0) + (1 if weight > 60 else 0)
                contact_specs = []
                for _ in range(count):
                    cname, cgender = fake.person_name(rng)
                    contact_specs.append((cname, cgender, domain, "", ""))
            if phone:
                tokens |= documents.digit_tokens(phone)
            if email:
                tokens |= documents.email_tokens(email)
            tokens |= docs.texts(city.province, city.name, district)
            doc = _join(tokens)
            if verify and cid % verify == 0:
                self._verify_customer(
                    doc,
                    skey,
                    name=name,
                    short_name=short,
                    kind="person" if person else "company",
                    phone=phone,
                    email=email,
                    province=city.province,
                    city=city.name,
                    district=district,
                )

            for ci, (cname, cgender, domain, _t, preset_phone) in enumerate(contact_specs):
                contact_id = self.next_id("contact")
                contact_ids.append(contact_id)
                if person:
                    title = department = ""
                    is_key = True
                else:
                    title, department, is_key = vocab.TITLES[randrange(6 if ci == 0 else len(vocab.TITLES))]
                    is_key = is_key or ci == 0
                wechat = fake.wechat_id(rng, cname) if rand() < 0.6 else ""
                birthday, lunar = None, False
                if rand() < 0.7:
                    year = 1962 + randrange(35)
                    if rand() < 0.2:
                        month = 1 + randrange(12)  # lunar month/day; day 29 exists in every lunar month
                        day = 1 + randrange(28 if month == 2 else 29)  # and must be a valid date too
                        birthday, lunar = f"{year}-{month:02d}-{day:02d}", True
                    else:
                        birthday = (dt.date(year, 1, 1) + dt.timedelta(days=randrange(365))).isoformat()
                points = []
                mobile = preset_phone or (fake.mobile(rng) if rand() < 0.95 else "")
                if mobile:
                    points.append((mobile, "+86" + mobile, "mobile", False))
                if not person and rand() < 0.3:
                    points.append(self.landline_point(city))
                emails = [fake.person_email(rng, cname, domain or None)] if rand() < 0.6 else []
                ctokens = set(docs.name(cname, True))
                for raw, value, _label, _amb in points:
                    ctokens |= documents.digit_tokens(raw)
                    ctokens |= documents.digit_tokens(value)
                for e in emails:
                    ctokens |= documents.email_tokens(e.lower())
                ctokens |= docs.texts(title, department)
                if wechat:
                    ctokens |= documents.text_tokens(wechat)
                cdoc = _join(ctokens)
                if verify and contact_id % verify == 0:
                    self._verify_contact(cdoc, cname, wechat, title, department, points, emails)
                contacts_out.append(
                    (
                        contact_id,
                        cid,
                        cname,
                        cgender,
                        title,
                        department,
                        wechat,
                        birthday,
                        lunar,
                        False,
                        "",
                        vocab.HOBBIES[randrange(len(vocab.HOBBIES))] if rand() < 0.6 else "",
                        vocab.PREFERENCES[randrange(len(vocab.PREFERENCES))] if rand() < 0.4 else "",
                        vocab.PERSONALITIES[randrange(len(vocab.PERSONALITIES))] if rand() < 0.5 else "",
                        "",
                        "",
                        "",
                        "",
                        is_key,
                        created,
                        created,
                        cdoc,
                        keys,
                        docs.person_sort_key(cname),
                    )
                )
                for pos, (raw, value, label, amb) in enumerate(points):
                    points_out.append(
                        (self.next_id("contact_point"), contact_id, "phone", raw, value, label, amb, pos)
                    )
                for j, e in enumerate(emails, start=len(points)):
                    points_out.append(
                        (self.next_id("contact_point"), contact_id, "email", e, e.lower(), "", False, j)
                    )

            # 3. interactions (hot loop: local counters, int(rand() * n) instead of randrange)
            last_interaction = None
            count = n_inter[k]
            if count:
                first, span, skew = INTERACTION_WINDOW[status]
                latest = 0
                n_contacts = len(contact_ids)
                for _ in range(count):
                    days = first + int(span * rand() ** skew)
                    epoch = work_start - days * DAY + int(rand() * 39_600)  # 08:00–19:00 local
                    if epoch > latest:
                        latest = epoch
                    channel, summary, outcome, next_step, note_doc, duration = notes[int(rand() * n_notes)]
                    iid += 1
                    when = ts(epoch)
                    inter_out.append(
                        (
                            iid,
                            cid,
                            channel,
                            "in" if rand() < 0.25 else "out",
                            when,
                            duration,
                            summary,
                            outcome,
                            next_step,
                            date(days - 7 if days > 7 else 0) if next_step else None,
                            owner_id,
                            when,
                            when,
                            note_doc,
                            keys,
                        )
                    )
                    pid += 1
                    part_out.append((pid, iid, owner_id))
                    if n_contacts and rand() < 0.6:
                        icid += 1
                        ic_out.append((icid, iid, contact_ids[int(rand() * n_contacts)]))
                last_interaction = ts(latest)

            # 4. orders (revenue ∝ weight: more orders and bigger orders for heavier customers)
            revenue = order_count = 0
            last_order_days = None
            count = n_orders[k]
            if count:
                first, span = ORDER_WINDOW.get(status, (1, 364))
                size_factor = 6000.0 * math.sqrt(weight) * (2.0 if relationship == "channel" else 1.0)
                for _ in range(count):
                    days = first + int(rand() * span)
                    order_status = ORDER_STATUS(rng)
                    oid += 1
                    target = size_factor * lognormvariate(0, 0.5)
                    lines = LINES(rng)
                    amount = 0
                    for _ in range(lines):
                        product_id, price = products[int(rand() * n_products)]
                        unit = price if rand() < 0.7 else price * 9 // 10
                        qty = max(1, min(5000, round(target / lines / unit * 100)))
                        line_amount = qty * unit
                        amount += line_amount
                        lid += 1
                        lines_out.append((lid, oid, product_id, str(qty), _money(unit), _money(line_amount)))
                    prefix, on, at = self.order_day(days)
                    seq = numbers.get(days, 0) + 1
                    numbers[days] = seq
                    orders_out.append(
                        (
                            oid,
                            cid,
                            f"{prefix}{seq:04d}",
                            on,
                            order_status,
                            _money(amount),
                            "0",  # the generated products have no unit cost: all of it is uncosted
                            _money(amount),
                            "",
                            owner_id,
                            at,
                        )
                    )
                    if order_status != "cancelled":
                        revenue += amount
                        order_count += 1
                        if last_order_days is None or days < last_order_days:
                            last_order_days = days

            # 5. the customer row, tags, shares, audit
            lat = f"{city.lat + (rand() - 0.5) * 0.16:.6f}"
            lon = f"{city.lon + (rand() - 0.5) * 0.16:.6f}"
            road = vocab.ROADS[randrange(len(vocab.ROADS))]
            customers_out.append(
                (
                    cid,
                    "person" if person else "company",
                    name,
                    short,
                    scope,
                    industry,
                    city.province,
                    city.name,
                    district,
                    f"{city.name}市{district}{road}{1 + randrange(998)}号",
                    lat,
                    lon,
                    size,
                    phone,
                    email,
                    website,
                    finance,
                    credit,
                    LEAD_SOURCE(rng),
                    relationship,
                    status,
                    None
                    if person
                    else f"{1988 + randrange(35)}-{1 + randrange(12):02d}-{1 + randrange(28):02d}",
                    "",
                    owner_id,
                    team_id,
                    created,
                    created,
                    last_interaction,
                    None if last_order_days is None else self.date(last_order_days),
                    order_count,
                    _money(revenue),
                    doc,
                    keys,
                    skey,
                )
            )
            if rand() < 0.35:
                for tag_id in rng.sample(base.tag_ids, 1 + (rand() < 0.3)):
                    tags_out.append((self.next_id("customer_tag"), cid, tag_id))
            if share_user is not None or share_team is not None:
                shares_out.append((self.next_id("share"), cid, share_user, share_team, owner_id, created))
            audit_out.append(
                (
                    self.next_id("audit"),
                    created,
                    owner_id,
                    "import",
                    "customer.create",
                    "customer",
                    cid,
                    name[:200],
                    cid,
                    json.dumps({"name": [None, name]}, ensure_ascii=False),
                )
            )
        ids["interaction"], ids["participant"], ids["interaction_contact"] = iid, pid, icid
        ids["order"], ids["order_line"] = oid, lid
        self.relations.add(self, out)
        return out

    # -- verification against the services' own functions --

    def _mismatch(self, what: str, ours: str, theirs: str) -> None:
        self.stats.verified += 1
        if ours != theirs:
            self.stats.mismatches += 1
            if not self.stats.mismatch_example:
                self.stats.mismatch_example = f"{what}: ours={ours[:200]!r} services={theirs[:200]!r}"

    def _verify_customer(self, doc: str, skey: str, **fields: Any) -> None:
        from guanxi.customers.services import customer_search_doc

        customer = Customer(**fields)
        self._mismatch(f"customer {fields['name']}", doc, customer_search_doc(customer))
        self._mismatch(
            f"customer sort key {fields['name']}",
            skey,
            sort_key(fields["name"], person=fields["kind"] == "person"),
        )

    def _verify_contact(
        self,
        doc: str,
        name: str,
        wechat: str,
        title: str,
        department: str,
        points: list[tuple[str, str, str, bool]],
        emails: list[str],
    ) -> None:
        from guanxi.customers.services import contact_search_doc

        contact = Contact(name=name, wechat_id=wechat, title=title, department=department)
        objs = [
            ContactPoint(kind="phone", raw=r, value=v, label=lbl, is_ambiguous=a) for r, v, lbl, a in points
        ]
        objs += [ContactPoint(kind="email", raw=e, value=e.lower()) for e in emails]
        self._mismatch(f"contact {name}", doc, contact_search_doc(contact, objs))


# --- Relationship data (guanxi.relations) ------------------------------------------------------
# Kept out of the hot loop: derived per chunk from the customer and contact rows already made, with
# a random stream of its own, so every other table is exactly what it was for a given seed.

RELATION_STANCE = fake.Picker([("supporter", 45), ("neutral", 32), ("opponent", 9), ("unknown", 14)])
RELATION_ROLES = {
    "采购部": "purchaser",
    "技术部": "technical_evaluator",
    "生产部": "user",
    "行政部": "gatekeeper",
}


def relation_specs() -> dict[str, TableSpec]:
    from guanxi.relations.models import ContactStanding, DecisionRole, PersonLink, Referral

    return {
        "decision_role": TableSpec(DecisionRole, ["id", "customer", "contact", "role", "created_at"]),
        "standing": TableSpec(
            ContactStanding, ["id", "customer", "contact", "stance", "warmth", "updated_at"]
        ),
        "person_link": TableSpec(
            PersonLink,
            [
                "id",
                "from_contact",
                "to_contact",
                "from_customer",
                "to_customer",
                "kind",
                "strength",
                "note",
                "created_by",
                "created_at",
            ],
        ),
        "referral": TableSpec(
            Referral,
            [
                "id",
                "customer",
                "contact",
                "referrer_kind",
                "referrer_customer",
                "referrer_contact",
                "referrer_user",
                "referrer_name",
                "referred_on",
                "note",
                "created_by",
                "created_at",
            ],
        ),
    }


class RelationRows:
    """Decision chains for ~60 % of companies, reports-to links to the decision maker, and referrals:
    a customer that came by referral was introduced by one of its owner's recent customers (or that
    customer's first contact), so referral chains form as in the demo."""

    RECENT = 8

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"{seed}-relations")
        self.recent: dict[int, list[tuple[int, int | None]]] = {}  # owner -> (customer, first contact)

    def add(self, gen: BulkGenerator, out: dict[str, list[tuple[Any, ...]]]) -> None:
        rng = self.rng
        rand = rng.random
        contacts: dict[int, list[tuple[Any, ...]]] = {}
        for row in out["contact"]:
            contacts.setdefault(row[1], []).append(row)
        roles, standings = out["decision_role"], out["standing"]
        links, referrals = out["person_link"], out["referral"]
        for c in out["customer"]:
            cid, kind, lead_source, status, owner_id, created = c[0], c[1], c[18], c[20], c[23], c[25]
            people = contacts.get(cid, [])
            if kind == "company" and people and status != "archived" and rand() < 0.6:
                decider = people[0][0]
                for n, p in enumerate(people):
                    role = "decision_maker" if n == 0 else RELATION_ROLES.get(p[5], "influencer")
                    if n and rand() < 0.3:
                        continue
                    roles.append((gen.next_id("decision_role"), cid, p[0], role, created))
                    stance = RELATION_STANCE(rng)
                    warmth = 0 if stance == "unknown" else 1 + int(rand() * 5)
                    standings.append((gen.next_id("standing"), cid, p[0], stance, warmth, created))
                    if n and rand() < 0.5:
                        links.append(
                            (
                                gen.next_id("person_link"),
                                p[0],
                                decider,
                                cid,
                                cid,
                                "reports_to",
                                3,
                                "",
                                owner_id,
                                created,
                            )
                        )
            recent = self.recent.setdefault(owner_id, [])
            if lead_source == "referral" and recent:
                source, source_contact = recent[int(rand() * len(recent))]
                by_contact = source_contact is not None and rand() < 0.5
                referrals.append(
                    (
                        gen.next_id("referral"),
                        cid,
                        None,
                        "contact" if by_contact else "customer",
                        source,
                        source_contact if by_contact else None,
                        None,
                        "",
                        gen.date(1 + int(rand() * 700)),
                        "",
                        owner_id,
                        created,
                    )
                )
            recent.append((cid, people[0][0] if people else None))
            if len(recent) > self.RECENT:
                recent.pop(0)


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def generate(
    scale: Scale, *, seed: int = 2026, log: Callable[[str], None] = print, **writer_options: Any
) -> GenerationStats:
    writer = writer_for_connection(**writer_options)
    return BulkGenerator(scale, writer, seed=seed, log=log).run()
