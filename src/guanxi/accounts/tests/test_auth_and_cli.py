"""Login (allauth) with failed-login limits, the admin login path, CLI commands, production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from guanxi.accounts.models import ApiToken, User
from guanxi.accounts.selectors import user_for_token
from guanxi.audit.models import AuditEvent
from guanxi.testing.factories import UserFactory

PROJECT = Path(__file__).resolve().parents[4]
GUANXI = Path(sys.executable).parent / "guanxi"


@pytest.fixture(autouse=True)
def _clear_rate_limits(db):
    cache.clear()
    yield
    cache.clear()


def test_login_with_username_and_password(db):
    UserFactory(username="wang")
    client = Client()
    resp = client.post(reverse("account_login"), {"login": "wang", "password": "pw-for-tests-123"})
    assert resp.status_code == 302
    assert client.get(reverse("customers:list")).status_code == 200


def test_anonymous_user_is_sent_to_login(db):
    resp = Client().get(reverse("customers:list"))
    assert resp.status_code == 302 and reverse("account_login") in resp["Location"]


def test_failed_logins_are_rate_limited_even_with_the_right_password_afterwards(db):
    UserFactory(username="wang")
    client = Client()
    for _ in range(5):
        resp = client.post(reverse("account_login"), {"login": "wang", "password": "wrong"})
        assert resp.status_code == 200  # form redisplayed with an error
    resp = client.post(reverse("account_login"), {"login": "wang", "password": "pw-for-tests-123"})
    assert resp.status_code in (200, 429)
    assert "_auth_user_id" not in client.session


def test_django_admin_login_goes_through_rate_limited_login(db):
    resp = Client().get("/django-admin/login/?next=/django-admin/")
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("account_login"))


def test_signup_is_closed(db):
    resp = Client().post(reverse("account_signup"), {"username": "intruder", "password1": "Zx9!long-pass"})
    assert not User.objects.filter(username="intruder").exists()
    assert resp.status_code in (200, 302, 403, 404)


def test_mfa_pages_are_available_to_a_logged_in_user(db):
    client = Client()
    client.force_login(UserFactory())
    assert client.get(reverse("mfa_index")).status_code == 200


def test_token_lookup_ignores_revoked_tokens(db):
    from django.utils import timezone

    from guanxi.accounts.services import token_create

    user = UserFactory()
    token, raw = token_create(actor=None, source="cli", user=user)
    assert user_for_token(raw) == user
    assert user_for_token(raw + "x") is None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert user_for_token(raw) is None
    assert raw not in str(ApiToken.objects.values_list("key_hash", flat=True)[0])


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(GUANXI), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=PROJECT,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """A migrated SQLite database of its own for the CLI subprocesses (migrated once per module)."""
    env = {"GUANXI_DATA_DIR": str(tmp_path_factory.mktemp("cli")), "DATABASE_URL": "", "GUANXI_ENV": "test"}
    result = run_cli("migrate", "-v", "0", env=env)
    assert result.returncode == 0, result.stderr
    return env


@pytest.mark.slow
def test_cli_createuser_and_token(cli_env):
    result = run_cli(
        "createuser",
        "zhao",
        "--role",
        "manager",
        "--team",
        "华东组",
        "--password-stdin",
        stdin="a-Long-pass-2026\n",
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    result = run_cli("token", "zhao", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("gx_")
    # A duplicate user, a weak password, an unknown role, an unknown user: non-zero, bilingual message.
    dup = run_cli("createuser", "zhao", "--password-stdin", stdin="a-Long-pass-2026\n", env=cli_env)
    assert dup.returncode != 0 and "用户名已存在" in dup.stderr and "already exists" in dup.stderr
    weak = run_cli("createuser", "qian", "--password-stdin", stdin="123\n", env=cli_env)
    assert weak.returncode != 0 and "密码" in weak.stderr
    bad_role = run_cli("createuser", "sun", "--role", "boss", "--password-stdin", stdin="x\n", env=cli_env)
    assert bad_role.returncode == 2
    missing = run_cli("token", "nobody", env=cli_env)
    assert missing.returncode != 0 and "no active user" in missing.stderr
    unknown = run_cli("frobnicate", env=cli_env)
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


@pytest.mark.slow
def test_cli_tick_is_idempotent(cli_env):
    first = run_cli("tick", env=cli_env)
    assert first.returncode == 0 and "prune_task_results" in first.stdout
    second = run_cli("tick", env=cli_env)
    assert second.returncode == 0 and "nothing due" in second.stdout


@pytest.mark.slow
def test_production_settings_pass_deploy_checks(tmp_path):
    env = {
        "GUANXI_ENV": "production",
        "GUANXI_SECRET_KEY": "k" * 20 + "-Zx81_aQ" * 6,
        "GUANXI_ALLOWED_HOSTS": "crm.example.com",
        "GUANXI_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=PROJECT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_production_without_secret_key_stops_with_a_clear_message(tmp_path):
    env = {
        "GUANXI_ENV": "production",
        "GUANXI_ALLOWED_HOSTS": "crm.example.com",
        "GUANXI_DATA_DIR": str(tmp_path),
    }
    environ = {k: v for k, v in os.environ.items() if k != "GUANXI_SECRET_KEY"} | env
    result = subprocess.run(
        [str(GUANXI), "migrate"],
        capture_output=True,
        text=True,
        env=environ,
        cwd=PROJECT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "GUANXI_SECRET_KEY" in result.stderr


def test_malformed_setting_is_rejected(tmp_path):
    env = {**os.environ, "GUANXI_DEBUG": "maybe", "GUANXI_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [str(GUANXI), "tick"], capture_output=True, text=True, env=env, cwd=PROJECT, timeout=120, check=False
    )
    assert result.returncode == 2 and "GUANXI_DEBUG" in result.stderr


def test_user_create_is_audited(db):
    from guanxi.accounts.services import user_create

    user = user_create(actor=None, source="cli", username="newbie", password="a-Long-pass-2026")
    event = AuditEvent.objects.get(action="user.create", object_id=user.pk)
    assert event.changes["username"] == [None, "newbie"]
    assert "password" not in event.changes
