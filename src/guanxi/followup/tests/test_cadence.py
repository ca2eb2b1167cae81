"""Cadence: the policy's default, overrides, reset by every channel, ranking, too-frequent contact,
key contacts, and only the user's own customers."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.core.errors import ValidationFailed
from guanxi.engagement.models import Channel
from guanxi.followup import cadence, selectors, services
from guanxi.followup.cadence import CadencePolicy, Rule
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db


def _breach_ids(user) -> list[int]:
    breaches, _ = selectors.cadence_breaches(user, timezone.now())
    return [b.customer.pk for b in breaches]


def test_default_cadence_comes_from_status_and_relationship_type(world):
    c = world.customer  # an active? prospect channel customer
    assert c.status == "prospect"
    assert cadence.cadence_days(c) == 14
    c.status = "active"
    assert cadence.cadence_days(c) == 14  # channel
    c.relationship_type = "partner"
    assert cadence.cadence_days(c) == 21
    c.status = "archived"
    assert cadence.cadence_days(c) is None
    c.status, c.cadence_days = "active", 5
    assert cadence.cadence_days(c) == 5 and cadence.default_cadence_days(c) == 21


class EveryWeek(CadencePolicy):
    rules = (Rule({}, 7),)


def test_the_policy_is_pluggable_through_a_setting(world):
    cadence._policy.cache_clear()
    with override_settings(GUANXI_CADENCE_POLICY=f"{__name__}.EveryWeek"):
        assert cadence.cadence_days(world.customer) == 7
        customer = make_customer(world.owner, name="七天客户", status="active")
        make_interaction(customer, occurred_at=timezone.now() - dt.timedelta(days=8))
        assert customer.pk in _breach_ids(world.owner)
    cadence._policy.cache_clear()


@pytest.mark.parametrize("channel", Channel.values)
def test_any_logged_interaction_resets_the_clock(world, channel):
    customer = make_customer(world.owner, name="逾期客户", status="active", relationship_type="end")
    make_interaction(customer, channel="visit", occurred_at=timezone.now() - dt.timedelta(days=45))
    assert customer.pk in _breach_ids(world.owner)
    make_interaction(customer, channel=channel, occurred_at=timezone.now() - dt.timedelta(hours=2))
    assert customer.pk not in _breach_ids(world.owner)


def test_breaches_rank_by_how_overdue_weighted_by_importance(world):
    mild = make_customer(world.owner, name="稍微逾期", status="active", relationship_type="end")  # 30 d
    bad = make_customer(world.owner, name="严重逾期", status="active", relationship_type="end")
    channel = make_customer(
        world.owner, name="渠道逾期", status="active", relationship_type="channel"
    )  # 14 d
    fine = make_customer(world.owner, name="刚联系过", status="active", relationship_type="end")
    make_interaction(mild, occurred_at=timezone.now() - dt.timedelta(days=35))
    make_interaction(bad, occurred_at=timezone.now() - dt.timedelta(days=150))
    make_interaction(channel, occurred_at=timezone.now() - dt.timedelta(days=30))
    make_interaction(fine, occurred_at=timezone.now() - dt.timedelta(days=3))
    breaches, total = selectors.cadence_breaches(world.owner, timezone.now())
    ids = [b.customer.pk for b in breaches]
    assert fine.pk not in ids
    assert ids.index(bad.pk) < ids.index(channel.pk) < ids.index(mild.pk)
    by_id = {b.customer.pk: b for b in breaches}
    assert by_id[bad.pk].overdue_days == pytest.approx(120, abs=0.1)
    # a channel (weight 1.5, 14 days) 30 days silent outranks an end customer 35 days silent
    assert by_id[channel.pk].cadence_days == 14
    assert total == len(ids)


def test_override_changes_the_breach(world):
    customer = make_customer(world.owner, name="自定义频率", status="active", relationship_type="end")
    make_interaction(customer, occurred_at=timezone.now() - dt.timedelta(days=10))
    assert customer.pk not in _breach_ids(world.owner)
    services.cadence_set(actor=world.owner, source=Source.UI, customer=customer, days=7)
    assert customer.pk in _breach_ids(world.owner)
    with pytest.raises(ValidationFailed):
        services.cadence_set(actor=world.owner, source=Source.UI, customer=customer, days=0)
    with pytest.raises(ValidationFailed):
        services.cadence_set(actor=world.owner, source=Source.UI, customer=customer, days=10_000)


def test_archived_customers_have_no_cadence_and_others_see_nothing_of_alice(world):
    archived = make_customer(world.owner, name="已归档", status="archived")
    assert archived.pk not in _breach_ids(world.owner)
    stale = make_customer(world.owner, name="久未联系", status="active")
    make_interaction(stale, occurred_at=timezone.now() - dt.timedelta(days=100))
    assert stale.pk in _breach_ids(world.owner)
    for persona in (world.teammate, world.outsider):
        assert stale.pk not in _breach_ids(persona)


def test_too_frequent_contact_is_flagged(world):
    customer = make_customer(world.owner, name="联系太勤", status="active", relationship_type="end")  # 30 d
    for hours in (5, 30, 60):
        make_interaction(customer, channel="phone", occurred_at=timezone.now() - dt.timedelta(hours=hours))
    inbound = make_customer(world.owner, name="客户主动", status="active", relationship_type="end")
    for hours in (5, 30, 60):
        make_interaction(inbound, direction="in", occurred_at=timezone.now() - dt.timedelta(hours=hours))
    flagged = {f.customer.pk: f for f in selectors.too_frequent(world.owner, timezone.now())}
    assert customer.pk in flagged and flagged[customer.pk].count == 3
    assert inbound.pk not in flagged  # the customer calling us is not us annoying them
    assert not selectors.too_frequent(world.outsider, timezone.now())


def test_key_contact_not_contacted_surfaces_and_is_reset_by_naming_them(world):
    customer = make_customer(world.owner, name="关键人客户", status="active", relationship_type="end")
    boss = make_contact(customer, name="李总", is_key=True)
    make_interaction(customer, occurred_at=timezone.now() - dt.timedelta(days=1))
    ids = [k.contact.pk for k in selectors.key_contact_breaches(world.owner, timezone.now())]
    assert boss.pk in ids
    make_interaction(customer, contacts=[boss], occurred_at=timezone.now() - dt.timedelta(hours=1))
    boss.refresh_from_db()
    assert boss.last_interaction_at is not None
    ids = [k.contact.pk for k in selectors.key_contact_breaches(world.owner, timezone.now())]
    assert boss.pk not in ids
