"""Timing the real pages: gunicorn + a keep-alive HTTP client, and the bare SQL floor of each page.

Runs inside the per-database subprocess (``guanxi manage bench_one``), whose environment points
Django at the generated database; gunicorn is started with the same environment.
"""

from __future__ import annotations

import http.client
import importlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.test import Client

from guanxi.accounts.models import Role, User
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.selectors import CustomerFilters, customer_list, customer_queryset_for_user
from guanxi.demo.fake import pinyin_of

LIST_PATH = "/customers/?relationship_type=channel&sort=last_interaction"
API_LIST_PATH = "/api/v1/customers?relationship_type=channel&sort=last_interaction"
NOTE_WORDS = ("报价", "投诉", "拜访", "合同", "发货", "样品", "付款", "回访")
TARGET_MS = 50.0
PAGE_BUDGET = 90.0  # seconds per page and pass; very slow pages are timed on fewer requests
# gunicorn's default worker timeout; the same limit is put on each SQL statement (PostgreSQL), so a
# runaway query fails the request instead of running on after gunicorn has killed its worker.
REQUEST_TIMEOUT_S = 30


@dataclass
class Page:
    key: str
    label: str
    paths: list[str]
    target: bool = False  # one of the pages with a p95 target
    user: str = "sales"  # "sales" or "manager"
    note: str = ""
    target_ms: float | None = None  # a domain page's own p95 target (issues name them), if any


@dataclass
class PageResult:
    key: str
    label: str
    target: bool
    note: str
    target_ms: float | None = None
    http_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # per request: all its SELECTs, run bare
    main_sql_ms: list[float] = field(default_factory=list)  # per request: its slowest SELECT
    queries: float = 0.0  # SELECTs per request (mean)
    bytes: float = 0.0
    errors: int = 0
    sql_failed: int = 0  # requests whose statements failed (e.g. hit the statement timeout)
    truncated: bool = False  # stopped early: the page is too slow for the full count in the time budget
    statements: list[str] = field(default_factory=list)  # the statements of one request (abridged)
    slow_sql: str = ""
    plan: str = ""

    def summary(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in ("http_ms", "sql_ms", "main_sql_ms")}
        for name in ("http_ms", "sql_ms", "main_sql_ms"):
            values = getattr(self, name)
            data[name] = {"median": median(values), "p95": p95(values), "n": len(values)}
        return data


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- Inputs drawn from the data -----------------------------------------------------------------


def search_queries(user: User, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(kind, query): a 2-character Chinese name fragment, pinyin, initials, a phone suffix, in turn."""
    visible = customer_queryset_for_user(user)
    brands = [
        s for s in visible.exclude(short_name="").values_list("short_name", flat=True)[:2000] if len(s) >= 2
    ]
    contacts = list(
        Contact.objects.filter(customer__in=visible).order_by("id").values_list("name", flat=True)[:3000]
    )
    phones = list(
        ContactPoint.objects.filter(contact__customer__in=visible, label="mobile")
        .order_by("id")
        .values_list("raw", flat=True)[:3000]
    )
    if not (brands and contacts and phones):
        raise RuntimeError("the bench user sees too little data to draw search queries from")
    kinds: list[tuple[str, Callable[[], str]]] = [
        ("2-char Chinese", lambda: rng.choice([rng.choice(brands)[:2], rng.choice(contacts)[:2]])),
        (
            "pinyin",
            lambda: rng.choice([pinyin_of(rng.choice(contacts), True), pinyin_of(rng.choice(brands)[:2])]),
        ),
        ("initials", lambda: "".join(_initials(rng.choice(contacts)))),
        ("phone suffix", lambda: rng.choice(phones)[-4:]),
    ]
    return [(kinds[i % 4][0], kinds[i % 4][1]()) for i in range(count)]


def _initials(name: str) -> list[str]:
    from guanxi.search.pinyin import syllables

    return [s[0] for s in syllables(name, person=True)]


def build_pages(*, sales: User, manager: User, requests: int, warmup: int, seed: int) -> list[Page]:
    rng = random.Random(seed)
    n = requests + warmup
    pages = [Page("list", "Customer list (channel, by last interaction)", [LIST_PATH] * n, target=True)]

    # Deeper keyset pages: follow the next cursor (up to page 6 for the salesperson, 21 for the manager).
    for key, user, path, depth, label in (
        ("list_deep", sales, LIST_PATH, 5, "Customer list, page {page} (keyset)"),
        (
            "manager_deep",
            manager,
            "/customers/?sort=last_interaction",
            20,
            "Manager: all customers, page {page}",
        ),
    ):
        query = urllib.parse.parse_qs(path.split("?", 1)[1])
        filters = CustomerFilters(
            relationship_type=query.get("relationship_type", [""])[0],
            sort=query.get("sort", ["last_interaction"])[0],
        )
        cursor, page_no = None, 1
        for _ in range(depth):
            result = customer_list(user=user, filters=filters, cursor=cursor, size=50)
            if not result.next_cursor:
                break
            cursor, page_no = result.next_cursor, page_no + 1
        if cursor:
            pages.append(
                Page(
                    key,
                    label.format(page=page_no),
                    [f"{path}&cursor={cursor}"] * n,
                    user="manager" if user is manager else "sales",
                )
            )
    ids = list(customer_queryset_for_user(sales).order_by("id").values_list("id", flat=True))
    pages.append(
        Page(
            "customer",
            "Customer page (random visible customer)",
            [f"/customers/{rng.choice(ids)}/" for _ in range(n)],
            True,
        )
    )
    queries = search_queries(sales, rng, n)
    mix = ", ".join(sorted({k for k, _ in queries}))
    pages.append(
        Page(
            "search",
            "Search (mixed queries)",
            ["/search/?" + urllib.parse.urlencode({"q": q}) for _, q in queries],
            True,
            note=mix,
        )
    )
    pages.append(
        Page(
            "search_notes",
            "Search, note keywords (报价, 投诉…)",
            ["/search/?" + urllib.parse.urlencode({"q": rng.choice(NOTE_WORDS)}) for _ in range(n)],
            note="words frequent in interaction notes",
        )
    )
    pages.append(Page("api_list", "API: GET /api/v1/customers (same filter)", [API_LIST_PATH] * n))
    pages.append(
        Page(
            "api_search",
            "API: GET /api/v1/search",
            ["/api/v1/search?" + urllib.parse.urlencode({"q": q, "limit": 20}) for _, q in queries],
        )
    )
    for provider in page_providers():
        pages += provider(sales=sales, manager=manager, rng=rng, n=n)
    return pages


def page_providers() -> list[Callable[..., list[Page]]]:
    """Each domain package may add its own pages in ``guanxi.<package>.benchpages``.

    The module defines ``pages(*, sales: User, manager: User, rng: random.Random, n: int)``
    returning ``list[Page]`` (n paths each); they are timed and reported like the core pages.
    """
    from django.apps import apps

    providers = []
    for config in apps.get_app_configs():
        if not config.name.startswith("guanxi."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.benchpages")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.benchpages":
                raise
            continue
        providers.append(module.pages)
    return providers


def bench_users() -> tuple[User, User]:
    # The generated salespeople are s001…; other accounts (the import workload's) never stand in.
    sales = (
        User.objects.filter(role=Role.SALESPERSON, username__regex=r"^s[0-9]+$").order_by("username").first()
    )
    manager = User.objects.filter(role=Role.MANAGER).order_by("username").first()
    if sales is None or manager is None:
        raise RuntimeError("no salesperson/manager in the bench database")
    return sales, manager


# --- gunicorn and the HTTP client ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, workers: int = 2) -> Iterator[int]:
    port = free_port()
    exe = Path(sys.executable).with_name("gunicorn")
    cmd = [str(exe), "guanxi.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_path}")
                try:
                    status, _body, _ms, _h = request(
                        http.client.HTTPConnection("127.0.0.1", port, timeout=5), "/healthz"
                    )
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer within 60 s; see {log_path}")
                time.sleep(0.2)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def request(
    conn: http.client.HTTPConnection,
    path: str,
    *,
    cookie: str = "",
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, float, http.client.HTTPMessage]:
    hdrs = {"Connection": "keep-alive", **(headers or {})}
    if cookie:
        hdrs["Cookie"] = cookie
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    elapsed = (time.perf_counter() - started) * 1000
    return resp.status, data, elapsed, resp.headers


def login(port: int, username: str, password: str) -> str:
    """Log in through allauth's form (CSRF token and all); returns the Cookie header to send."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    status, body, _ms, headers = request(conn, "/accounts/login/")
    if status != 200:
        raise RuntimeError(f"GET /accounts/login/ answered {status}")
    jar: dict[str, str] = {}
    _collect(jar, headers)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not match:
        raise RuntimeError("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "login": username, "password": password}
    )
    status, body, _ms, headers = request(
        conn,
        "/accounts/login/",
        method="POST",
        body=form,
        cookie=_cookie(jar),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    _collect(jar, headers)
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} failed: HTTP {status} {body[:300]!r}")
    return _cookie(jar)


def _collect(jar: dict[str, str], headers: http.client.HTTPMessage) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(value)
        for key, morsel in cookie.items():
            jar[key] = morsel.value


def _cookie(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def time_http(
    port: int, cookie: str, page: Page, result: PageResult, warmup: int, budget: float = PAGE_BUDGET
) -> None:
    """Time the page's requests; a very slow page stops after ``budget`` seconds (at least 10 requests)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    sizes = []
    started = time.monotonic()
    for i, path in enumerate(page.paths):
        status, body, ms, _h = request(conn, path, cookie=cookie)
        if status != 200:
            result.errors += 1
            if result.errors == 1:
                print(f"      {page.key}: HTTP {status} for {path}: {body[:200]!r}", flush=True)
        if i >= warmup:
            result.http_ms.append(ms)
            sizes.append(len(body))
        elif time.monotonic() - started > budget / 4:
            warmup = i + 1  # a slow page: cut the warm-up short
        enough = len(result.http_ms) >= 10 or (result.errors >= 3 and len(result.http_ms) >= 3)
        if enough and time.monotonic() - started > budget:
            result.truncated = True
            break
    result.bytes = statistics.mean(sizes) if sizes else 0.0
    conn.close()


# --- The SQL floor ------------------------------------------------------------------------------


def capture(client: Client, path: str) -> tuple[int, list[tuple[str, Any]]]:
    """The statements a request runs (through the test client, same views and selectors)."""
    statements: list[tuple[str, Any]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        response = client.get(path, HTTP_HOST="127.0.0.1")
    return response.status_code, statements


class StatementFailed(Exception):
    pass


def run_statements(statements: list[tuple[str, Any]]) -> list[float]:
    times = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            started = time.perf_counter()
            try:
                cursor.execute(sql, params)
                cursor.fetchall()
            except DatabaseError as exc:  # e.g. cancelled by statement_timeout
                raise StatementFailed(str(exc).splitlines()[0]) from exc
            times.append((time.perf_counter() - started) * 1000)
    return times


def _is_select(sql: str) -> bool:
    head = sql.lstrip().upper()
    return head.startswith(("SELECT", "WITH")) and "FOR UPDATE" not in head


def time_sql(
    clients: dict[str, Client], page: Page, result: PageResult, warmup: int, budget: float = PAGE_BUDGET
) -> None:
    """Capture each request's statements, then re-run its SELECTs bare (after one warm pass)."""
    client = clients[page.user]
    captured = []
    started = time.monotonic()
    failed = 0
    failing: tuple[str, Any] | None = None
    for path in page.paths[warmup:]:
        status, statements = capture(client, path)
        if status != 200:
            failed += 1  # not timed: its statement list is incomplete
            if statements and failing is None:
                failing = statements[-1]  # the statement that raised
        else:
            captured.append([s for s in statements if _is_select(s[0])])
        enough = len(captured) >= 10 or (failed >= 3 and len(captured) + failed >= 5)
        if enough and time.monotonic() - started > budget / 2:
            result.truncated = True
            break
    if captured:
        result.statements = [_head(sql) for sql, _ in captured[0]]
    runnable = []
    for statements in captured:  # warm pass
        try:
            run_statements(statements)
            runnable.append(statements)
        except StatementFailed:
            failed += 1
    slowest: list[tuple[float, tuple[str, Any]]] = []
    counts = []
    for statements in runnable:
        try:
            times = run_statements(statements)
        except StatementFailed:
            failed += 1
            continue
        counts.append(len(times))
        result.sql_ms.append(sum(times))
        if times:
            i = max(range(len(times)), key=times.__getitem__)
            result.main_sql_ms.append(times[i])
            slowest.append((times[i], statements[i]))
    result.queries = statistics.mean(counts) if counts else 0.0
    result.sql_failed = failed
    if failing is not None:
        result.slow_sql, result.plan = explain(*failing)
    elif slowest:
        # Explain the slowest statement of the request at the 95th percentile (not the single outlier).
        slowest.sort(key=lambda item: item[0])
        result.slow_sql, result.plan = explain(*slowest[round(0.95 * (len(slowest) - 1))][1])


def _head(sql: str) -> str:
    text = " ".join(sql.split())
    where = text.find(" FROM ")
    return text[:40] + (" …" + text[where : where + 80] if where > 0 else "")


def explain(sql: str, params: Any) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)  # also makes last_executed_query show this statement
        shown = (connection.ops.last_executed_query(cursor, sql, params) or sql).removeprefix("EXPLAIN ")
        if connection.vendor == "postgresql":
            try:
                with transaction.atomic():
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
            except DatabaseError as exc:  # too slow to run to the end: the estimated plan instead
                cursor.execute("EXPLAIN " + sql, params)
                plan = f"-- EXPLAIN ANALYZE failed ({str(exc).splitlines()[0]}); estimated plan:\n"
                plan += "\n".join(row[0] for row in cursor.fetchall())
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            rows = cursor.fetchall()
            depth: dict[int, int] = {0: 0}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, 0) + 1
                lines.append("  " * (depth[node] - 1) + detail)
            plan = "\n".join(lines)
    return str(shown), plan


def _statement_timeout(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {REQUEST_TIMEOUT_S * 1000}")


# --- Everything for one database ----------------------------------------------------------------


def measure(
    *,
    requests: int,
    warmup: int,
    seed: int,
    log_dir: Path,
    load: dict[str, float],
    log: Callable[[str], None] = print,
    only: list[str] | None = None,
) -> list[PageResult]:
    """Time every page (``only``: those with these keys) over HTTP, then its SQL floor. ``load``
    receives the 1-minute load averages."""
    from guanxi.bench.bulk import BENCH_PASSWORD

    sales, manager = bench_users()
    pages = build_pages(sales=sales, manager=manager, requests=requests, warmup=warmup, seed=seed)
    if only is not None:
        unknown = set(only) - {p.key for p in pages}
        if unknown:
            raise ValueError(f"unknown page keys: {', '.join(sorted(unknown))}")
        pages = [p for p in pages if p.key in only]
    if not pages:
        return []
    results = {p.key: PageResult(p.key, p.label, p.target, p.note, p.target_ms) for p in pages}
    env = dict(os.environ)
    if connection.vendor == "postgresql" and env.get("DATABASE_URL") and "?" not in env["DATABASE_URL"]:
        timeout = urllib.parse.quote(f"-c statement_timeout={REQUEST_TIMEOUT_S * 1000}")
        env["DATABASE_URL"] += f"?options={timeout}"
    env.update(
        GUANXI_ENV="development",
        GUANXI_DEBUG="false",
        GUANXI_ALLOWED_HOSTS="127.0.0.1",
        GUANXI_LOG_LEVEL="WARNING",
    )
    users = {"sales": sales, "manager": manager}
    load["before"] = os.getloadavg()[0]
    with gunicorn(env, log_dir / "gunicorn.log") as port:
        cookies = {key: login(port, u.username, BENCH_PASSWORD) for key, u in users.items()}
        for page in pages:
            time_http(port, cookies[page.user], page, results[page.key], warmup)
            r = results[page.key]
            log(f"    HTTP {page.key:<13} median {median(r.http_ms):7.1f} ms  p95 {p95(r.http_ms):7.1f} ms")
    load["after_http"] = os.getloadavg()[0]
    connection_created.connect(_statement_timeout)
    connection.close()  # the next connection gets the timeout too
    try:
        clients = {}
        for key, user in users.items():
            client = Client(raise_request_exception=False)
            client.force_login(user)
            clients[key] = client
        for page in pages:
            time_sql(clients, page, results[page.key], warmup)
            r = results[page.key]
            log(
                f"    SQL  {page.key:<13} median {median(r.sql_ms) or 0:7.2f} ms"
                f"  p95 {p95(r.sql_ms) or 0:7.2f} ms"
                f"  ({r.queries:.1f} queries)"
            )
    finally:
        # The request limit is for the pages: the workloads after them (a re-evaluation of 1M
        # customers runs statements of ~25 s) get a connection without it.
        connection_created.disconnect(_statement_timeout)
        connection.close()
    return list(results.values())


def customer_count_visible(user: User) -> int:
    return customer_queryset_for_user(user).count()


def data_counts() -> dict[str, int]:
    from guanxi.engagement.models import Interaction
    from guanxi.sales.models import Order

    return {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "interactions": Interaction.objects.count(),
        "orders": Order.objects.count(),
        "users": User.objects.count(),
    }
