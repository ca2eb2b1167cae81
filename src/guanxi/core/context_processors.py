from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def guanxi(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "is_admin_user": bool(user and user.is_authenticated and user.is_admin),
        "is_manager_user": bool(user and user.is_authenticated and user.is_manager),
    }
