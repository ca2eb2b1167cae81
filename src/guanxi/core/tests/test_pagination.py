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
    ) + list(Customer.objects.filter(last_interaction_at__isnull=True).order_by("-id").values_list("id", flat=True))
    assert seen == expected
    by_name = _walk(owner, "name", size)
    assert by_name == list(Customer.objects.order_by("sort_key", "id").values_list("id", flat=True))


@pytest.mark.parametrize("cursor", ["garbage", "eyJwIjo1fQ", "eyJwIjoxLCJ2IjoiMjAyNiIsImkiOjF9", "!!!"])
def test_bad_cursor_is_a_validation_error(cursor):
    owner = UserFactory()
    with pytest.raises(ValidationFailed) as exc:
        customer_list(user=owner, filters=CustomerFilters(), cursor=cursor)
    assert exc.value.code == "invalid_cursor"
