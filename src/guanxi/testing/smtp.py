"""A real SMTP server on loopback (aiosmtpd) for the tests that send e-mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import override_settings


class Inbox:
    """What the server received: one envelope per message (``.mail_from``, ``.rcpt_tos``, ``.content``)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@contextmanager
def smtp_inbox(**more_settings: Any) -> Iterator[Inbox]:
    """Start the server on a free port and point Django's SMTP backend at it (plus ``more_settings``)."""
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            DEFAULT_FROM_EMAIL="guanxi@example.com",
            **more_settings,
        ):
            yield inbox
    finally:
        controller.stop()
