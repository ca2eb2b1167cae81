"""Services: validation before saving, one transaction, an audit event with before/after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.services import contact_create, contact_update, customer_create, customer_update
from guanxi.engagement.services import interaction_log
from guanxi.sales.models import Order
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import ProductFactory, UserFactory, make_contact, make_customer

pytestmark = pytest.mark.django_db


def counts():
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        ContactPoint.objects.count(),
        AuditEvent.objects.count(),
        Order.objects.count(),
    )


def test_customer_update_records_before_and_after(world):
    customer_update(
        actor=world.owner, source="api", customer=world.customer, city="广州", tags=["重点", "老客户"]
    )
    event = AuditEvent.objects.filter(action="customer.update").latest("id")
    assert event.changes["city"] == ["深圳", "广州"]
    assert event.changes["tags"] == [["重点"], ["老客户", "重点"]]
    assert event.actor == world.owner and event.source == "api" and event.customer_id == world.customer.pk


def test_update_without_changes_records_nothing(world):
    before = AuditEvent.objects.count()
    customer_update(actor=world.owner, source="api", customer=world.customer, city="深圳")
    assert AuditEvent.objects.count() == before


def test_invalid_update_changes_nothing(world):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        customer_update(
            actor=world.owner, source="api", customer=world.customer, city="广州", latitude=Decimal("123.0")
        )
    assert exc.value.message_zh and exc.value.message_en
    world.customer.refresh_from_db()
    assert world.customer.city == "深圳"
    assert counts() == before


def test_contact_with_one_bad_email_is_not_half_written(world):
    before = counts()
    with pytest.raises(ValidationFailed) as exc:
        contact_create(
            actor=world.owner,
            source="api",
            customer=world.customer,
            name="李娜",
            phones=["13800138000"],
            emails=["ok@example.com", "not-an-email"],
        )
    assert exc.value.code == "invalid_email"
    assert counts() == before


def test_contact_phone_is_normalised_and_raw_kept(world):
    contact = make_contact(world.customer, name="王强", phones=["１３８-００１３-８０００", "(415) 555-2671"])
    points = list(contact.points.all())
    assert [p.raw for p in points] == ["１３８-００１３-８０００", "(415) 555-2671"]
    assert points[0].value == "+8613800138000" and not points[0].is_ambiguous
    assert points[1].is_ambiguous


def test_contact_update_replaces_phones_and_keeps_history(world):
    contact = Contact.objects.get(name="张伟")
    contact_update(actor=world.owner, source="ui", contact=contact, phones=["13700137000"], title="采购总监")
    event = AuditEvent.objects.filter(action="contact.update").latest("id")
    assert event.changes["phones"] == [["13900139000"], ["13700137000"]]
    assert event.changes["title"] == ["采购经理", "采购总监"]
    assert list(contact.points.filter(kind="phone").values_list("value", flat=True)) == ["+8613700137000"]


def test_salesperson_cannot_assign_customer_to_someone_else(world):
    before = counts()
    with pytest.raises(PermissionDenied):
        customer_create(actor=world.owner, source="ui", owner=world.outsider, name="新客户")
    assert counts() == before


def test_manager_can_assign_within_team_but_not_outside(world):
    c = customer_create(actor=world.manager, source="ui", owner=world.teammate, name="分配客户")
    assert c.owner == world.teammate and c.team == world.east
    with pytest.raises(PermissionDenied):
        customer_create(actor=world.manager, source="ui", owner=world.outsider, name="越权客户")


def test_order_with_a_bad_line_writes_nothing(world):
    good, bad = ProductFactory(), ProductFactory()
    before = counts()
    with pytest.raises(ValidationFailed):
        order_create(
            actor=world.owner,
            source="api",
            customer=world.customer,
            lines=[LineInput(good, Decimal(2)), LineInput(bad, Decimal(-1))],
        )
    assert counts() == before
    world.customer.refresh_from_db()
    assert world.customer.order_count == 0


def test_order_updates_customer_figures(world):
    product = ProductFactory(price=Decimal("250.00"))
    order_create(
        actor=world.owner,
        source="api",
        customer=world.customer,
        lines=[LineInput(product, Decimal(4))],
        ordered_on=timezone.localdate() - dt.timedelta(days=3),
    )
    world.customer.refresh_from_db()
    assert world.customer.order_count == 1
    assert world.customer.revenue_total == Decimal("1000.00")
    assert world.customer.last_order_at == timezone.localdate() - dt.timedelta(days=3)


def test_backdated_interaction_does_not_move_last_contact_backwards(world):
    latest = world.customer.last_interaction_at
    interaction_log(
        actor=world.owner,
        source="ui",
        customer=world.customer,
        channel="phone",
        summary="补记",
        occurred_at=latest - dt.timedelta(days=30),
    )
    world.customer.refresh_from_db()
    assert world.customer.last_interaction_at == latest


def test_interaction_in_the_future_is_rejected(world):
    with pytest.raises(ValidationFailed) as exc:
        interaction_log(
            actor=world.owner,
            source="ui",
            customer=world.customer,
            channel="visit",
            summary="未来",
            occurred_at=timezone.now() + dt.timedelta(days=3),
        )
    assert exc.value.field == "occurred_at"


def test_name_is_required_and_trimmed():
    owner = UserFactory()
    with pytest.raises(ValidationFailed):
        make_customer(owner, name="   ")
    assert make_customer(owner, name="  腾讯  ").name == "腾讯"


def test_salesperson_cannot_delete_customer(world):
    from guanxi.customers.services import customer_delete

    with pytest.raises(PermissionDenied):
        customer_delete(actor=world.owner, source="ui", customer=world.customer)
    assert Customer.objects.filter(pk=world.customer.pk).exists()


def test_customer_with_orders_cannot_be_deleted(world):
    from guanxi.core.errors import Conflict
    from guanxi.customers.services import customer_delete

    order_create(
        actor=world.owner,
        source="api",
        customer=world.customer,
        lines=[LineInput(ProductFactory(), Decimal(1))],
    )
    with pytest.raises(Conflict):
        customer_delete(actor=world.manager, source="ui", customer=world.customer)
    assert Customer.objects.filter(pk=world.customer.pk).exists()


def test_manager_deletes_customer_and_the_deletion_is_audited(world):
    from guanxi.customers.services import customer_delete

    pk = world.customer.pk
    customer_delete(actor=world.manager, source="ui", customer=world.customer)
    assert not Customer.objects.filter(pk=pk).exists()
    assert not Contact.objects.filter(customer_id=pk).exists()
    event = AuditEvent.objects.get(action="customer.delete", object_id=pk)
    assert event.actor == world.manager and event.changes["name"] == ["华为技术有限公司", None]


@pytest.mark.django_db
def test_customer_visible_check_agrees_with_the_visibility_rule(world):
    from guanxi.audit.models import Source
    from guanxi.customers.selectors import customer_queryset_for_user, customer_visible_check
    from guanxi.customers.services import customer_share
    from guanxi.testing.factories import make_customer

    north = make_customer(world.outsider, name="北方客户")
    shared = make_customer(world.outsider, name="共享客户")
    customer_share(actor=world.outsider, source=Source.UI, customer=shared, team=world.east)
    make_customer(world.teammate, name="同组客户")
    everyone = list(Customer.objects.values_list("id", "owner_id", "team_id"))
    assert north.pk and len(everyone) == 4
    for user in (world.owner, world.teammate, world.outsider, world.manager, world.admin):
        check = customer_visible_check(user)
        expected = set(customer_queryset_for_user(user).values_list("id", flat=True))
        assert {cid for cid, owner, team in everyone if check(cid, owner, team)} == expected, user
