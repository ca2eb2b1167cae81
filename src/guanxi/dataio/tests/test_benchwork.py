"""The import workload of ``make bench`` on a few rows: the import, the raw re-insert of its final
rows (the floor: PostgreSQL computes the generated search columns itself), the same without the
search index (rolled back, the index left as it was) and the clean-up."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Customer
from guanxi.dataio import benchwork
from guanxi.search.selectors import search_all

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_floor_reinserts_the_final_rows_and_cleans_up(tmp_path):
    user = benchwork._bench_user()
    path = tmp_path / "import.csv"
    benchwork._write_csv(path, benchwork._rows(40))
    seconds, preview, counts = benchwork._import(user, path, lambda _line: None)
    assert counts["customers_created"] == 40 and seconds > 0 and preview > 0
    final = benchwork._final_rows(user)
    tables = {table: rows for table, _columns, rows in final}
    assert len(tables["customers_customer"]) == 40 and len(tables["customers_contact"]) == 40
    assert all("search_tsv" not in columns for _table, columns, _rows in final)
    assert benchwork._floor(user, final) > 0
    assert Customer.objects.filter(owner=user).count() == 40  # the floor wrote the same rows back
    name = Customer.objects.filter(owner=user).order_by("id").values_list("name", flat=True).first()
    assert [c["name"] for c in search_all(user=user, query=name).customers] == [name]

    assert benchwork._floor_without_search_index(user, final) > 0
    assert not Customer.objects.filter(owner=user).exists()  # rolled back
    # The search index is as it was: the floor's rows, written again, are found again.
    assert benchwork._floor(user, final) > 0
    assert [c["name"] for c in search_all(user=user, query=name).customers] == [name]
    benchwork._cleanup(user)
    assert not Customer.objects.filter(owner=user).exists()
