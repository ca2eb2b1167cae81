"""Errors with stable machine codes and messages in Chinese and English.

Every layer raises ``GuanxiError`` (or a subclass); the API turns it into one JSON shape, views
into a form error or an error page, and the CLI into a non-zero exit with the message.
"""

from __future__ import annotations

from typing import Any


class GuanxiError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code:
            self.code = code
        self.field = field
        self.details = details or []

    def message(self, language: str | None = None) -> str:
        return self.message_en if (language or "").startswith("en") else self.message_zh

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": f"{self.message_zh} / {self.message_en}",
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "field": self.field,
            "details": self.details,
        }


class ValidationFailed(GuanxiError):
    status = 400
    code = "validation_error"


class NotFound(GuanxiError):
    """Also raised for objects outside the user's scope, so their existence is not revealed."""

    status = 404
    code = "not_found"

    def __init__(self, what_zh: str = "对象", what_en: str = "object") -> None:
        super().__init__(f"{what_zh}不存在或无权访问", f"{what_en} not found", code="not_found")


class PermissionDenied(GuanxiError):
    status = 403
    code = "forbidden"


class Conflict(GuanxiError):
    status = 409
    code = "conflict"


def require(
    condition: bool, message_zh: str, message_en: str, *, field: str | None = None, code: str = "invalid"
) -> None:
    if not condition:
        raise ValidationFailed(message_zh, message_en, field=field, code=code)


def from_django_validation(exc: Any) -> ValidationFailed:
    """Turn a Django ValidationError into a ValidationFailed carrying both languages."""
    from django.utils import translation

    def render(lang: str) -> list[tuple[str | None, str]]:
        with translation.override(lang):
            if hasattr(exc, "error_dict"):
                return [(f, str(m)) for f, errs in exc.message_dict.items() for m in errs]
            return [(None, str(m)) for m in exc.messages]

    zh, en = render("zh-hans"), render("en")
    details = [
        {"field": f, "message_zh": mz, "message_en": me} for (f, mz), (_, me) in zip(zh, en, strict=True)
    ]
    first_field = details[0]["field"] if details else None
    msg_zh = "；".join(f"{f}: {m}" if f and f != "__all__" else m for f, m in zh)
    msg_en = "; ".join(f"{f}: {m}" if f and f != "__all__" else m for f, m in en)
    return ValidationFailed(msg_zh, msg_en, field=first_field, details=details)
