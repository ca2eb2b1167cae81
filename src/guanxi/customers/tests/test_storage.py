"""PostgreSQL storage of the customers table (migrations 0006, 0010, 0011): what lists and search
read from every row stays in the heap row; the long texts go out of line."""

from __future__ import annotations

import pytest
from django.db import connection

from guanxi.audit.models import Source
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("storage settings are PostgreSQL's")


def _storage() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstorage FROM pg_attribute "
            "WHERE attrelid = 'customers_customer'::regclass AND attnum > 0 AND NOT attisdropped"
        )
        return dict(cursor.fetchall())


def test_shown_columns_are_plain_and_long_texts_may_go_out_of_line() -> None:
    storage = _storage()
    assert {storage[c] for c in ("name", "address", "sort_key")} == {"p"}
    assert {storage[c] for c in ("business_scope", "notes", "search_doc")} == {"x"}


def test_longest_name_and_address_still_fit(world) -> None:
    # Plain columns are never moved out: the largest values allowed must fit in a row anyway.
    name, address = "华" * 200, "路" * 255
    customer = customer_create(
        actor=world.owner, source=Source.UI, name=name, address=address, business_scope="经营" * 3000
    )
    customer.refresh_from_db()
    assert (customer.name, customer.address) == (name, address)
    assert Customer.objects.filter(name=name).count() == 1
