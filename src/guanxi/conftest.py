"""Fixtures for the whole suite: the three personas (owner, teammate, outsider), a manager, an admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from guanxi.accounts.models import Role, Team, User
from guanxi.customers.models import Customer
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer, make_interaction

PASSWORD = "pw-for-tests-123"  # noqa: S105 - test-only credential


@pytest.fixture(autouse=True)
def _fresh_service_policy_cache() -> None:
    """Each test starts with the service policies unread (guanxi.value.policy keeps them a minute
    per process): otherwise a test meets whatever an earlier test left, and one that compares two
    requests' queries saw the cache expire between them (19 queries against 18) when the earlier
    read happened to be ~60 s before."""
    from guanxi.value import policy

    policy.invalidate()


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in the default language. A request activates its language for the thread
    and leaves it there (core.middleware), so after a test that asked for English a later test's
    non-request work (the value engine's task titles) ran in English on the same xdist worker."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class World:
    east: Team
    north: Team
    owner: User  # Alice: owns the customer
    teammate: User  # Bob: same team as Alice, sees only what is shared with him or the team
    outsider: User  # Charlie: another team
    manager: User  # manages East
    admin: User
    customer: Customer


@pytest.fixture
def world(db: None) -> World:
    east = TeamFactory(name="华东组")
    north = TeamFactory(name="华北组")
    manager = UserFactory(username="manager", role=Role.MANAGER, team=east)
    east.manager = manager
    east.save()
    owner = UserFactory(username="alice", team=east, display_name="王丽")
    teammate = UserFactory(username="bob", team=east, display_name="李波")
    outsider = UserFactory(username="charlie", team=north, display_name="陈冲")
    admin = UserFactory(username="admin", role=Role.ADMIN, is_staff=True)
    customer = make_customer(
        owner,
        name="华为技术有限公司",
        short_name="华为",
        province="广东",
        city="深圳",
        industry="通信",
        relationship_type="channel",
        tags=["重点"],
    )
    contact = make_contact(
        customer, name="张伟", phones=["13900139000"], emails=["zhangwei@example.com"], title="采购经理"
    )
    make_interaction(customer, summary="客户投诉报价太高，需要重新报价", contacts=[contact])
    return World(east, north, owner, teammate, outsider, manager, admin, customer)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def client_for(world: World):
    def make(user: User) -> Client:
        return login(Client(enforce_csrf_checks=False), user)

    return make


# --- API helpers (appended for the API, contract and route-walk tests) ------------------------


class ApiClient:
    """A JSON client for /api/v1 that authenticates with a personal API token (Bearer)."""

    prefix = "/api/v1"

    def __init__(self, user: User, raw_token: str) -> None:
        self.user = user
        self.token = raw_token
        self.client = Client(headers={"Authorization": f"Bearer {raw_token}"})

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.prefix + path, params or {})

    def post(self, path: str, data: object = None):
        return self.client.post(self.prefix + path, data, content_type="application/json")

    def patch(self, path: str, data: object = None):
        return self.client.patch(self.prefix + path, data, content_type="application/json")

    def put(self, path: str, data: object = None):
        return self.client.put(self.prefix + path, data, content_type="application/json")

    def delete(self, path: str):
        return self.client.delete(self.prefix + path)


@pytest.fixture
def api_for(world: World):
    """``api_for(user)`` -> an ApiClient with a fresh personal token (created via token_create)."""
    from guanxi.accounts.services import token_create
    from guanxi.audit.models import Source

    def make(user: User) -> ApiClient:
        _, raw = token_create(actor=user, source=Source.SYSTEM, user=user, name="tests")
        return ApiClient(user, raw)

    return make


def assert_api_error(resp, status: int, code: str | None = None) -> dict:
    """The response is ``status`` with the one error shape; returns the inner error object."""
    assert resp.status_code == status, (resp.status_code, resp.content[:2000])
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "message_zh", "message_en", "field", "details"}, err
    assert err["code"] and err["message_zh"] and err["message_en"], err
    if code is not None:
        assert err["code"] == code, err
    return err
