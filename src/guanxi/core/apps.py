from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces: errors, pagination, context, security headers, the periodic tick."""

    name = "guanxi.core"
    label = "core"
