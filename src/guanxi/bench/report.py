"""BENCHMARKS.md from the results of the per-database runs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from guanxi.bench.measure import REQUEST_TIMEOUT_S, TARGET_MS
from guanxi.bench.workloads import workload_table

# Where the targets apply: (engine, scale).
TARGET_RUNS = (("sqlite", "medium"), ("postgresql", "large"))
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TABLE_NAMES = {
    "customer": "customers",
    "customer_tag": "customer tags",
    "share": "customer shares",
    "contact": "contacts",
    "contact_point": "contact phones/e-mails",
    "interaction": "interactions",
    "participant": "interaction participants",
    "interaction_contact": "interaction contacts",
    "order": "orders",
    "order_line": "order lines",
    "audit": "audit events",
}


def _ms(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "–"


def _title(result: dict[str, Any]) -> str:
    return f"{ENGINE_NAMES.get(result['engine'], result['engine'])}, {result['scale']}"


def _provenance(result: dict[str, Any]) -> list[str]:
    """The run a section comes from, and what part of the bench it ran (``--pages``/``--workloads``)."""
    lines = []
    if result.get("command"):
        lines.append(f"Measured by `{result['command']}` ({result.get('run_started_at', '?')}).")
    subset = result.get("subset") or {}
    parts = [
        f"{what}: {', '.join(names) or 'none'}"
        for what, names in (("pages", subset.get("pages")), ("workloads", subset.get("workloads")))
        if names is not None
    ]
    if parts:
        lines.append("A partial run — " + "; ".join(parts) + ". Pages and workloads not listed were not run.")
    return [*lines, ""] if lines else []


def _pages(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["key"]: p for p in result.get("pages", [])}


def target_rows(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| Page | Engine, scale | median (ms) | p95 (ms) | target p95 | result |",
        "|---|---|---:|---:|---:|---|",
    ]
    by_run = {(r["engine"], r["scale"]): r for r in results if "error" not in r}
    for engine, scale in TARGET_RUNS:
        result = by_run.get((engine, scale))
        for key, label in (("list", "Customer list"), ("customer", "Customer page"), ("search", "Search")):
            if result is None:
                lines.append(
                    f"| {label} | {ENGINE_NAMES[engine]}, {scale} | – | – | < {TARGET_MS:.0f} | not run |"
                )
                continue
            page = _pages(result).get(key)
            if page is None:
                continue
            p95 = page["http_ms"]["p95"]
            verdict = "**PASS**" if p95 is not None and p95 < TARGET_MS and not page["errors"] else "**FAIL**"
            lines.append(
                f"| {label} | {_title(result)} | {_ms(page['http_ms']['median'])} | {_ms(p95)} "
                f"| < {TARGET_MS:.0f} | {verdict} |"
            )
    return lines


def _conn_age(age: int | None) -> str:
    if age is None:
        return ""
    if not age:
        return " `CONN_MAX_AGE` is 0: every request opens a new database connection (with a cold page cache)."
    return f" `CONN_MAX_AGE` {age} s: persistent database connections."


def _vacuumed(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return (
        " Autovacuum is off on this server: `VACUUM (ANALYZE)` and a `CHECKPOINT` ran before the"
        f" timing ({seconds:.0f} s)."
    )


def _load(load: dict[str, float] | None) -> str:
    if not load:
        return ""
    return (
        f" Load average (1 min) {load.get('before', 0):.1f} before the HTTP timing,"
        f" {load.get('after_http', 0):.1f} after it."
    )


def page_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "| Page | HTTP median | HTTP p95 | SQL floor median | SQL floor p95 | slowest query median "
        "| queries/request | HTTP ÷ SQL (median) | response KB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page in result.get("pages", []):
        http, sql, main = page["http_ms"], page["sql_ms"], page["main_sql_ms"]
        ratio = http["median"] / sql["median"] if http["median"] and sql["median"] else None
        label = page["label"] + (" ★" if page["target"] else "")
        if page.get("target_ms") and http["p95"] is not None:
            verdict = "PASS" if http["p95"] < page["target_ms"] and not page.get("errors") else "FAIL"
            label += f" (target p95 < {page['target_ms']:.0f} ms: **{verdict}**)"
        if page.get("errors"):
            label += f" (**{page['errors']} failed requests**)"
        if page.get("sql_failed"):
            label += f" ({page['sql_failed']} hit the {REQUEST_TIMEOUT_S} s statement timeout in the SQL run)"
        if page.get("truncated"):
            label += f" (slow: {http['n']} requests)"
        lines.append(
            f"| {label} | {_ms(http['median'])} | {_ms(http['p95'])} | {_ms(sql['median'], 2)} "
            f"| {_ms(sql['p95'], 2)} | {_ms(main['median'], 2)} | {page['queries']:.0f} "
            f"| {_ms(ratio)}× | {page['bytes'] / 1024:.0f} |"
        )
    return lines


def generation_table(result: dict[str, Any]) -> list[str]:
    gen = result.get("generation") or {}
    tables = gen.get("tables", {})
    lines = ["| Table | rows | write time (s) | rows/s (write) |", "|---|---:|---:|---:|"]
    total_rows = 0
    total_write = 0.0
    for key, t in tables.items():
        total_rows += t["rows"]
        total_write += t["seconds"]
        lines.append(
            f"| {TABLE_NAMES.get(key, key)} | {t['rows']:,} | {t['seconds']:.1f} "
            f"| {_rate(t['rows'], t['seconds'])} |"
        )
    total = gen.get("total_seconds") or 0.0
    lines.append(
        f"| **all tables** | **{total_rows:,}** | {total_write:.1f} | {_rate(total_rows, total_write)} |"
    )
    phases = gen.get("phases", {})
    lines.append("")
    lines.append(
        f"Overall: **{total_rows:,} rows in {total:.0f} s = {_rate(total_rows, total)} rows/s** end to end "
        "(Python generation, writes, index rebuild, analyse). Phases: "
        + ", ".join(f"{k.replace('_', ' ')} {v:.1f} s" for k, v in phases.items())
        + "."
    )
    slow = sorted(gen.get("index_seconds", {}).items(), key=lambda kv: -kv[1])[:5]
    if slow:
        lines.append("Slowest index builds: " + ", ".join(f"`{n}` {s:.1f} s" for n, s in slow) + ".")
    if gen.get("verified"):
        lines.append(
            f"Search documents and sort keys checked against the services' own functions on "
            f"{gen['verified']:,} sampled rows: {gen['mismatches']} mismatches."
            + (f" First: {gen['mismatch_example']}" if gen.get("mismatch_example") else "")
        )
    if result.get("reused"):
        lines.append(
            f"_Data reused with `--keep`; generated {result.get('generated_at', '?')}"
            " — figures above are from then._"
        )
    return lines


def plans(results: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for result in results:
        if "error" in result:
            continue
        target_run = (result["engine"], result["scale"]) in TARGET_RUNS
        for page in result.get("pages", []):
            p95 = page["http_ms"]["p95"]
            missed = page["target"] and p95 is not None and p95 >= TARGET_MS
            slow_extra = not page["target"] and p95 is not None and p95 >= TARGET_MS
            if not (missed or slow_extra or (target_run and page["target"])) or not page.get("plan"):
                continue
            status = "target missed" if missed else ("over 50 ms" if slow_extra else "target met")
            lines += [
                f"<details><summary>{_title(result)} — {page['label']} ({status}, p95 {_ms(p95)} ms): "
                f"slowest query and its plan</summary>",
                "",
                "```sql",
                page["slow_sql"],
                "```",
                "```",
                page["plan"],
                "```",
                "</details>",
                "",
            ]
    return lines


COLUMNAR_NOTE = [
    "## Value re-evaluation on a columnar engine (not built; issue 7's stretch)",
    "",
    "The re-evaluation is one aggregation pass over orders, interactions and referrals followed by a"
    " window sort per indicator over the customers: work a row store does row by row. A columnar, "
    "vectorised engine (DuckDB, embedded, one wheel) reading the same tables through its SQLite or "
    "PostgreSQL scanner would aggregate and rank them column-wise on both cores — the ~0.5 s at 1M "
    "customers the issue cites. What it would take: (1) the stage and snapshot SQL run in DuckDB "
    "over the scanned tables — it is already integer-only SQL with standard windows, so the classes "
    "stay bit-identical (the engine tests run against both engines and would run against DuckDB "
    "too); (2) the snapshot written back with one bulk load (COPY on PostgreSQL, an attached "
    "database on SQLite) and the customers' columns with one UPDATE…FROM, inside the run's "
    "transaction, so a failure still leaves the previous result; (3) a consistent read: on "
    "PostgreSQL the scanner's snapshot must be the run's (export/import the snapshot id), on SQLite "
    "a read transaction; (4) memory: at 1M customers the scanned columns are ~0.5 GB; (5) an "
    "optional dependency, off by default, with this engine as the fallback. Until then the target is"
    " met (or not) by the row-store SQL measured above.",
    "",
]


def import_note(results: list[dict[str, Any]]) -> list[str]:
    """Where an import's time goes, per engine, when an import missed its rate (issue 3): the end to
    end time beside what the database alone needs for the same rows, with and without the search
    index (``guanxi.dataio.benchwork``)."""
    lines = []
    missed = False
    for result in results:
        for w in result.get("workloads") or []:
            if not w["key"].startswith("dataio.import_") or not w.get("floor_seconds"):
                continue
            missed = missed or w.get("passed") is False
            extra = w.get("extra") or {}
            bare = extra.get("floor without search index s")
            lines.append(
                f"- {_title(result)}, {w['key'].removeprefix('dataio.import_')}: {w['seconds']:.1f} s end to "
                f"end (preview {extra.get('preview s', '?')} s, confirm {extra.get('confirm s', '?')} s); "
                f"the database alone for the same rows: {w['floor_seconds']:.1f} s with their search index"
                + (f", {bare} s without it" if bare is not None else "")
                + "."
            )
    if not missed:
        return []
    return [
        "## Import rate: where the time goes (issue 3's ≥ 5,000 rows/s, not met)",
        "",
        "100k rows at 5,000 rows/s is 20 s end to end. The *floor* is the database alone: the import's "
        "final rows (customers, contacts, their numbers, audit events, per-row provenance) written "
        "again by the engine's fastest raw way in (COPY on PostgreSQL, prepared INSERTs on SQLite), "
        "in one transaction, with the search index kept as the import keeps it; *without search "
        "index* is the same with no search index at all (rolled back afterwards).",
        "",
        *lines,
        "",
        "Where the floor alone is over 20 s, no change to the import's own code can meet the target on "
        "this machine. The difference between the two floors is the search index: each customer's "
        "document holds ~70 words (Chinese characters "
        "and pairs, pinyin syllables, full pinyin and initials from every syllable on, phone-number "
        "suffixes; on PostgreSQL also their 2-letter beginnings), so that 2-character names, initials, "
        "a word inside a name and any digits of a number are found. Fewer words would find less; an "
        "index filled after the commit would leave new customers unfindable for a while. Both change "
        "search, which other issues fixed, so neither is done. Where the floor is under 20 s, the "
        "rest is the import's own work in Python on two cores: parsing, normalising, the documents, "
        "matching against the database and the per-row report.",
        "",
    ]


def write_report(
    path: Path,
    *,
    results: list[dict[str, Any]],
    facts: dict[str, Any],
    command: str,
    started_at: dt.datetime,
    seconds: float,
    requests: int,
    warmup: int,
    notes: list[str],
) -> None:
    ok = [r for r in results if "error" not in r]
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench`, i.e. `.venv/bin/guanxi bench` — do not edit by hand; re-run instead.",
        "",
        f"- Command: `{command}`",
        f"- Run: {started_at:%Y-%m-%d %H:%M %Z}, {seconds / 60:.0f} min in total",
        f"- Requests: {requests} timed per page after {warmup} warm-up requests, one client, sequential",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| CPU | {facts.get('cpu', '?')} |",
        f"| `nproc` | {facts.get('nproc', '?')} |",
        f"| Memory | {facts.get('memory_gib', '?')} GiB |",
        f"| OS | {facts.get('os', '?')} |",
        f"| Python / Django / gunicorn | {facts.get('python')} / {facts.get('django')}"
        f" / {facts.get('gunicorn', '?')} |",
        f"| SQLite | {facts.get('sqlite')} |",
        f"| PostgreSQL | {facts.get('postgresql', 'not used')} |",
    ]
    if facts.get("postgresql_settings"):
        settings = ", ".join(f"{k}={v}" for k, v in facts["postgresql_settings"].items())
        out.append(f"| PostgreSQL settings (server defaults, untuned) | {settings} |")
    if facts.get("git_commit"):
        out.append(f"| Code | git {facts['git_commit']} |")
    out += [
        "",
        "## Targets",
        "",
        "p95 under 50 ms at medium on SQLite and at large on PostgreSQL, through HTTP.",
        "",
    ]
    out += target_rows(results)
    for note in notes:
        out += ["", f"> {note}"]
    failed = [r for r in results if "error" in r]
    for r in failed:
        out += ["", f"> **{_title(r)} failed**: {r['error']}"]
    out += [
        "",
        "## Pages",
        "",
        "Times in milliseconds. *HTTP*: a full request through gunicorn (2 sync workers) and the whole "
        "Django "
        "stack (session, middleware, view, template), logged in as salesperson `s001` (owns ~1 % of the "
        "customers) unless the page says manager. *SQL floor*: the same request's SELECT statements, "
        "captured "
        "from the same views and re-run bare with a cursor on one connection (the sum per request); "
        "*slowest query*: the most expensive of those statements. ★ = page with a target. "
        f"gunicorn's worker timeout is {REQUEST_TIMEOUT_S} s and PostgreSQL statements are limited to "
        f"{REQUEST_TIMEOUT_S} s as well: a request that runs longer fails (HTTP 500) and is counted at "
        "the time it took.",
        "",
    ]
    for result in ok:
        counts = result.get("counts", {})
        out += [
            f"### {_title(result)} — {counts.get('customers', 0):,} customers, "
            f"{counts.get('interactions', 0):,} interactions, {counts.get('orders', 0):,} orders",
            "",
            f"Database size {result.get('db_size_mb', 0):,.0f} MB; the salesperson sees "
            f"{result.get('visible_customers', 0):,} customers."
            + _load(result.get("load_average"))
            + _conn_age(result.get("conn_max_age"))
            + _vacuumed(result.get("vacuumed_s"))
            + (" _(from an earlier run, merged)_" if result.get("merged_from_earlier_run") else ""),
            "",
        ]
        out += _provenance(result)
        out += page_table(result)
        if result.get("workloads"):
            out += ["", "Workloads (batch jobs, imports, exports — `guanxi.<package>.benchwork`):", ""]
            out += workload_table(result)
        search = _pages(result).get("search")
        if search and search.get("note"):
            out += ["", f"Search queries: {search['note']} (in turn), drawn from the salesperson's own data."]
        out.append("")
    out += import_note(ok)
    out += COLUMNAR_NOTE
    out += ["## Data generation", ""]
    out += [
        "Deterministic (seed fixed): customers of the four relationship types in 39 cities, Pareto-weighted "
        "revenue, 1–6 contacts each, a year of interactions and orders; 2 teams, 100 salespeople, a manager "
        "and an admin. Rows are built in Python with the search-document and sort-key functions of "
        "`guanxi.search` (pinyin cached per name part) and the maintained columns (last interaction, last "
        "order, order count, revenue) computed from the generated rows; written with `executemany` in one "
        "transaction (SQLite, FTS5 filled by 'rebuild' after the load) or `COPY … FREEZE` (PostgreSQL), "
        "secondary indexes and constraints dropped before the load and rebuilt after it, then ANALYZE.",
        "",
    ]
    for result in ok:
        out += [f"### {_title(result)}", ""]
        out += generation_table(result)
        out.append("")
    plan_lines = plans(results)
    if plan_lines:
        out += [
            "## Query plans",
            "",
            "For every target page at the target scales, and for any page over 50 ms.",
            "",
        ]
        out += plan_lines
    out += [
        "## How to run",
        "",
        "```",
        "make bench                                    # everything (about an hour on 2 cores)",
        ".venv/bin/guanxi bench --scales small --engines sqlite --requests 50",
        ".venv/bin/guanxi bench --keep                 # reuse the generated databases in bench-data/",
        "```",
        "",
        "Generated databases live in `bench-data/` (SQLite) and in PostgreSQL databases "
        "`guanxi_bench_<scale>` (dropped and re-created by each run unless `--keep`; `--cleanup` drops them "
        "afterwards). Raw results: `bench-data/results/*.json`.",
        "",
    ]
    path.write_text("\n".join(out))
