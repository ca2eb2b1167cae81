"""Shared pieces of the JSON API: authentication, the error shape and its handlers."""

from __future__ import annotations

import json
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from guanxi.accounts.models import User
from guanxi.accounts.selectors import user_for_token
from guanxi.core.errors import GuanxiError, ValidationFailed

# Both databases store ids (and any integer) in signed 64 bits; a larger number would crash the
# query (SQLite: OverflowError) instead of simply matching nothing.
_INT_MAX = 2**63 - 1
# A database id in a path, query string or schema: JSON bodies are range-checked by the parser
# below, query strings are not — out of range answers 422 there too, never an overflow (500).
Id = Annotated[int, Field(ge=1, le=_INT_MAX)]


def _parse_int(text: str) -> int:
    number = int(text)
    if not -_INT_MAX <= number <= _INT_MAX:
        raise ValidationFailed("数字超出范围", "number out of range", code="number_out_of_range")
    return number


def _reject_constant(name: str) -> Any:
    raise ValidationFailed(f"无效的 JSON 值：{name}", f"invalid JSON value: {name}", code="invalid_json")


def _reject_nul(value: Any) -> None:
    """PostgreSQL text cannot hold NUL; Django's forms refuse it too (ProhibitNullCharactersValidator)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationFailed(
                "不能包含空字符 (NUL)", "text may not contain NUL characters", code="nul_character"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_nul(key)
            _reject_nul(item)
    elif isinstance(value, list):
        for item in value:
            _reject_nul(item)


class StrictJSONParser(Parser):
    """Refuses, with a 400 in the error shape, input the database cannot take: NUL characters, integers
    beyond 64 bits, NaN/Infinity (not JSON), and a body that is not JSON at all."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        try:
            data = json.loads(request.body, parse_int=_parse_int, parse_constant=_reject_constant)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValidationFailed(
                "请求体不是有效的 JSON", "request body is not valid JSON", code="invalid_json"
            ) from None
        _reject_nul(data)
        return data  # type: ignore[no-any-return]

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        result = super().parse_querydict(data, list_fields, request)
        _reject_nul(result)
        return result


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
        if isinstance(exc.__cause__, GuanxiError):  # ninja wraps the body parser's errors
            return guanxi_error(request, exc.__cause__)
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
