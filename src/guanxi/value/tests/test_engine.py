"""The value engine: hand-computed indicators, classes under ties and tiny populations, target
shares, override precedence, lifecycle transitions, snapshots and movement, idempotent re-runs.

Every test runs on SQLite and on PostgreSQL (``.ci/run``); exact integers (cents, ‰, basis points)
are asserted, so the two engines must agree bit for bit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.models import Customer
from guanxi.engagement.models import Interaction
from guanxi.followup.models import FollowUpTask
from guanxi.relations.models import Referral
from guanxi.testing.factories import UserFactory, make_customer
from guanxi.value import services
from guanxi.value.engine.run import classify, classify_due, latest_run, months_back, period_of
from guanxi.value.models import ClassificationRun, CustomerSnapshot, LifecycleAction, RunDigest, RunSummary
from guanxi.value.selectors import customer_value
from guanxi.value.tests.helpers import order, product

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 30)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _only_revenue(admin: User) -> None:
    zero = {
        f"weight_{n}": 0
        for n in ("profit", "frequency", "recency", "growth", "credit", "cost_to_serve", "referral")
    }
    services.config_update(actor=admin, source=Source.SYSTEM, weight_revenue=1, **zero)


def _snap(customer: Customer, run: ClassificationRun | None = None) -> CustomerSnapshot:
    qs = CustomerSnapshot.objects.filter(customer=customer)
    if run is not None:
        qs = qs.filter(run=run)
    return qs.order_by("-run_id").first()  # type: ignore[return-value]


def test_window_dates():
    assert months_back(dt.date(2026, 6, 30), 12) == dt.date(2025, 6, 30)
    assert months_back(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert period_of(dt.date(2026, 6, 30), "month") == "2026-06"
    assert period_of(dt.date(2026, 6, 30), "quarter") == "2026-Q2"
    assert period_of(dt.date(2026, 6, 30), "week") == "2026-W27"


def test_indicators_hand_computed(world):
    x = world.customer
    Customer.objects.filter(pk=x.pk).update(credit_rating="AA")
    costed = product("P-COST", price="100", cost="60")
    uncosted = product("P-FREE", price="100", cost=None)
    # Window: 2025-07-01 … 2026-06-30; second half from 2025-12-31.
    order(x, dt.date(2024, 1, 10), product_=costed, quantity=5)  # 500, margin 200, before the window
    order(x, dt.date(2025, 9, 1), product_=costed, quantity=10)  # 1000, margin 400, first half
    order(x, dt.date(2026, 3, 1), product_=uncosted, quantity=30)  # 3000, default margin 20 % = 600
    order(x, dt.date(2026, 4, 1), product_=uncosted, quantity=99, status="cancelled")  # ignored
    Interaction.objects.all().delete()
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)
    Interaction.objects.create(
        customer=x, channel="visit", occurred_at=at, summary="拜访", created_by=world.owner
    )
    Interaction.objects.create(
        customer=x, channel="phone", occurred_at=at, summary="电话", created_by=world.owner
    )
    old = dt.datetime(2025, 1, 1, 10, 0, tzinfo=SHANGHAI)
    Interaction.objects.create(
        customer=x, channel="phone", occurred_at=old, summary="旧", created_by=world.owner
    )
    y = make_customer(world.owner, name="被介绍客户")
    Customer.objects.filter(pk=y.pk).update(revenue_total=Decimal("250.00"))
    Referral.objects.create(customer=y, referrer_kind="customer", referrer_customer=x, referred_on=AS_OF)

    run = classify(as_of=AS_OF)
    assert run is not None and run.population == 2
    s = _snap(x, run)
    assert s.revenue == 400_000  # cents in the window (cancelled order excluded)
    assert s.orders == 2 and s.orders_all == 3
    assert s.profit == 100_000  # 400 (cost known) + 600 (20 % default margin)
    assert s.profit_all == 120_000
    assert s.recency_days == (AS_OF - dt.date(2026, 3, 1)).days == 121
    assert s.growth == (300_000 - 100_000) * 1000 // (100_000 + 100_000) == 1000  # ‰
    assert s.credit == 4  # AA
    assert s.touches == 4 + 1  # a visit counts 4 touches; the 2025-01 call is before the window
    assert s.cost_index == 5 * 100_000_000 // (400_000 + 100_000) == 1000
    assert s.referral == 25_000
    assert s.service_cost == 5 * 5000 and s.prune is False
    assert s.first_order_on == dt.date(2024, 1, 10) and s.last_order_on == dt.date(2026, 3, 1)
    assert s.lifecycle == "fast_growing"  # growth 100 % ≥ 30 %
    assert s.ltv == 120_000 + 100_000 * 12 // 12 * 3400 // 1000  # history + predicted (fast-growing)
    # Two customers: x beats y on every indicator it has more of; ranks are 0 or 10000.
    assert (s.pr_revenue, s.pr_profit, s.pr_frequency, s.pr_recency) == (10000, 10000, 10000, 10000)
    assert s.pr_credit == 10000  # AA (4) vs unrated (3)
    assert s.pr_cost_to_serve == 0  # y has no touches at all: cheaper to serve
    ys = _snap(y, run)
    assert ys.pr_cost_to_serve == 10000 and ys.lifecycle == "new" and ys.rfm_segment == "none"
    # Score = Σ weight × rank / Σ weights, default weights 25/25/15/10/10/5/5/5.
    assert s.score == (25 + 25 + 15 + 10 + 10 + 5 + 0 + 5) * 10000 // 100 == 9500
    assert s.computed_class == s.value_class == "A"
    x.refresh_from_db()
    assert (x.value_class, x.lifecycle) == ("A", "fast_growing")
    assert customer_value(customer=x).score == 9500  # the score is read from the snapshot


def test_three_customers_and_ties(world):
    _only_revenue(world.admin)
    p = product("P1")
    a, b, c = (make_customer(world.owner, name=n) for n in ("甲", "乙", "丙"))
    Customer.objects.filter(pk=world.customer.pk).update(status="archived")  # out of the population
    order(a, dt.date(2026, 5, 1), product_=p, quantity=3)
    order(b, dt.date(2026, 5, 1), product_=p, quantity=2)
    order(c, dt.date(2026, 5, 1), product_=p, quantity=1)
    run = classify(as_of=AS_OF)
    assert run is not None and run.population == 3
    # Ranks 0 / 5000 / 10000; shares 20/30/30/20 over 3: positions 1, 2, 3 → A, B, C.
    assert [(_snap(x).pr_revenue, _snap(x).value_class) for x in (a, b, c)] == [
        (10000, "A"),
        (5000, "B"),
        (0, "C"),
    ]
    # A tie: equal scores always share a class (the class of the best-placed of them).
    order(b, dt.date(2026, 5, 2), product_=p, quantity=1)
    run = classify(as_of=AS_OF, force=True)
    assert [_snap(x).value_class for x in (a, b, c)] == ["A", "A", "C"]
    # Percent rank: tied values take the lowest rank of the tie, (2 − 1) / (3 − 1).
    assert _snap(a).score == _snap(b).score == 5000 and _snap(c).score == 0


def test_single_customer_gets_full_marks(world):
    run = classify(as_of=AS_OF)
    assert run is not None and run.population == 1
    assert _snap(world.customer).score == 10000 and _snap(world.customer).value_class == "A"


def test_target_shares_honoured(world):
    _only_revenue(world.admin)
    p = product("P1")
    customers = [make_customer(world.owner, name=f"客户{i}") for i in range(9)] + [world.customer]
    for i, cust in enumerate(customers):
        order(cust, dt.date(2026, 5, 1), product_=p, quantity=i + 1)
    classify(as_of=AS_OF)
    classes = [_snap(c).value_class for c in customers]
    assert classes == ["D", "D", "C", "C", "C", "B", "B", "B", "A", "A"]
    services.config_update(
        actor=world.admin, source=Source.SYSTEM, share_a=10, share_b=10, share_c=40, share_d=40
    )
    classify(as_of=AS_OF, force=True)
    assert [_snap(c).value_class for c in customers].count("A") == 1
    assert [_snap(c).value_class for c in customers].count("D") == 4
    # Threshold mode: score ≥ 75 → A, ≥ 50 → B, ≥ 25 → C.
    services.config_update(actor=world.admin, source=Source.SYSTEM, mode="thresholds")
    classify(as_of=AS_OF, force=True)
    scores = [_snap(c).score for c in customers]
    expected = ["A" if s >= 7500 else "B" if s >= 5000 else "C" if s >= 2500 else "D" for s in scores]
    assert [_snap(c).value_class for c in customers] == expected


def test_override_wins_until_cleared(world):
    _only_revenue(world.admin)
    p = product("P1")
    low = make_customer(world.owner, name="小客户")
    order(world.customer, dt.date(2026, 5, 1), product_=p, quantity=5)
    order(low, dt.date(2026, 5, 1), product_=p, quantity=1)
    classify(as_of=AS_OF)
    assert _snap(world.customer).value_class == "A"
    services.customer_class_override(
        actor=world.manager, source=Source.UI, customer=world.customer, value_class="D", reason="长期拖欠货款"
    )
    c = Customer.objects.get(pk=world.customer.pk)
    assert (c.value_class, c.value_class_override, c.value_override_reason, c.tier) == (
        "D",
        "D",
        "长期拖欠货款",
        "maintain",
    )
    classify(as_of=AS_OF, force=True)
    s = _snap(world.customer)
    assert (s.computed_class, s.value_class) == ("A", "D")
    assert Customer.objects.get(pk=world.customer.pk).value_class == "D"
    services.customer_class_override(
        actor=world.manager, source=Source.UI, customer=world.customer, value_class="", reason=""
    )
    c = Customer.objects.get(pk=world.customer.pk)
    assert (c.value_class, c.value_class_override, c.value_override_reason) == ("A", "", "")


def test_override_needs_reason_and_a_manager(world):
    from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed

    with pytest.raises(ValidationFailed):
        services.customer_class_override(
            actor=world.manager, source=Source.UI, customer=world.customer, value_class="A", reason=" "
        )
    with pytest.raises(ValidationFailed):
        services.customer_class_override(
            actor=world.manager, source=Source.UI, customer=world.customer, value_class="E", reason="x"
        )
    with pytest.raises(PermissionDenied):
        services.customer_class_override(
            actor=world.owner, source=Source.UI, customer=world.customer, value_class="A", reason="x"
        )
    other = UserFactory(username="north-mgr", role="manager", team=world.north)
    with pytest.raises(NotFound):
        services.customer_class_override(
            actor=other, source=Source.UI, customer=world.customer, value_class="A", reason="x"
        )


def test_lifecycle_follows_the_customers_own_rhythm(world):
    p = product("P1")
    c = world.customer
    day = dt.date(2025, 1, 1)
    for _ in range(12):  # monthly buyer: rhythm (2025-12-01 − 2025-01-01) / 11 = 30 days
        order(c, day, product_=p)
        day += dt.timedelta(days=30)
    yearly = make_customer(world.owner, name="年度采购客户")
    for year in (2023, 2024, 2025):  # yearly buyer: rhythm 365 days
        order(yearly, dt.date(year, 3, 1), product_=p, quantity=10)
    fresh = make_customer(world.owner, name="新客户")
    order(fresh, dt.date(2026, 1, 1), product_=p)

    classify(as_of=dt.date(2026, 1, 15))
    assert _snap(c).lifecycle == "loyal"  # 45 days since the last order < 2 × 30
    assert _snap(fresh).lifecycle == "new"
    assert _snap(yearly).lifecycle == "cultivate"  # 320 days < 2 × 365: not dormant for a yearly buyer
    classify(as_of=dt.date(2026, 2, 15))
    assert _snap(c).lifecycle == "dormant"  # 76 days > 2 × 30 — a fixed 90 days would miss it
    classify(as_of=dt.date(2026, 5, 15))
    assert _snap(c).lifecycle == "lost"  # 165 days > 4 × 30
    assert _snap(fresh).lifecycle in ("dormant", "lost", "cultivate")
    # Each state entered became one follow-up task for the owner, with the recommended action.
    actions = LifecycleAction.objects.filter(customer=c).order_by("period")
    assert [(a.period, a.lifecycle) for a in actions] == [("2026-02", "dormant"), ("2026-05", "lost")]
    task = actions[0].task
    assert task is not None and task.assignee == world.owner and task.customer_id == c.pk
    assert "创造新需求" in task.title


def test_new_customer_without_orders_then_cultivate(world):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC), tick=False):
        c = make_customer(world.owner, name="刚建档客户")
    classify(as_of=dt.date(2026, 6, 30))
    assert _snap(c).lifecycle == "new"
    classify(as_of=dt.date(2026, 10, 1))
    assert _snap(c).lifecycle == "cultivate"  # no order 122 days after creation


def test_snapshot_movement_and_digest(world):
    _only_revenue(world.admin)
    p = product("P1")
    mine = [make_customer(world.owner, name=f"客户{i}") for i in range(4)] + [world.customer]
    theirs = make_customer(world.outsider, name="北方客户")
    for i, c in enumerate([*mine, theirs]):
        order(c, dt.date(2026, 5, 1), product_=p, quantity=i + 1)
    first = classify(as_of=dt.date(2026, 5, 31))
    assert first is not None and first.moved_up == first.moved_down == 0  # nothing to compare with
    before = {c.pk: _snap(c).value_class for c in mine}
    order(mine[0], dt.date(2026, 6, 10), product_=p, quantity=50)  # the smallest becomes the biggest
    second = classify(as_of=dt.date(2026, 6, 30))
    assert second is not None
    s = _snap(mine[0], second)
    assert (s.prev_class, s.value_class) == (before[mine[0].pk], "A")
    assert s.movement == "ABCD".index(before[mine[0].pk]) - 0 > 0
    assert s.prev_score == _snap(mine[0], first).score
    moved = CustomerSnapshot.objects.filter(run=second).exclude(movement=0)
    assert second.moved_up == moved.filter(movement__gt=0).count() >= 1
    assert second.moved_down == moved.filter(movement__lt=0).count() >= 1
    # One digest per owner with moves.
    digests = RunDigest.objects.filter(run=second)
    owners = set(moved.values_list("owner_id", flat=True))
    assert set(digests.values_list("user_id", flat=True)) == owners
    assert FollowUpTask.objects.filter(assignee=world.owner, title__contains="2026-06").count() == 1
    # The run keeps its pre-aggregated summary.
    assert sum(RunSummary.objects.filter(run=second).values_list("customers", flat=True)) == 6


def test_reruns_are_idempotent(world):
    p = product("P1")
    order(world.customer, dt.date(2026, 1, 5), product_=p)
    c2 = make_customer(world.owner, name="第二家")
    order(c2, dt.date(2026, 6, 1), product_=p, quantity=3)
    first = classify(as_of=dt.date(2026, 6, 29))
    assert first is not None
    assert classify(as_of=dt.date(2026, 6, 30)) is None  # same period: nothing to do
    assert classify_due(today=dt.date(2026, 6, 30)) is None
    snaps = list(
        CustomerSnapshot.objects.filter(run=first)
        .order_by("customer_id")
        .values_list("customer_id", "score", "value_class")
    )
    assert first.config["persisted"] == 2  # both customers got their first labels
    again = classify(as_of=dt.date(2026, 6, 29), force=True)
    assert again is not None and again.pk == first.pk
    assert again.config["persisted"] == 0  # same labels: no customer row is rewritten
    assert (
        list(
            CustomerSnapshot.objects.filter(run=first)
            .order_by("customer_id")
            .values_list("customer_id", "score", "value_class")
        )
        == snaps
    )
    tasks = FollowUpTask.objects.count()
    classify(as_of=dt.date(2026, 7, 31))
    later = FollowUpTask.objects.count()
    classify(as_of=dt.date(2026, 7, 31), force=True)
    assert FollowUpTask.objects.count() == later >= tasks
    assert ClassificationRun.objects.count() == 2


def test_archived_customers_leave_the_population(world):
    classify(as_of=AS_OF)
    assert Customer.objects.get(pk=world.customer.pk).value_class == "A"
    Customer.objects.filter(pk=world.customer.pk).update(status="archived")
    run = classify(as_of=dt.date(2026, 7, 31))
    assert run is not None and run.population == 0
    c = Customer.objects.get(pk=world.customer.pk)
    assert (c.value_class, c.tier, c.lifecycle, c.rfm_segment) == ("", "", "", "")
    assert customer_value(customer=c).score is None


def test_pruning_candidate_when_service_costs_exceed_margin(world):
    p = product("P1", price="100", cost="90")  # margin 10 per unit
    order(world.customer, dt.date(2026, 5, 1), product_=p)
    Interaction.objects.all().delete()
    at = dt.datetime(2026, 5, 2, 10, 0, tzinfo=SHANGHAI)
    for _ in range(3):
        Interaction.objects.create(
            customer=world.customer, channel="visit", occurred_at=at, summary="拜访", created_by=world.owner
        )
    classify(as_of=AS_OF)
    s = _snap(world.customer)
    assert s.profit == 1000 and s.touches == 12 and s.service_cost == 12 * 5000 and s.prune is True


def test_many_touches_do_not_overflow_32_bit_arithmetic(world):
    """touches × 10⁸ exceeds a 32-bit integer from 22 touches on: PostgreSQL multiplies integer
    columns in 32 bits, so the cost index is computed in BIGINT (found at 1M customers)."""
    x = world.customer
    order(x, dt.date(2026, 3, 1), product_=product("P-T", price="100"), quantity=1)
    Interaction.objects.all().delete()
    at = dt.datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI)
    Interaction.objects.bulk_create(
        [
            Interaction(
                customer=x, channel="visit", occurred_at=at, summary=f"拜访{i}", created_by=world.owner
            )
            for i in range(40)
        ]
    )
    run = classify(as_of=AS_OF)
    assert run is not None
    s = _snap(x, run)
    assert s.touches == 40 * 4
    assert s.cost_index == 160 * 100_000_000 // (10_000 + 100_000)
    assert s.service_cost == 160 * 5000


def test_postgresql_runs_with_raised_work_mem_and_asynchronous_commit(settings):
    from django.db import connection, transaction

    from guanxi.value.engine.run import asynchronous_commit, run_memory

    if connection.vendor != "postgresql":
        pytest.skip("work_mem is a PostgreSQL setting")
    settings.GUANXI_VALUE_WORK_MEM_MB = 96
    with connection.cursor() as cursor, transaction.atomic(), run_memory():  # SET LOCAL: this transaction
        asynchronous_commit()
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "96MB"
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "off"


def test_sqlite_runs_with_a_larger_page_cache_put_back_afterwards(settings):
    from django.db import connection, transaction

    from guanxi.value.engine.run import run_memory

    if connection.vendor != "sqlite":
        pytest.skip("the page cache is SQLite's")
    settings.GUANXI_VALUE_WORK_MEM_MB = 96
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        with transaction.atomic(), run_memory():
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == -96 * 1024
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before != -96 * 1024
        with pytest.raises(ZeroDivisionError), transaction.atomic(), run_memory():
            1 / 0  # noqa: B018 - a failing run
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


def test_deleting_a_customer_removes_its_snapshots_and_actions(world):
    """The derived tables have no database constraints: Django's collector does the cascade."""
    classify(as_of=AS_OF)
    pk = world.customer.pk
    assert CustomerSnapshot.objects.filter(customer_id=pk).exists()
    LifecycleAction.objects.create(customer_id=pk, lifecycle="loyal", period="2026-06", run=latest_run())
    Customer.objects.filter(pk=pk).delete()
    assert not CustomerSnapshot.objects.filter(customer_id=pk).exists()
    assert not LifecycleAction.objects.filter(customer_id=pk).exists()


def test_deleting_a_task_keeps_its_lifecycle_action_without_it(world):
    """An action's task key has no database constraint either (migration 0008): a deleted task
    still leaves the action (the customer entered the state that period) with no task."""
    from guanxi.followup.models import FollowUpTask

    classify(as_of=AS_OF)
    task = FollowUpTask.objects.create(
        title="跟进", assignee=world.owner, customer=world.customer, due_on=AS_OF
    )
    action = LifecycleAction.objects.create(
        customer=world.customer, lifecycle="dormant", period="2026-06", run=latest_run(), task=task
    )
    task.delete()
    action.refresh_from_db()
    assert action.task_id is None


def test_bench_floor_commits_then_puts_the_classes_back(world, tmp_path):
    """The bench's persist floor is timed with its COMMIT (as the run is) and leaves every
    customer's class as it found it; the value workload reports the run against that floor."""
    from django.utils import timezone

    from guanxi.value import benchwork

    today = timezone.localdate()
    p = product("P-BENCH")
    for i in range(6):
        c = make_customer(world.owner, name=f"基准客户{i}")
        for k in range(i + 1):
            order(c, today - dt.timedelta(days=20 * k + 3), product_=p, quantity=i + 1)
    classify(as_of=today)
    before = dict(Customer.objects.values_list("id", "value_class"))
    assert "" not in before.values() and len(set(before.values())) > 1
    seconds = benchwork._persist_floor()
    assert seconds > 0
    assert dict(Customer.objects.values_list("id", "value_class")) == before
    logged: list[str] = []
    value, cube = benchwork.workloads(scale=None, data_dir=tmp_path, log=logged.append)
    assert value.key == "value_classify" and value.floor_seconds and value.floor_seconds > 0
    assert value.rows == Customer.objects.exclude(status="archived").count()
    assert value.passed == (value.seconds <= 2 * value.floor_seconds)
    assert "persist" in value.note and "stage" in value.extra["steps"]
    assert cube.key == "value_cube"
    assert ClassificationRun.objects.filter(period=period_of(today), status="done").count() == 1


def test_bench_settle_leaves_a_transaction_usable(world):
    """The bench's CHECKPOINT/VACUUM before a timed part is skipped inside a transaction (VACUUM
    cannot run in one), so a caller's transaction goes on."""
    from guanxi.value import benchwork

    assert benchwork._settle(vacuum=True) is False
    assert Customer.objects.count() >= 0  # the transaction is not aborted


def test_the_stage_columns_are_the_stage_table_s():
    """The stage SELECT lists its columns in ``STAGE_COLUMNS`` order; PostgreSQL's CREATE TABLE … AS
    casts each to the model table's type, SQLite's INSERT names them: both need the same set."""
    from guanxi.value.engine import sql
    from guanxi.value.models import IndicatorStage

    assert [f.column for f in IndicatorStage._meta.concrete_fields] == sql.STAGE_COLUMNS
