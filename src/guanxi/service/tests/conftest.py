from __future__ import annotations

import datetime as dt

import pytest

from guanxi.testing.smtp import smtp_inbox

# 10:00 in Shanghai on a Monday.
NOW = dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC)
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd) that keeps what it receives; tasks run at once."""
    with smtp_inbox(TASKS=IMMEDIATE) as inbox:
        yield inbox
