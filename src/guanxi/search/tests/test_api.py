"""The search API: Chinese, pinyin, initials, phone digits — always scoped by visibility."""

from __future__ import annotations

import pytest

from guanxi.conftest import assert_api_error
from guanxi.customers.models import CustomerShare
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def tengda(world):
    customer = make_customer(world.owner, name="深圳腾达贸易有限公司", city="深圳", industry="贸易")
    make_contact(customer, name="曾小明", phones=["0755-2345 6789"], title="采购")
    make_interaction(customer, summary="讨论年度框架协议")
    return customer


def _ids(hits: list[dict]) -> list[int]:
    return [h["customer_id"] for h in hits]


@pytest.mark.parametrize(
    "query",
    # Full pinyin is indexed per whole name and per syllable, so "teng da" finds it (see the report).
    ["腾达", "深圳腾达", "sztd", "SZTD", "teng da", "shenzhen teng", "shenzhentengda"],
)
def test_owner_finds_customer_by_chinese_pinyin_or_initials(world, api_for, tengda, query):
    resp = api_for(world.owner).get("/search", {"q": query})
    assert resp.status_code == 200
    body = resp.json()
    assert body["query"] == query
    assert _ids(body["customers"]) == [tengda.pk]
    hit = body["customers"][0]
    assert hit == {
        "id": tengda.pk,
        "name": "深圳腾达贸易有限公司",
        "detail": "深圳 贸易",
        "customer_id": tengda.pk,
    }


def test_contact_found_by_name_surname_pinyin_and_phone_digits(world, api_for, tengda):
    api = api_for(world.owner)
    for query in ("曾小明", "zengxiaoming", "zxm", "23456789", "6789"):
        contacts = api.get("/search", {"q": query}).json()["contacts"]
        assert [c["name"] for c in contacts] == ["曾小明"], query
        assert contacts[0]["customer_id"] == tengda.pk


def test_interaction_notes_are_searchable(world, api_for, tengda):
    body = api_for(world.owner).get("/search", {"q": "框架协议"}).json()
    assert _ids(body["interactions"]) == [tengda.pk]
    assert body["interactions"][0]["name"] == "讨论年度框架协议"


def test_outsider_finds_nothing_of_others(world, api_for, tengda):
    api = api_for(world.outsider)
    for query in ("华为", "hw", "张伟", "13900139000", "腾达", "报价"):
        body = api.get("/search", {"q": query}).json()
        assert body["customers"] == body["contacts"] == body["interactions"] == [], query


def test_teammate_finds_customer_only_after_share(world, api_for):
    api = api_for(world.teammate)
    assert api.get("/search", {"q": "华为"}).json()["customers"] == []
    CustomerShare.objects.create(customer=world.customer, team=world.east, created_by=world.owner)
    body = api.get("/search", {"q": "华为"}).json()
    assert _ids(body["customers"]) == [world.customer.pk]
    assert _ids(api.get("/search", {"q": "zhangwei"}).json()["contacts"]) == [world.customer.pk]


def test_search_limit_is_respected(world, api_for):
    for i in range(4):
        make_customer(world.owner, name=f"华为代理商{i}")
    body = api_for(world.owner).get("/search", {"q": "华为", "limit": 2}).json()
    assert len(body["customers"]) == 2


def test_query_without_searchable_terms_returns_empty_results(world, api_for):
    body = api_for(world.owner).get("/search", {"q": "！？。"}).json()
    assert body["customers"] == body["contacts"] == body["interactions"] == []


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="missing-q"),
        pytest.param({"q": ""}, id="empty-q"),
        pytest.param({"q": "x" * 101}, id="q-too-long"),
        pytest.param({"q": "华为", "limit": 0}, id="limit-zero"),
        pytest.param({"q": "华为", "limit": 51}, id="limit-too-big"),
        pytest.param({"q": "华为", "limit": "ten"}, id="limit-not-a-number"),
    ],
)
def test_bad_search_parameters_are_422(world, api_for, params):
    assert_api_error(api_for(world.owner).get("/search", params), 422, "validation_error")


def test_search_requires_authentication(world, client):
    assert_api_error(client.get("/api/v1/search", {"q": "华为"}), 401, "unauthenticated")
