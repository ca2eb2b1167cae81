"""Users, teams and roles (用户、团队、角色), and personal API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SALESPERSON = "sales", _("销售人员")
    MANAGER = "manager", _("销售经理")
    ADMIN = "admin", _("管理员")


class Team(models.Model):
    """A sales team (销售团队). Teams form a tree: a manager of a team sees its sub-teams too."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A Guanxi user: salesperson, manager or administrator."""

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.SALESPERSON)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    display_name = models.CharField(_("姓名"), max_length=100, blank=True)
    phone = models.CharField(_("手机"), max_length=40, blank=True)
    language = models.CharField(
        _("语言"), max_length=10, choices=[("zh-hans", "简体中文"), ("en", "English")], default="zh-hans"
    )

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A personal API token (个人 API 令牌). Only a SHA-256 hash is stored; the token is shown once."""

    PREFIX = "gx_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def generate_key(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)
