"""``core.pagecache``: SQLite's page cache raised for a block and put back after it, also when the
block fails; an import leaves the connection's cache as it found it."""

from __future__ import annotations

import pytest
from django.db import connection

from guanxi.core.pagecache import page_cache


def _cache_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        return int(cursor.fetchone()[0])


@pytest.fixture
def sqlite_only(db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the page cache is SQLite's")


def test_the_cache_is_raised_for_the_block_and_put_back(sqlite_only):
    before = _cache_size()
    with page_cache(96):
        assert _cache_size() == -96 * 1024 != before
    assert _cache_size() == before
    with pytest.raises(ZeroDivisionError), page_cache(96):
        1 / 0  # noqa: B018 - a failing block
    assert _cache_size() == before


def test_an_import_leaves_the_connection_cache_as_it_was(sqlite_only, world):
    from guanxi.dataio import services

    before = _cache_size()
    data = "客户名称,联系人,手机\n长江贸易有限公司,张三,13900139011\n".encode()
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == "done", job.report
    assert _cache_size() == before


def test_elsewhere_nothing_happens(db):
    from django.test.utils import CaptureQueriesContext

    if connection.vendor == "sqlite":
        pytest.skip("SQLite has the page cache")
    with CaptureQueriesContext(connection) as queries, page_cache(96):
        pass
    assert len(queries) == 0
