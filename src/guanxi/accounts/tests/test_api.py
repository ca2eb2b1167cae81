"""The accounts API: who am I, personal API tokens, authentication and CSRF."""

from __future__ import annotations

import pytest
from django.test import Client

from guanxi.accounts.models import ApiToken
from guanxi.audit.models import AuditEvent
from guanxi.conftest import ApiClient, assert_api_error

pytestmark = pytest.mark.django_db


def test_me_describes_the_token_owner(world, api_for):
    resp = api_for(world.owner).get("/me")
    assert resp.status_code == 200
    assert resp.json() == {
        "id": world.owner.pk,
        "username": "alice",
        "display_name": "王丽",
        "role": "sales",
        "team_id": world.east.pk,
        "team_name": "华东组",
    }
    admin = api_for(world.admin).get("/me").json()
    assert admin["role"] == "admin" and admin["team_id"] is None and admin["team_name"] is None


def test_me_with_session_login(world, client_for):
    resp = client_for(world.manager).get("/api/v1/me")
    assert resp.status_code == 200 and resp.json()["role"] == "manager"


def test_me_without_credentials_is_401(world):
    assert_api_error(Client().get("/api/v1/me"), 401, "unauthenticated")


def test_bad_token_is_401(world):
    client = Client(headers={"Authorization": "Bearer gx_" + "x" * 43})
    assert_api_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_created_token_is_shown_once_and_authenticates(world, api_for):
    resp = api_for(world.owner).post("/tokens", {"name": "手机同步"})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["name"] == "手机同步" and body["token"].startswith("gx_")
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.user == world.owner and body["token"] not in (stored.key_hash, stored.key_prefix)
    assert ApiClient(world.owner, body["token"]).get("/me").json()["username"] == "alice"
    assert AuditEvent.objects.filter(action="token.create", object_id=body["id"], source="api").exists()


def test_token_use_is_recorded(world, api_for):
    api = api_for(world.owner)
    api.get("/me")
    assert ApiToken.objects.get(user=world.owner).last_used_at is not None


def test_revoked_token_is_401(world, api_for):
    api = api_for(world.owner)
    created = api.post("/tokens", {"name": "临时"}).json()
    temporary = ApiClient(world.owner, created["token"])
    assert temporary.get("/me").status_code == 200
    assert api.delete(f"/tokens/{created['id']}").status_code == 204
    assert_api_error(temporary.get("/me"), 401, "unauthenticated")
    # Revoking twice is a 404: the token no longer exists for its owner.
    assert_api_error(api.delete(f"/tokens/{created['id']}"), 404, "not_found")


def test_outsider_cannot_revoke_someone_elses_token(world, api_for):
    owner = api_for(world.owner)
    victim = ApiToken.objects.get(user=world.owner)
    assert_api_error(api_for(world.outsider).delete(f"/tokens/{victim.pk}"), 404, "not_found")
    victim.refresh_from_db()
    assert victim.revoked_at is None
    assert owner.get("/me").status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"name": "x" * 101}, id="name-too-long"),
        pytest.param({"name": 5}, id="wrong-type"),
        pytest.param({"name": "a", "scopes": ["all"]}, id="unknown-field"),
    ],
)
def test_malformed_token_request_is_422_and_creates_nothing(world, api_for, payload):
    api = api_for(world.owner)
    before = ApiToken.objects.count()
    assert_api_error(api.post("/tokens", payload), 422, "validation_error")
    assert ApiToken.objects.count() == before


def _csrf_session_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/manage/tokens/")  # a page with {% csrf_token %}: sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def test_session_token_creation_requires_csrf_header(world):
    client, token = _csrf_session_client(world.owner)
    before = ApiToken.objects.count()
    resp = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert_api_error(resp, 403, "forbidden")
    resp = client.post(
        "/api/v1/tokens", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": "wrong" * 7}
    )
    assert_api_error(resp, 403, "forbidden")
    assert ApiToken.objects.count() == before
    resp = client.post(
        "/api/v1/tokens", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert resp.status_code == 201
    assert ApiToken.objects.count() == before + 1


def test_session_token_revoke_requires_csrf_header(world, api_for):
    created = api_for(world.owner).post("/tokens", {}).json()
    client, token = _csrf_session_client(world.owner)
    assert_api_error(client.delete(f"/api/v1/tokens/{created['id']}"), 403, "forbidden")
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is None
    resp = client.delete(f"/api/v1/tokens/{created['id']}", headers={"X-CSRFToken": token})
    assert resp.status_code == 204
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is not None


def test_inactive_session_user_is_401(world, client_for):
    client = client_for(world.owner)
    world.owner.is_active = False
    world.owner.save(update_fields=["is_active"])
    assert_api_error(client.get("/api/v1/me"), 401, "unauthenticated")
