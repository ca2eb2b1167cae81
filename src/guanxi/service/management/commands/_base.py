"""Shared plumbing of the service package's commands: the acting user, errors in both languages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from guanxi.accounts.models import User
from guanxi.core.errors import GuanxiError


def active_user(name: str) -> User:
    user = User.objects.filter(username=name, is_active=True).first()
    if user is None:
        raise CommandError(f"没有该用户 / no active user {name!r}")
    return user


def parse_date(raw: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"{name} 日期格式应为 YYYY-MM-DD / {name} must be YYYY-MM-DD") from None


class ServiceCommand(BaseCommand):
    """Subcommands (``guanxi complaints list …``); every one acts as ``--user``."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="act as this user (visibility and audit)")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        sub = parser.add_subparsers(dest="action", required=True)
        self.add_actions(sub)

    def add_actions(self, sub: Any) -> None:
        raise NotImplementedError

    def handle(self, *args: Any, **opts: Any) -> None:
        user = active_user(opts["user"])
        try:
            result = getattr(self, f"do_{opts['action']}")(user, opts)
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None
        if result is not None:
            if opts["json"]:
                self.stdout.write(json.dumps(result, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
            else:
                self.print_human(result)

    def print_human(self, result: Any) -> None:
        if isinstance(result, list):
            for row in result:
                self.stdout.write(
                    "  ".join(str(v) for v in (row.values() if isinstance(row, dict) else [row]))
                )
        elif isinstance(result, dict):
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
        else:
            self.stdout.write(str(result))
