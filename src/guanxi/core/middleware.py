from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# Everything the app loads is served from /static: no CDN, no inline script from elsewhere.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        return response


class GuanxiErrorMiddleware:
    """Turns service/selector errors escaping a view into 404 / 4xx pages instead of 500s."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.http import Http404
        from django.shortcuts import render

        from guanxi.core.errors import GuanxiError, NotFound

        if isinstance(exception, NotFound):
            raise Http404(exception.message_en)
        if isinstance(exception, GuanxiError):
            return render(request, "error.html", {"error": exception}, status=exception.status)
        return None


class LanguageMiddleware:
    """Simplified Chinese unless the user chose otherwise (language cookie, then their profile).

    Unlike Django's LocaleMiddleware the browser's Accept-Language is not consulted: Guanxi is
    Chinese-first, and an English browser on a Chinese salesperson's phone must not switch the UI.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        supported = {code for code, _ in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        user = getattr(request, "user", None)
        if language not in supported and user is not None and user.is_authenticated:
            language = getattr(user, "language", "")
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
