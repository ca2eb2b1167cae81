from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]  # allauth ships no types
    """Accounts are created by an administrator; nobody signs themselves up."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
