from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.accounts.models import Role, Team
from guanxi.accounts.services import user_create
from guanxi.audit.models import Source
from guanxi.core.errors import GuanxiError


class Command(BaseCommand):
    help = "Create a user / 创建用户"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.SALESPERSON)
        parser.add_argument("--team", help="team name (created if missing) / 团队名称")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )
        parser.add_argument("--password", help="password (prefer --password-stdin; visible in process lists)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        elif opts["password"]:
            password = opts["password"]
        elif sys.stdin.isatty():
            password = getpass.getpass("Password / 密码: ")
        else:
            raise CommandError(
                "需要密码：使用 --password-stdin / a password is required: use --password-stdin"
            )
        team = None
        if opts["team"]:
            team, _ = Team.objects.get_or_create(name=opts["team"].strip())
        try:
            user = user_create(
                actor=None,
                source=Source.CLI,
                username=opts["username"],
                password=password,
                role=opts["role"],
                team=team,
                display_name=opts["display_name"],
                email=opts["email"],
            )
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        self.stdout.write(f"created {user.username} ({user.role}) id={user.pk}")
