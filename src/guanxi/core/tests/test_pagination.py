from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer
from guanxi.customers.selectors import CustomerFilters, customer_list
from guanxi.testing.factories import UserFactory, make_customer

pytestmark = pytest.mark.django_db


def _walk(user, sort, size):
    seen, cursor = [], None
    while True:
        page = customer_list(user=user, filters=CustomerFilters(sort=sort), cursor=cursor, size=size)
        seen += [c.pk for c in page.items]
        if not page.next_cursor:
            return seen
        cursor = page.next_cursor


@pytest.mark.parametrize("size", [1, 3, 7, 50])
def test_keyset_walk_visits_every_customer_once_in_order(size):
    owner = UserFactory()
    now = timezone.now()
    for i in range(13):
        c = make_customer(owner, name=f"客户{i:02d}")
        # ties on purpose (i // 3), and some never contacted (NULL)
        when = None if i % 4 == 0 else now - dt.timedelta(days=i // 3)
        Customer.objects.filter(pk=c.pk).update(last_interaction_at=when)
    seen = _walk(owner, "last_interaction", size)
    assert len(seen) == 13 and len(set(seen)) == 13
    expected = list(
        Customer.objects.filter(last_interaction_at__isnull=False)
        .order_by("-last_interaction_at", "-id")
        .values_list("id", flat=True)
    ) + list(
        Customer.objects.filter(last_interaction_at__isnull=True).order_by("-id").values_list("id", flat=True)
    )
    assert seen == expected
    by_name = _walk(owner, "name", size)
    assert by_name == list(Customer.objects.order_by("sort_key", "id").values_list("id", flat=True))


@pytest.mark.parametrize("cursor", ["garbage", "eyJwIjo1fQ", "eyJwIjoxLCJ2IjoiMjAyNiIsImkiOjF9", "!!!"])
def test_bad_cursor_is_a_validation_error(cursor):
    owner = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        customer_list(user=owner, filters=CustomerFilters(), cursor=cursor)
    assert exc.value.code == "invalid_cursor"


@pytest.mark.parametrize("sort", ["last_interaction", "name", "created"])
def test_branch_merge_equals_the_single_visibility_query(world, sort):
    """Owned, team and shared branches are merged into exactly the rows and order of one OR query."""
    from guanxi.customers.selectors import SORTS, customer_queryset_for_user
    from guanxi.customers.services import customer_share

    now = timezone.now()
    for i, owner in enumerate([world.manager, world.owner, world.teammate, world.outsider] * 3):
        c = make_customer(owner, name=f"分支客户{i}")
        when = None if i % 5 == 0 else now - dt.timedelta(days=i % 4)  # ties across branches
        Customer.objects.filter(pk=c.pk).update(last_interaction_at=when)
        if owner == world.outsider and i % 2:
            customer_share(actor=world.outsider, source="ui", customer=c, user=world.manager)
    # shared with the manager's team too: the same customer may come from two branches
    shared_twice = make_customer(world.outsider, name="重复共享客户")
    customer_share(actor=world.outsider, source="ui", customer=shared_twice, team=world.east)
    customer_share(actor=world.outsider, source="ui", customer=shared_twice, user=world.manager)

    spec = SORTS[sort]
    expected_qs = customer_queryset_for_user(world.manager)
    prefix = "-" if spec.descending else ""
    if spec.nullable:
        expected = list(
            expected_qs.filter(last_interaction_at__isnull=False).order_by(
                f"{prefix}{spec.field}", f"{prefix}id"
            )
        ) + list(expected_qs.filter(last_interaction_at__isnull=True).order_by(f"{prefix}id"))
    else:
        expected = list(expected_qs.order_by(f"{prefix}{spec.field}", f"{prefix}id"))
    assert _walk(world.manager, sort, 2) == [c.pk for c in expected]
    assert len(expected) > 10
