"""The public survey page ``/s/<token>/``: no login, the secret token is the only key.

It shows nothing but its own question sheet — no customer name, no contact, no company data — and
answers a malformed, unknown, answered, revoked or expired token with the same neutral 404 page, so
tokens cannot be probed. Requests per client address are rate-limited (stricter for tokens that
open nothing), the body and every answer are size-limited, the form carries a CSRF token, and one
token takes one answer (claimed by a guarded UPDATE).
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.service import services
from guanxi.service.selectors import surveys as sel

MAX_BODY_BYTES = 32 * 1024
WINDOW_SECONDS = 600
MAX_REQUESTS = 60  # per client address and window
MAX_MISSES = 10  # tokens that open nothing, per client address and window


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "?"))[:64]


def _count(kind: str, request: HttpRequest) -> int:
    window = int(timezone.now().timestamp()) // WINDOW_SECONDS
    key = f"survey:{kind}:{_client(request)}:{window}"
    if cache.add(key, 1, WINDOW_SECONDS):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        return 1


def _peek(kind: str, request: HttpRequest) -> int:
    window = int(timezone.now().timestamp()) // WINDOW_SECONDS
    return int(cache.get(f"survey:{kind}:{_client(request)}:{window}") or 0)


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never pass it to another site. (Not "no-referrer": the browser would
    # then send "Origin: null" with the form, and the CSRF check rightly refuses it.)
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _neutral(request: HttpRequest, status: int = 404) -> HttpResponse:
    return _private(render(request, "service/public_gone.html", status=status))


@never_cache
@require_http_methods(["GET", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    if _count("req", request) > MAX_REQUESTS or _peek("miss", request) >= MAX_MISSES:
        return _neutral(request, status=429)
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            return _neutral(request, status=413)
    invitation = sel.invitation_for_token(token)
    if invitation is None:
        _count("miss", request)
        return _neutral(request)
    template = invitation.template
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    with translation.override(invitation.language):
        en = invitation.language.startswith("en")
        if request.method == "POST":
            keys = [q["key"] for q in template.questions]
            values = {k: request.POST.get(k, "") for k in keys}
            try:
                services.survey_answer(invitation=invitation, answers=values)
            except ValidationFailed as exc:
                errors = {
                    d["field"]: (d["message_en"] if en else d["message_zh"])
                    for d in exc.details
                    if d.get("field")
                }
            except NotFound:
                return _neutral(request)
            else:
                return _private(render(request, "service/public_thanks.html"))
        questions = [
            {
                "key": q["key"],
                "kind": q.get("kind", "text"),
                "text": q.get("en") if en and q.get("en") else q.get("zh", ""),
                "required": bool(q.get("required")),
                "value": values.get(q["key"], ""),
                "error": errors.get(q["key"], ""),
                "scale": list(range(11)) if q.get("kind") == "nps" else list(range(1, 6)),
            }
            for q in template.questions
        ]
        response = render(
            request,
            "service/public_survey.html",
            {
                "intro": template.intro if not en else "",
                "questions": questions,
                "token": token,
                "has_errors": bool(errors),
            },
            status=400 if errors else 200,
        )
    return _private(response)
