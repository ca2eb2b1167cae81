"""Shared pieces of the JSON API: authentication, the error shape and its handlers."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from guanxi.accounts.models import User
from guanxi.accounts.selectors import user_for_token
from guanxi.core.errors import GuanxiError


class BearerTokenAuth(HttpBearer):
    """Personal API tokens: ``Authorization: Bearer gx_…`` (no CSRF: no cookie is involved)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token.strip())
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """Django session login; ninja enforces CSRF on unsafe methods for cookie auth."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        return user if user.is_authenticated and user.is_active else None


class ErrorBody(Schema):
    code: str
    message: str
    message_zh: str
    message_en: str
    field: str | None = None
    details: list[dict[str, Any]] = []


class ErrorOut(Schema):
    error: ErrorBody


def error_payload(
    code: str, zh: str, en: str, *, field: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": f"{zh} / {en}",
            "message_zh": zh,
            "message_en": en,
            "field": field,
            "details": details or [],
        }
    }


def _loc_field(loc: Any) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    return ".".join(parts) or None


def install_error_handlers(api: NinjaAPI) -> None:
    """One shape for every JSON error: {"error": {code, message, message_zh, message_en, field, details}}."""

    @api.exception_handler(GuanxiError)
    def guanxi_error(request: HttpRequest, exc: GuanxiError) -> HttpResponse:
        return api.create_response(request, {"error": exc.as_dict()}, status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        details = [
            {
                "field": _loc_field(e.get("loc", [])),
                "message_en": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors
        ]
        fields = ", ".join(d["field"] or "?" for d in details)
        payload = error_payload(
            "validation_error",
            f"请求数据无效：{fields}",
            f"invalid request data: {fields}",
            field=details[0]["field"] if details else None,
            details=details,
        )
        return api.create_response(request, payload, status=422)

    @api.exception_handler(AuthenticationError)
    def auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        payload = error_payload(
            "unauthenticated", "请先登录或提供有效的 API 令牌", "log in or send a valid API token"
        )
        return api.create_response(request, payload, status=401)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(request, error_payload("not_found", "资源不存在", "not found"), status=404)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {401: "unauthenticated", 403: "forbidden", 405: "method_not_allowed", 429: "throttled"}.get(
            exc.status_code, "http_error"
        )
        return api.create_response(request, error_payload(code, str(exc), str(exc)), status=exc.status_code)


def actor(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
