from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import Conflict, PermissionDenied
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.services import customer_share
from guanxi.dataio.merge import contact_merge, customer_merge, merge_undo
from guanxi.dataio.models import MergeRecord
from guanxi.engagement.models import Interaction
from guanxi.sales.models import Order
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import ProductFactory, make_contact, make_customer, make_interaction


@pytest.fixture
def twin(world):
    twin = make_customer(
        world.owner,
        name="华为技术",
        province="广东",
        city="深圳",
        phone="0755-28780808",
        notes="老客户",
        tags=["重点", "通信"],
    )
    contact = make_contact(twin, name="李娜", phones=["13800138000"])
    make_interaction(twin, summary="电话回访", contacts=[contact])
    order_create(
        actor=world.owner,
        source=Source.SYSTEM,
        customer=twin,
        lines=[LineInput(product=ProductFactory(), quantity=Decimal(2))],
    )
    customer_share(actor=world.owner, source=Source.SYSTEM, customer=twin, user=world.teammate)
    return twin


def test_merge_moves_everything_to_the_survivor_and_keeps_the_merged_record(world, twin):
    survivor = world.customer
    record = customer_merge(
        actor=world.owner, source=Source.UI, survivor=survivor, merged=twin, fields={"notes": "merged"}
    )
    survivor.refresh_from_db()
    assert not Customer.objects.filter(pk=twin.pk).exists()
    assert set(survivor.contacts.values_list("name", flat=True)) == {"张伟", "李娜"}
    assert survivor.interactions.count() == 2
    assert survivor.orders.count() == 1 and survivor.order_count == 1
    assert survivor.revenue_total == Order.objects.get(customer=survivor).amount
    assert survivor.notes == "老客户"  # chosen from the merged record
    assert survivor.phone == "0755-28780808"  # filled in: the survivor had none
    assert survivor.name == "华为技术有限公司"  # kept
    assert set(survivor.tags.values_list("name", flat=True)) == {"重点", "通信"}
    assert survivor.shares.filter(user=world.teammate).exists()
    # the merged customer's history now reads on the survivor
    assert AuditEvent.objects.filter(customer=survivor, action="customer.merge").exists()
    assert AuditEvent.objects.filter(customer_id=twin.pk).count() == 0
    assert record.snapshot["fields"]["name"] == "华为技术"
    # moved contacts and interactions are indexed under the survivor's scope
    assert set(Contact.objects.filter(customer=survivor).values_list("search_scope", flat=True)) == {
        survivor.search_scope
    }


def test_undo_restores_the_merged_customer_and_its_rows(world, twin):
    survivor = world.customer
    before_contacts = set(twin.contacts.values_list("pk", flat=True))
    before_events = set(AuditEvent.objects.filter(customer=twin).values_list("pk", flat=True))
    record = customer_merge(
        actor=world.owner, source=Source.UI, survivor=survivor, merged=twin, fields={"notes": "merged"}
    )
    restored = merge_undo(actor=world.owner, source=Source.UI, record=record)
    assert restored.pk == twin.pk and restored.name == "华为技术"
    survivor.refresh_from_db()
    assert survivor.notes == "" and survivor.phone == ""
    assert set(restored.contacts.values_list("pk", flat=True)) == before_contacts
    assert restored.orders.count() == 1 and survivor.orders.count() == 0
    restored.refresh_from_db()
    assert restored.order_count == 1 and survivor.order_count == 0
    assert set(restored.tags.values_list("name", flat=True)) == {"重点", "通信"}
    assert set(survivor.tags.values_list("name", flat=True)) == {"重点"}
    assert before_events <= set(AuditEvent.objects.filter(customer=restored).values_list("pk", flat=True))
    assert restored.shares.filter(user=world.teammate).exists()
    assert Interaction.objects.filter(customer=restored).count() == 1
    with pytest.raises(Conflict):
        merge_undo(actor=world.owner, source=Source.UI, record=MergeRecord.objects.get(pk=record.pk))


def test_outsider_and_teammate_cannot_merge(world, twin):
    for user in (world.outsider, world.teammate):
        with pytest.raises(PermissionDenied):
            customer_merge(actor=user, source=Source.UI, survivor=world.customer, merged=twin)
    assert Customer.objects.filter(pk=twin.pk).exists()


def test_manager_may_merge_team_customers(world, twin):
    record = customer_merge(actor=world.manager, source=Source.UI, survivor=world.customer, merged=twin)
    assert record.created_by == world.manager


def test_contact_merge_moves_points_and_interactions_and_undoes(world):
    keep = world.customer.contacts.get()
    dup = make_contact(world.customer, name="张伟", phones=["139 0013 9000", "13700137000"], wechat_id="zw88")
    make_interaction(world.customer, summary="微信沟通", contacts=[dup, keep])
    record = contact_merge(actor=world.owner, source=Source.UI, survivor=keep, merged=dup)
    keep.refresh_from_db()
    values = list(ContactPoint.objects.filter(contact=keep).values_list("value", flat=True))
    assert sorted(values) == sorted(["+8613900139000", "zhangwei@example.com", "+8613700137000"])
    assert keep.wechat_id == "zw88"
    assert keep.interactions.count() == 2
    restored = merge_undo(actor=world.owner, source=Source.UI, record=record)
    keep.refresh_from_db()
    assert keep.wechat_id == ""
    assert restored.points.count() == 2
    assert restored.interactions.count() == 1
