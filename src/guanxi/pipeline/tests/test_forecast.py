"""Forecast arithmetic and the pipeline analysis on hand-computed fixtures, and their visibility."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.pipeline import services
from guanxi.pipeline.forecast import analysis, forecast, forecast_snapshot_take, period_start
from guanxi.pipeline.models import ForecastSnapshot
from guanxi.pipeline.selectors import DealFilters
from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))
MAY_15 = dt.datetime(2026, 5, 15, 10, 0, tzinfo=TZ)
Q2, Q3 = dt.date(2026, 4, 1), dt.date(2026, 7, 1)


def _deal(customer, amount, category, probability, close, **kw):
    return make_opportunity(
        customer,
        amount=Decimal(amount),
        forecast_category=category,
        probability=probability,
        expected_close_on=close,
        **kw,
    )


@pytest.fixture
def book(world, stages, product):
    """Alice's deals (hand-computed below) and one of Bob's on his own customer."""
    with time_machine.travel(MAY_15, tick=False):
        c = world.customer
        _deal(c, 100_000, "commit", 80, dt.date(2026, 5, 20), name="A")
        _deal(c, 50_000, "best_case", 40, dt.date(2026, 6, 10), name="B")
        _deal(c, 20_000, "pipeline", 10, dt.date(2026, 4, 30), name="C")
        _deal(c, 30_000, "omitted", 20, dt.date(2026, 6, 1), name="D")
        _deal(c, 40_000, "commit", 60, dt.date(2026, 7, 15), name="E")
        won = _deal(c, 25_000, "commit", 90, dt.date(2026, 5, 30), name="F")
        order = order_create(
            actor=world.owner, source=Source.UI, customer=c, lines=[LineInput(product, Decimal(25))]
        )
        services.opportunity_win(
            actor=world.owner,
            source=Source.UI,
            opportunity=won,
            version=1,
            order=order,
            closed_on=dt.date(2026, 5, 2),
        )
        bobs = make_customer(world.teammate, name="李波的客户")
        _deal(bobs, 10_000, "commit", 50, dt.date(2026, 6, 20), name="G", actor=world.teammate)
    return world


def test_forecast_per_salesperson_matches_the_hand_computed_figures(book):
    f = forecast(user=book.owner, kind="quarter", start=Q2, periods=2, today=MAY_15.date())
    assert [r.label for r in f.rows] == ["王丽"]  # only her own deals
    q2, q3 = f.rows[0].periods[Q2], f.rows[0].periods[Q3]
    assert q2.commit == Decimal("100000.00")
    assert q2.best_case == Decimal("150000.00")  # commit + best case
    assert q2.pipeline == Decimal("170000.00")  # everything open except the omitted deal
    assert q2.weighted == Decimal("102000.00")  # 80 000 + 20 000 + 2 000
    assert q2.won == Decimal("25000.00") and q2.won_count == 1
    assert q2.open_count == 3
    assert (q3.commit, q3.best_case, q3.pipeline, q3.weighted) == (
        Decimal("40000.00"),
        Decimal("40000.00"),
        Decimal("40000.00"),
        Decimal("24000.00"),
    )
    assert f.totals[Q2].commit == Decimal("100000.00")


def test_monthly_forecast_splits_the_quarter(book):
    f = forecast(user=book.owner, kind="month", start=dt.date(2026, 4, 1), periods=3, today=MAY_15.date())
    row = f.rows[0].periods
    assert row[dt.date(2026, 4, 1)].pipeline == Decimal("20000.00")
    assert row[dt.date(2026, 5, 1)].commit == Decimal("100000.00")
    assert row[dt.date(2026, 5, 1)].won == Decimal("25000.00")
    assert row[dt.date(2026, 6, 1)].best_case == Decimal("50000.00")


def test_forecast_visibility_in_every_total(book):
    manager = forecast(user=book.manager, kind="quarter", start=Q2, periods=1, today=MAY_15.date())
    assert sorted(r.label for r in manager.rows) == ["李波", "王丽"]
    assert manager.totals[Q2].commit == Decimal("110000.00")
    teammate = forecast(user=book.teammate, kind="quarter", start=Q2, periods=1, today=MAY_15.date())
    assert [r.label for r in teammate.rows] == ["李波"]
    assert teammate.totals[Q2].commit == Decimal("10000.00")
    outsider = forecast(user=book.outsider, kind="quarter", start=Q2, periods=1, today=MAY_15.date())
    assert outsider.rows == [] and outsider.totals[Q2].pipeline == 0
    by_team = forecast(
        user=book.manager, kind="quarter", start=Q2, periods=1, group="team", today=MAY_15.date()
    )
    assert [r.label for r in by_team.rows] == ["华东组"]
    assert by_team.rows[0].periods[Q2].weighted == Decimal("107000.00")


def test_forecast_accuracy_compares_the_opening_snapshot_with_the_actual(world, stages, product):
    with time_machine.travel(dt.datetime(2026, 4, 1, 9, tzinfo=TZ), tick=False):
        a = _deal(world.customer, 100_000, "commit", 80, dt.date(2026, 5, 20), name="A")
        b = _deal(world.customer, 50_000, "best_case", 40, dt.date(2026, 6, 10), name="B")
        assert forecast_snapshot_take(today=timezone.localdate()) > 0
    snap = ForecastSnapshot.objects.get(period_kind="quarter", period_start=Q2, owner=world.owner)
    assert (snap.commit, snap.best_case, snap.weighted) == (
        Decimal("100000.00"),
        Decimal("150000.00"),
        Decimal("100000.00"),
    )
    with time_machine.travel(dt.datetime(2026, 5, 20, 9, tzinfo=TZ), tick=False):
        order = order_create(
            actor=world.owner,
            source=Source.UI,
            customer=world.customer,
            lines=[LineInput(product, Decimal(80))],
        )
        services.opportunity_win(actor=world.owner, source=Source.UI, opportunity=a, version=1, order=order)
        services.opportunity_lose(
            actor=world.owner, source=Source.UI, opportunity=b, version=1, reason="price"
        )
        forecast_snapshot_take(today=timezone.localdate())  # mid-period: not the opening forecast
    f = forecast(user=world.owner, kind="quarter", start=Q2, periods=1, today=dt.date(2026, 7, 2))
    q2 = f.rows[0].periods[Q2]
    assert q2.won == Decimal("80000.00")
    assert q2.forecast_commit == Decimal("100000.00")
    assert q2.accuracy == Decimal("0.80")
    assert q2.weighted_error == Decimal("0.20")
    assert f.is_past(Q2)
    # the outsider never sees Alice's snapshot
    assert (
        forecast(user=world.outsider, kind="quarter", start=Q2, periods=1, today=dt.date(2026, 7, 2)).rows
        == []
    )


def test_snapshot_is_idempotent_per_day(world, stages):
    _deal(world.customer, 1000, "commit", 50, timezone.localdate() + dt.timedelta(days=3))
    first = forecast_snapshot_take()
    assert forecast_snapshot_take() == first
    assert ForecastSnapshot.objects.count() == first


def test_analysis_cycle_conversion_win_rates_and_stuck_deals(world, stages, product):
    day0 = dt.datetime(2026, 3, 2, 9, tzinfo=TZ)

    def at(days):
        return time_machine.travel(day0 + dt.timedelta(days=days), tick=False)

    with at(0):
        d1 = make_opportunity(world.customer, name="d1", deal_source="exhibition")
        d2 = make_opportunity(world.customer, name="d2", deal_source="cold_call")
        d3 = make_opportunity(world.customer, name="d3", deal_source="cold_call")
        boss = make_contact(world.customer, name="刘总")
        services.opportunity_person_set(
            actor=world.owner,
            source=Source.UI,
            opportunity=d1,
            contact=boss,
            role="decision_maker",
            engaged=True,
        )
    with at(2):
        services.opportunity_lose(
            actor=world.owner, source=Source.UI, opportunity=d2, version=1, reason="price"
        )
    with at(4):
        d1 = services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=d1, stage=stages["Proposal"], version=1
        )
    with at(6):
        services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=d3, stage=stages["Proposal"], version=1
        )
    with at(10):
        d1 = services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=d1, stage=stages["Negotiation"], version=2
        )
    with at(12):
        order = order_create(
            actor=world.owner,
            source=Source.UI,
            customer=world.customer,
            lines=[LineInput(product, Decimal(1))],
        )
        services.opportunity_win(actor=world.owner, source=Source.UI, opportunity=d1, version=3, order=order)
    a = analysis(user=world.owner, now=day0 + dt.timedelta(days=40))
    by_stage = {c.stage.name_en: c for c in a.stages}
    assert by_stage["Qualification"].avg_days == pytest.approx(4.0)  # 4, 2, 6 days
    assert by_stage["Qualification"].stays == 3
    assert by_stage["Proposal"].avg_days == pytest.approx(6.0)
    assert by_stage["Negotiation"].avg_days == pytest.approx(2.0)
    assert [
        by_stage[n].reached
        for n in ("Qualification", "Needs analysis", "Proposal", "Negotiation", "Contract")
    ] == [
        3,
        2,
        2,
        1,
        1,
    ]
    assert by_stage["Qualification"].conversion == pytest.approx(2 / 3)
    assert by_stage["Proposal"].conversion == pytest.approx(0.5)
    assert by_stage["Contract"].conversion == pytest.approx(1.0)
    assert a.cycle_won_days == pytest.approx(12.0) and a.cycle_lost_days == pytest.approx(2.0)
    assert (a.won, a.lost, a.win_rate) == (1, 1, 0.5)
    assert {r.key: (r.won, r.lost) for r in a.by_source} == {"exhibition": (1, 0), "cold_call": (0, 1)}
    assert {r.key: (r.won, r.lost) for r in a.by_decision_maker} == {"True": (1, 0), "False": (0, 1)}
    # Win rates by objection category read the objection log (test_deal_objections); a lost
    # reason alone is not an objection raised in the sale.
    assert a.by_objection == []
    assert [o.name for o in a.stuck] == ["d3"]  # 34 days in Proposal, the usual being unknown (30)
    assert by_stage["Qualification"].stuck_after_days == pytest.approx(7.0)  # max(4 × 1.5, 7)
    # visibility: the outsider's analysis counts nothing
    other = analysis(user=world.outsider, now=day0 + dt.timedelta(days=40))
    assert (other.won, other.lost, other.stuck) == (0, 0, [])
    assert all(c.reached == 0 and c.stays == 0 for c in other.stages)
    assert analysis(user=world.manager, filters=DealFilters(source="cold_call"), now=day0).lost == 1


def test_period_start():
    assert period_start(dt.date(2026, 8, 31), "quarter") == Q3
    assert period_start(dt.date(2026, 8, 31), "month") == dt.date(2026, 8, 1)


def test_forecast_page_cells_show_every_figure_in_both_languages(book, client_for):
    """The page's cells (the ``forecast_figures`` tag): each figure with its label, translated once
    per page, the accuracy of a past period with an opening snapshot as a percentage."""
    from django.template import Context, Template
    from django.utils import translation

    from guanxi.pipeline.forecast import Figures

    with time_machine.travel(MAY_15, tick=False):
        page = client_for(book.owner).get("/pipeline/forecast/", {"kind": "quarter"}).content.decode()
    q2 = (
        '<dl class="figures"><dt>承诺</dt><dd>¥100,000</dd><dt>乐观</dt><dd>¥150,000</dd>'
        "<dt>管道</dt><dd>¥170,000</dd><dt>加权</dt><dd>¥102,000</dd>"
        "<dt>赢单</dt><dd><strong>¥25,000</strong></dd></dl>"
    )
    assert q2 in page
    assert "<dt>期初承诺</dt>" not in page  # no snapshot was taken

    past = Figures(commit=Decimal("1234.50"), won=Decimal("80000"), forecast_commit=Decimal("100000.00"))
    cell = Template("{% load pipeline_tags %}{% forecast_figures f %}")
    with translation.override("en"):
        english = cell.render(Context({"f": past}))
    assert english.startswith('<dl class="figures"><dt>Commit</dt><dd>¥1,234</dd><dt>Best case</dt>')
    assert "承诺" not in english and "¥100,000" in english and "80%</dd>" in english
    with translation.override("zh-hans"):
        chinese = cell.render(Context({"f": past}))
    assert "<dt>期初承诺</dt><dd>¥100,000</dd><dt>准确率</dt><dd>80%</dd>" in chinese
