"""Writes for users, teams and API tokens (each audited)."""

from __future__ import annotations

import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.accounts.models import ApiToken, Role, Team, User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import Conflict, NotFound, ValidationFailed, require

_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
USER_FIELDS = ["username", "display_name", "email", "role", "team", "is_active", "phone", "language"]


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "密码不符合要求：" + "；".join(exc.messages),
            "password rejected: " + "; ".join(exc.messages),
            field="password",
            code="weak_password",
        ) from None


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    source: Source,
    username: str,
    password: str,
    role: str = Role.SALESPERSON,
    team: Team | None = None,
    display_name: str = "",
    email: str = "",
    check_password: bool = True,
) -> User:
    require(
        bool(_USERNAME.match(username or "")),
        "用户名只能包含字母、数字和 @.+-_",
        "username may contain letters, digits and @.+-_ only",
        field="username",
    )
    require(role in Role.values, f"未知角色：{role}", f"unknown role: {role}", field="role")
    if User.objects.filter(username=username).exists():
        raise Conflict("用户名已存在", "username already exists", field="username", code="duplicate_username")
    user = User(username=username, role=role, team=team, display_name=display_name, email=email)
    if role == Role.ADMIN:
        user.is_staff = True
    if check_password:
        _check_password(password, user)
    user.set_password(password)
    try:
        user.save()
    except IntegrityError:
        raise Conflict(
            "用户名已存在", "username already exists", field="username", code="duplicate_username"
        ) from None
    audit_record(
        actor=actor,
        source=source,
        action="user.create",
        obj=user,
        changes=diff({}, snapshot(user, USER_FIELDS)),
    )
    return user


@transaction.atomic
def user_update(*, actor: User, source: Source, user: User, **fields: object) -> User:
    allowed = {"display_name", "email", "role", "team", "is_active", "phone", "language"}
    unknown = set(fields) - allowed
    require(
        not unknown,
        f"不可修改的字段：{', '.join(sorted(unknown))}",
        f"fields not editable: {', '.join(sorted(unknown))}",
    )
    if "role" in fields:
        require(fields["role"] in Role.values, "未知角色", "unknown role", field="role")
    if user.pk == actor.pk and fields.get("is_active") is False:
        raise ValidationFailed("不能停用自己的账号", "you cannot deactivate yourself", field="is_active")
    before = snapshot(user, USER_FIELDS)
    for name, value in fields.items():
        setattr(user, name, value)
    user.is_staff = user.role == Role.ADMIN or user.is_superuser
    user.save(update_fields=[*fields, "is_staff"])
    changes = diff(before, snapshot(user, USER_FIELDS))
    if changes:
        audit_record(actor=actor, source=source, action="user.update", obj=user, changes=changes)
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, source: Source, user: User, password: str) -> User:
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, source=source, action="user.set_password", obj=user)
    return user


@transaction.atomic
def team_create(
    *, actor: User | None, source: Source, name: str, parent: Team | None = None, manager: User | None = None
) -> Team:
    name = (name or "").strip()
    require(
        bool(name) and len(name) <= 100,
        "团队名称必填且不超过100字",
        "team name is required (max 100 characters)",
        field="name",
    )
    if Team.objects.filter(name=name).exists():
        raise Conflict("团队名称已存在", "team name already exists", field="name", code="duplicate_team")
    team = Team.objects.create(name=name, parent=parent, manager=manager)
    audit_record(
        actor=actor,
        source=source,
        action="team.create",
        obj=team,
        changes=diff({}, snapshot(team, ["name", "parent", "manager"])),
    )
    return team


@transaction.atomic
def team_update(
    *,
    actor: User,
    source: Source,
    team: Team,
    name: str | None = None,
    parent: Team | None = None,
    manager: User | None = None,
    clear_parent: bool = False,
) -> Team:
    before = snapshot(team, ["name", "parent", "manager"])
    if name is not None:
        name = name.strip()
        require(
            bool(name) and len(name) <= 100,
            "团队名称必填且不超过100字",
            "team name is required (max 100 characters)",
            field="name",
        )
        if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
            raise Conflict("团队名称已存在", "team name already exists", field="name", code="duplicate_team")
        team.name = name
    if parent is not None or clear_parent:
        # A team may not become its own ancestor.
        node = parent
        while node is not None:
            require(
                node.pk != team.pk, "团队层级不能成环", "a team cannot be placed under itself", field="parent"
            )
            node = node.parent
        team.parent = parent
    if manager is not None:
        team.manager = manager
    team.save()
    changes = diff(before, snapshot(team, ["name", "parent", "manager"]))
    if changes:
        audit_record(actor=actor, source=source, action="team.update", obj=team, changes=changes)
    return team


@transaction.atomic
def token_create(*, actor: User | None, source: Source, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a personal API token; returns the token row and the raw key, shown only this once."""
    raw = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user, name=name[:100], key_hash=ApiToken.hash_key(raw), key_prefix=raw[:10]
    )
    audit_record(actor=actor, source=source, action="token.create", obj=token)
    return token, raw


@transaction.atomic
def token_revoke(*, actor: User, source: Source, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor, revoked_at__isnull=True).first()
    if token is None:
        raise NotFound("令牌", "token")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, source=source, action="token.revoke", obj=token)
    return token
