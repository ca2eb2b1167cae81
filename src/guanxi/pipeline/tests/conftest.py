"""Pipeline fixtures: the shared personas' world, the default pipeline's stages, a product."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.pipeline import services
from guanxi.pipeline.defaults import DEFAULT_PIPELINES
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


def seed_default_pipelines() -> None:
    """The seeded pipelines, for a transactional test: the data migration's rows are gone once an
    earlier transactional test has emptied the tables."""
    for data in DEFAULT_PIPELINES:
        fields = {k: v for k, v in data.items() if k not in ("stages", "name")}
        pipeline, _ = Pipeline.objects.get_or_create(name=data["name"], defaults=fields)
        for position, (name, name_en, kind, probability, category) in enumerate(data["stages"], start=1):
            Stage.objects.get_or_create(
                pipeline=pipeline,
                name=name,
                defaults={
                    "name_en": name_en,
                    "position": position,
                    "kind": kind,
                    "probability": probability,
                    "forecast_category": category,
                },
            )
