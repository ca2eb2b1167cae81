"""Writes: stage history and the audit trail, won/lost, version checks, bad input, deal people."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.engagement.selectors import customer_timeline
from guanxi.pipeline import services
from guanxi.pipeline.models import Opportunity, OpportunityLine, Pipeline, StageKind, StageStay
from guanxi.pipeline.services import DealLine
from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.relations.services import contact_decision_set
from guanxi.sales.models import Order
from guanxi.testing.factories import make_contact

pytestmark = pytest.mark.django_db


def test_create_puts_the_deal_in_the_first_stage_with_its_defaults(world, stages):
    opp = make_opportunity(world.customer)
    assert opp.stage == stages["Qualification"]
    assert opp.probability == 10 and opp.forecast_category == "pipeline"
    assert opp.team_id == world.owner.team_id
    assert opp.version == 1
    stay = StageStay.objects.get(opportunity=opp)
    assert stay.stage == stages["Qualification"] and stay.left_at is None
    event = AuditEvent.objects.get(action="opportunity.create", object_id=opp.pk)
    assert event.customer_id == world.customer.pk


def test_lines_make_the_amount(world, product):
    opp = make_opportunity(
        world.customer,
        amount=None,
        lines=[DealLine(product, Decimal("3")), DealLine(product, 2, Decimal("900"))],
    )
    assert opp.amount == Decimal("4800.00")
    assert OpportunityLine.objects.filter(opportunity=opp).count() == 2


def test_stage_history_and_cycle_times_are_recorded(world, stages):
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        opp = make_opportunity(world.customer)
    with time_machine.travel(start + dt.timedelta(days=4), tick=False):
        opp = services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=opp, stage=stages["Proposal"], version=1
        )
    with time_machine.travel(start + dt.timedelta(days=10), tick=False):
        opp = services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=opp, stage=stages["Negotiation"], version=2
        )
    stays = list(StageStay.objects.filter(opportunity=opp).order_by("entered_at"))
    assert [s.stage.name_en for s in stays] == ["Qualification", "Proposal", "Negotiation"]
    assert [(s.left_at - s.entered_at).days for s in stays[:2]] == [4, 6]
    assert stays[2].left_at is None
    assert opp.probability == 60 and opp.forecast_category == "best_case"
    moves = AuditEvent.objects.filter(action="opportunity.stage", object_id=opp.pk).order_by("created_at")
    assert [m.changes["stage"][1]["repr"] for m in moves] == ["方案报价", "商务谈判"]
    # the moves are on the customer's timeline
    actions = [e.event.action for e in customer_timeline(world.customer) if e.event]
    assert actions.count("opportunity.stage") == 2


def test_stale_version_is_refused_and_nothing_is_overwritten(world, stages):
    opp = make_opportunity(world.customer)
    first = Opportunity.objects.get(pk=opp.pk)
    second = Opportunity.objects.get(pk=opp.pk)
    services.opportunity_update(
        actor=world.owner, source=Source.UI, opportunity=first, version=first.version, next_step="发送报价"
    )
    with pytest.raises(Conflict) as exc:
        services.opportunity_update(
            actor=world.manager, source=Source.UI, opportunity=second, version=second.version, amount=1
        )
    assert exc.value.code == "stale_version" and exc.value.status == 409
    opp.refresh_from_db()
    assert opp.next_step == "发送报价" and opp.amount == Decimal("50000.00") and opp.version == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"amount": Decimal("-1")}, "negative_amount"),
        ({"expected_close_on": dt.date(1999, 1, 1)}, "close_date_past"),
        ({"expected_close_on": dt.date(2999, 1, 1)}, "close_date_future"),
        ({"name": "  "}, "required"),
        ({"probability": 101}, "invalid_probability"),
        ({"deal_source": "psychic"}, "unknown_source"),
        ({"forecast_category": "maybe"}, "unknown_forecast_category"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_written(world, data, code):
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(world.customer, **data)
    assert exc.value.code == code
    assert exc.value.message_zh and exc.value.message_en
    assert not Opportunity.objects.exists()


def test_negative_line_price_and_zero_quantity_are_refused(world, product):
    with pytest.raises(ValidationFailed):
        make_opportunity(world.customer, lines=[DealLine(product, 1, Decimal("-5"))])
    with pytest.raises(ValidationFailed):
        make_opportunity(world.customer, lines=[DealLine(product, 0)])
    assert not Opportunity.objects.exists()


def test_stage_of_another_pipeline_is_refused(world):
    renewals = Pipeline.objects.get(name="续约")
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(world.customer, stage=renewals.stages.first())
    assert exc.value.code == "unknown_stage"


def test_moving_to_won_goes_through_win(world, stages):
    opp = make_opportunity(world.customer)
    with pytest.raises(ValidationFailed) as exc:
        services.opportunity_move(
            actor=world.owner, source=Source.UI, opportunity=opp, stage=stages["Won"], version=1
        )
    assert exc.value.code == "closed_stage"


def test_win_creates_the_order_from_the_lines(world, product, stages):
    opp = make_opportunity(world.customer, amount=None, lines=[DealLine(product, 5)])
    opp = services.opportunity_win(actor=world.owner, source=Source.UI, opportunity=opp, version=1)
    assert opp.status == StageKind.WON and opp.stage == stages["Won"] and opp.probability == 100
    order = Order.objects.get(pk=opp.order_id)
    assert order.customer_id == world.customer.pk and order.amount == Decimal("5000.00")
    world.customer.refresh_from_db()
    assert world.customer.order_count == 1
    assert StageStay.objects.get(opportunity=opp, left_at__isnull=True).stage == stages["Won"]


def test_win_links_an_existing_order_of_the_same_customer_only(world, product):
    from guanxi.sales.services import LineInput, order_create
    from guanxi.testing.factories import make_customer

    opp = make_opportunity(world.customer, amount=0)
    other = make_customer(world.owner, name="另一家公司")
    foreign = order_create(
        actor=world.owner, source=Source.UI, customer=other, lines=[LineInput(product, Decimal(1))]
    )
    with pytest.raises(ValidationFailed) as exc:
        services.opportunity_win(
            actor=world.owner, source=Source.UI, opportunity=opp, version=1, order=foreign
        )
    assert exc.value.code == "foreign_order"
    with pytest.raises(ValidationFailed) as exc:
        services.opportunity_win(actor=world.owner, source=Source.UI, opportunity=opp, version=1)
    assert exc.value.code == "order_required"
    mine = order_create(
        actor=world.owner, source=Source.UI, customer=world.customer, lines=[LineInput(product, Decimal(2))]
    )
    opp = services.opportunity_win(
        actor=world.owner, source=Source.UI, opportunity=opp, version=1, order=mine
    )
    assert opp.order == mine and opp.amount == Decimal("2000.00")


def test_lose_needs_a_known_reason_and_reopen_restores_the_last_stage(world, stages):
    opp = make_opportunity(world.customer, stage=stages["Negotiation"])
    with pytest.raises(ValidationFailed):
        services.opportunity_lose(
            actor=world.owner, source=Source.UI, opportunity=opp, version=1, reason="bad luck"
        )
    opp = services.opportunity_lose(
        actor=world.owner, source=Source.UI, opportunity=opp, version=1, reason="competitor", lost_to="西门子"
    )
    assert opp.status == StageKind.LOST and opp.lost_reason == "competitor" and opp.probability == 0
    assert AuditEvent.objects.filter(action="opportunity.lost", customer_id=world.customer.pk).exists()
    opp = services.opportunity_reopen(
        actor=world.owner, source=Source.UI, opportunity=opp, version=opp.version
    )
    assert opp.status == StageKind.OPEN and opp.stage == stages["Negotiation"] and not opp.lost_reason


def test_people_default_to_the_decision_chain_and_engagement_is_tracked(world):
    opp = make_opportunity(world.customer)
    boss = make_contact(world.customer, name="刘总")
    contact_decision_set(
        actor=world.owner, source=Source.UI, contact=boss, roles=["decision_maker"], stance="supporter"
    )
    person = services.opportunity_person_set(
        actor=world.owner, source=Source.UI, opportunity=opp, contact=boss
    )
    assert (person.role, person.stance, person.engaged) == ("decision_maker", "supporter", False)
    opp.refresh_from_db()
    assert not opp.decision_maker_engaged
    services.opportunity_person_set(
        actor=world.owner, source=Source.UI, opportunity=opp, contact=boss, engaged=True
    )
    opp.refresh_from_db()
    assert opp.decision_maker_engaged
    services.opportunity_person_remove(
        actor=world.owner, source=Source.UI, opportunity=opp, person_id=person.pk
    )
    opp.refresh_from_db()
    assert not opp.decision_maker_engaged
    assert AuditEvent.objects.filter(action="opportunity.people", object_id=opp.pk).count() == 3


def test_people_of_another_customer_are_refused(world):
    from guanxi.testing.factories import make_customer

    opp = make_opportunity(world.customer)
    stranger = make_contact(make_customer(world.owner, name="别的公司"), name="路人")
    with pytest.raises(ValidationFailed):
        services.opportunity_person_set(
            actor=world.owner, source=Source.UI, opportunity=opp, contact=stranger
        )


def test_owner_must_be_someone_the_actor_may_assign(world):
    with pytest.raises(NotFound):
        make_opportunity(world.customer, owner=world.outsider)
    opp = make_opportunity(world.customer, actor=world.manager, owner=world.teammate)
    assert opp.owner == world.teammate


def test_only_administrators_edit_pipelines(world):
    with pytest.raises(PermissionDenied):
        services.pipeline_create(actor=world.manager, source=Source.UI, name="项目制")
    p = services.pipeline_create(actor=world.admin, source=Source.UI, name="项目制", name_en="Projects")
    assert sorted(p.stages.values_list("kind", flat=True)) == ["lost", "won"]
    s = services.stage_create(actor=world.admin, source=Source.UI, pipeline=p, name="立项", probability=15)
    assert s.kind == "open" and s.position == 1
    with pytest.raises(ValidationFailed):
        services.stage_update(actor=world.admin, source=Source.UI, stage=s, probability=150)
    with pytest.raises(ValidationFailed):
        services.stage_update(actor=world.admin, source=Source.UI, stage=s, kind="won")
    won = p.stages.get(kind="won")
    with pytest.raises(ValidationFailed):
        services.stage_update(actor=world.admin, source=Source.UI, stage=won, probability=50)


def test_a_stage_with_deals_cannot_be_deactivated(world, stages):
    make_opportunity(world.customer)
    with pytest.raises(ValidationFailed) as exc:
        services.stage_update(
            actor=world.admin, source=Source.UI, stage=stages["Qualification"], is_active=False
        )
    assert exc.value.code == "stage_in_use"
