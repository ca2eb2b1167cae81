from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.db.models import Count, Max, Q, Sum

from guanxi.accounts.models import Role, User
from guanxi.bench import bulk
from guanxi.bench.report import write_report
from guanxi.bench.runner import plan_runs
from guanxi.bench.scales import TINY
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.phones import normalise_phone
from guanxi.customers.selectors import CustomerFilters, contact_list, customer_list
from guanxi.engagement.models import Interaction
from guanxi.sales.models import Order, OrderStatus
from guanxi.search.pinyin import syllables

# The writers manage their own transaction (SQLite: BEGIN … COMMIT on the raw connection).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def tiny() -> bulk.GenerationStats:
    writer = bulk.writer_for_connection()
    return bulk.BulkGenerator(TINY, writer, seed=5, chunk=120, verify_every=1, log=lambda _line: None).run()


def test_tiny_generation_counts_and_documents(tiny):
    assert Customer.objects.count() == TINY.customers
    assert Interaction.objects.count() == TINY.interactions
    assert Order.objects.count() == TINY.orders
    assert User.objects.filter(role=Role.SALESPERSON).count() == TINY.salespeople
    assert tiny.tables["customer"].rows == TINY.customers
    # every customer and contact was recomputed with the services' own functions
    assert tiny.verified >= TINY.customers
    assert tiny.mismatches == 0, tiny.mismatch_example
    assert set(Customer.objects.values_list("relationship_type", flat=True)) == {
        "upstream",
        "partner",
        "channel",
        "end",
    }
    # relationship data at scale: decision chains, links and referral chains between real rows
    from guanxi.relations.models import DecisionRole, PersonLink, Referral

    assert tiny.tables["referral"].rows == Referral.objects.count() > 0
    assert DecisionRole.objects.filter(role="decision_maker").exists() and PersonLink.objects.exists()
    assert not Referral.objects.filter(referrer_customer_id=models.F("customer_id")).exists()
    # the new ids continue after the generated ones (sequences reset)
    assert Customer.objects.create(name="后来的客户", owner=User.objects.first()).pk == TINY.customers + 1


def test_maintained_columns_match_the_rows(tiny):
    customers = Customer.objects.annotate(
        max_interaction=Max("interactions__occurred_at"),
    )
    checked = 0
    for c in customers:
        assert c.last_interaction_at == c.max_interaction, c.pk
        checked += c.max_interaction is not None
    assert checked > TINY.customers // 2
    assert Customer.objects.filter(last_interaction_at__isnull=True).exists()

    valid = ~Q(orders__status=OrderStatus.CANCELLED)
    figures = Customer.objects.annotate(
        n=Count("orders", filter=valid),
        total=Sum("orders__amount", filter=valid),
        last=Max("orders__ordered_on", filter=valid),
    )
    for c in figures:
        assert c.order_count == c.n, c.pk
        assert c.revenue_total == (c.total or Decimal(0)), c.pk
        assert c.last_order_at == c.last, c.pk
    # Pareto: the top fifth of customers holds most of the revenue
    revenue = sorted(Customer.objects.values_list("revenue_total", flat=True), reverse=True)
    assert sum(revenue[: len(revenue) // 5]) / sum(revenue) > Decimal("0.5")
    # order numbers are unique and every interaction has its owner as participant
    assert Order.objects.values("number").distinct().count() == TINY.orders
    assert Interaction.participants.through.objects.count() == TINY.interactions
    assert all(i.occurred_at <= dt.datetime.now(dt.UTC) for i in Interaction.objects.all()[:500])


def test_generated_data_is_searchable(tiny):
    admin = User.objects.get(username="admin")
    customer = Customer.objects.filter(kind="company").order_by("id").first()
    assert customer is not None
    fragment = customer.short_name[:2]  # a 2-character brand, e.g. 华联
    found = customer_list(user=admin, filters=CustomerFilters(q=fragment, sort="name"), size=200).items
    assert customer in found
    initials = "".join(s[0] for s in syllables(customer.name))
    found = customer_list(user=admin, filters=CustomerFilters(q=initials, sort="name"), size=200).items
    assert customer in found

    contact = Contact.objects.filter(points__label="mobile").order_by("id").first()
    assert contact is not None
    phone = contact.points.get(label="mobile").raw
    assert contact in contact_list(user=admin, q=phone[-4:], size=200).items
    assert contact in contact_list(user=admin, q=contact.name, size=200).items


def test_phones_match_normalise_phone(tiny):
    for point in ContactPoint.objects.filter(kind="phone").order_by("id")[:60]:
        phone = normalise_phone(point.raw)
        assert (point.value, point.label, point.is_ambiguous) == (phone.value, phone.label, phone.ambiguous)


def test_refuses_a_non_empty_database(tiny):
    with pytest.raises(bulk.BenchError):
        bulk.BulkGenerator(TINY, bulk.writer_for_connection(), log=lambda _line: None).run()


@pytest.mark.django_db(transaction=False)
def _report(tmp_path: Any, result: dict[str, Any], *, facts: dict[str, Any]) -> str:
    """BENCHMARKS.md written from one result, as text."""
    out = tmp_path / "BENCHMARKS.md"
    write_report(
        out,
        results=[result],
        facts=facts,
        command="guanxi bench",
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        seconds=60,
        requests=10,
        warmup=2,
        notes=[],
    )
    return out.read_text()


def test_plan_and_report(tmp_path):
    assert plan_runs(["small", "large"], ["sqlite", "postgresql"]) == [
        ("sqlite", "small"),
        ("postgresql", "small"),
        ("postgresql", "large"),
    ]
    assert plan_runs(["large"], ["sqlite"]) == []
    page = {
        "key": "list",
        "label": "Customer list",
        "target": True,
        "note": "",
        "queries": 5,
        "bytes": 2048,
        "errors": 0,
        "slow_sql": "SELECT 1",
        "plan": "SCAN t",
        "http_ms": {"median": 20.0, "p95": 60.0, "n": 10},
        "sql_ms": {"median": 2.0, "p95": 3.0, "n": 10},
        "main_sql_ms": {"median": 1.0, "p95": 2.0, "n": 10},
    }
    stats = bulk.GenerationStats(scale="medium", engine="sqlite", seed=1)
    stats.tables["customer"] = bulk.TableStats(rows=10, seconds=0.5)
    result = {
        "engine": "sqlite",
        "scale": "medium",
        "generation": stats.to_dict(),
        "counts": {"customers": 10},
        "pages": [page],
        "vacuumed_s": 34.2,
    }
    text = _report(tmp_path, result, facts={"nproc": 2, "sqlite": "3.40.1"})
    assert "**FAIL**" in text and "SELECT 1" in text and "| `nproc` | 2 |" in text
    assert "`VACUUM (ANALYZE)` and a `CHECKPOINT` ran before the timing (34 s)" in text


def test_workload_table_rates_ratios_and_verdicts():
    from guanxi.bench.workloads import Workload, stopwatch, workload_table

    with stopwatch() as elapsed:
        sum(range(1000))
    assert len(elapsed) == 1 and elapsed[0] >= 0
    result = {
        "workloads": [
            Workload(
                "import",
                "Import CSV",
                10.0,
                floor_seconds=0.5,
                target="≥ 5,000 rows/s",
                passed=True,
                rows=100_000,
                extra={"peak RSS": "80 MB"},
            ).summary(),
            Workload("scan", "Duplicate scan", 40.0, target="< 30 s", passed=False).summary(),
        ]
    }
    lines = workload_table(result)
    assert lines[2] == (
        "| Import CSV | 10.00 | 100,000 | 10,000 | 0.50 | 20.0× | ≥ 5,000 rows/s | **PASS** "
        "| peak RSS 80 MB |"
    )
    assert lines[3] == "| Duplicate scan | 40.00 | – | – | – | – | < 30 s | **FAIL** |  |"
    assert workload_table({}) == []


def test_a_partial_run_says_what_it_ran(tmp_path):
    result = {
        "engine": "postgresql",
        "scale": "large",
        "generation": bulk.GenerationStats(scale="large", engine="postgresql", seed=1).to_dict(),
        "counts": {"customers": 10},
        "pages": [],
        "command": "guanxi bench --scales large --pages list,search --workloads none",
        "run_started_at": "2026-11-24T14:00:00+08:00",
        "subset": {"pages": ["list", "search"], "workloads": []},
    }
    text = _report(tmp_path, result, facts={"nproc": 2})
    assert "A partial run — pages: list, search; workloads: none." in text
    assert "Measured by `guanxi bench --scales large --pages list,search --workloads none`" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--pages", "list;drop"], "--pages"), (["--workloads", "../x"], "--workloads")],
)
def test_bench_rejects_bad_subset_names(args, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("bench", "--scales", "small", "--engines", "sqlite", *args)


def test_workload_providers_by_package():
    from guanxi.bench.workloads import workload_providers

    assert [p.__module__ for p in workload_providers(only=["value"])] == ["guanxi.value.benchwork"]
    assert workload_providers(only=[]) == []
    assert len(workload_providers()) >= 2


def test_import_note_sets_each_import_beside_its_floors_only_when_one_missed():
    from guanxi.bench.report import import_note
    from guanxi.bench.workloads import Workload

    def run(passed: bool) -> list[dict[str, object]]:
        imported = Workload(
            "dataio.import_csv",
            "Import CSV",
            48.2,
            floor_seconds=35.5,
            passed=passed,
            rows=100_000,
            extra={"preview s": 8.2, "confirm s": 40.0, "floor without search index s": 17.5},
        )
        scan = Workload("dataio.dedupe", "Duplicate scan", 21.0, passed=True)
        return [
            {"engine": "postgresql", "scale": "medium", "workloads": [imported.summary(), scan.summary()]}
        ]

    lines = import_note(run(passed=False))
    assert lines[0].startswith("## Import rate")
    assert (
        "- PostgreSQL, medium, csv: 48.2 s end to end (preview 8.2 s, confirm 40.0 s); the database alone "
        "for the same rows: 35.5 s with their search index, 17.5 s without it."
    ) in lines
    assert not any("Duplicate scan" in line for line in lines)
    assert import_note(run(passed=True)) == []
