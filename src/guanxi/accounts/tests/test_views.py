from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.accounts.models import Team, User
from guanxi.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_creates_user_and_team(world, client_for):
    client = client_for(world.admin)
    resp = client.post(reverse("accounts:team_create"), {"name": "华南组", "manager": world.manager.pk})
    assert resp.status_code == 302
    team = Team.objects.get(name="华南组")
    resp = client.post(
        reverse("accounts:user_create"),
        {
            "username": "zhou",
            "display_name": "周敏",
            "role": "sales",
            "team": team.pk,
            "password": "a-Long-pass-2026",
        },
    )
    assert resp.status_code == 302
    assert User.objects.get(username="zhou").team == team


def test_rejected_password_leaves_the_profile_unchanged(world, client_for):
    client = client_for(world.admin)
    before = AuditEvent.objects.count()
    resp = client.post(
        reverse("accounts:user_edit", args=[world.owner.pk]),
        {
            "display_name": "改名",
            "email": "",
            "role": "manager",
            "team": world.east.pk,
            "is_active": "on",
            "new_password": "123",
        },
    )
    assert resp.status_code == 400
    world.owner.refresh_from_db()
    assert world.owner.display_name == "王丽" and world.owner.role == "sales"
    assert AuditEvent.objects.count() == before


def test_team_cannot_become_its_own_ancestor(world, client_for):
    child = Team.objects.create(name="华东一组", parent=world.east)
    client = client_for(world.admin)
    resp = client.post(
        reverse("accounts:team_edit", args=[world.east.pk]), {"name": "华东组", "parent": child.pk}
    )
    assert resp.status_code == 400
    world.east.refresh_from_db()
    assert world.east.parent is None


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_admin_area_is_hidden_from_non_admins(world, client_for, persona):
    assert client_for(getattr(world, persona)).get(reverse("accounts:users")).status_code == 404


def test_tokens_page_shows_a_new_token_once(world, client_for):
    client = client_for(world.owner)
    resp = client.post(reverse("accounts:tokens"), {"name": "手机"})
    assert resp.status_code == 200
    assert resp.context["created"].startswith("gx_")
    assert resp.context["created"] not in client.get(reverse("accounts:tokens")).content.decode()
