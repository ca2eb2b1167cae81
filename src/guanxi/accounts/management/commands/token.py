from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.accounts.models import User
from guanxi.accounts.services import token_create
from guanxi.audit.models import Source


class Command(BaseCommand):
    help = "Print a new personal API token for a user / 为用户生成新的 API 令牌"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(
                f"用户不存在或已停用：{opts['username']} / no active user named {opts['username']}"
            )
        _, raw = token_create(actor=None, source=Source.CLI, user=user, name=opts["name"])
        self.stdout.write(raw)
