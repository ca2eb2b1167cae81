"""Shared pieces of the relations commands: bilingual argument errors, users and GuanxiErrors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from guanxi.accounts.models import User
from guanxi.core.errors import GuanxiError

T = TypeVar("T")


class RelationsCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        _bilingual(parser)
        return parser

    def user(self, username: str) -> User:
        user = User.objects.filter(username=username, is_active=True).select_related("team").first()
        if user is None:
            raise CommandError(f"用户不存在或已停用：{username} / no active user named {username}")
        return user

    def run(self, call: Callable[[], T]) -> T:
        """Run a selector or service; its error becomes a non-zero exit with both languages."""
        try:
            return call()
        except GuanxiError as exc:
            raise CommandError(f"{exc.message_zh} / {exc.message_en}") from None

    def json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))


def _bilingual(parser: Any) -> None:
    """argparse's own errors (a missing or malformed option) get a Chinese prefix too; subparsers too."""
    original = parser.error

    def error(message: str) -> NoReturn:
        original(f"参数错误 / invalid arguments: {message}")
        raise AssertionError("unreachable")  # pragma: no cover

    parser.error = error
    sub = getattr(parser, "_subparsers", None)
    if sub is not None:
        for action in sub._group_actions:
            for child in getattr(action, "choices", {}).values():
                _bilingual(child)
