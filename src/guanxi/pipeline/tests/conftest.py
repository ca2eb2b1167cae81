"""Pipeline fixtures: the shared personas' world, the default pipeline's stages, a product."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.pipeline import services
from guanxi.pipeline.models import Opportunity, Pipeline, Stage
from guanxi.sales.models import Product
from guanxi.testing.factories import ProductFactory


@pytest.fixture
def new_business(db: None) -> Pipeline:
    return Pipeline.objects.get(name="新业务")


@pytest.fixture
def stages(new_business: Pipeline) -> dict[str, Stage]:
    return {s.name_en: s for s in new_business.stages.all()}


@pytest.fixture
def product(db: None) -> Product:
    return ProductFactory(code="P-100", name="工业传感器", price=Decimal("1000.00"))


def make_opportunity(customer: Any, **data: Any) -> Opportunity:
    data.setdefault("name", "年度传感器采购")
    data.setdefault("expected_close_on", timezone.localdate() + dt.timedelta(days=20))
    data.setdefault("amount", Decimal("50000"))
    actor = data.pop("actor", customer.owner)
    return services.opportunity_create(actor=actor, source=Source.UI, customer=customer, **data)
