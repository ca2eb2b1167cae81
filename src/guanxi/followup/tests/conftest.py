from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.testing.factories import make_customer

NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai, a Monday


@pytest.fixture
def now():
    return NOW


def shanghai_customer(owner, name: str, lat: float, lon: float, **data):
    return make_customer(
        owner, name=name, city="上海", latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lon:.6f}"), **data
    )


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
