"""factory_boy factories. Writes go through the services where behaviour matters (search docs,
audit); these factories build rows for tests that only need data to exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from guanxi.accounts.models import Role, Team, User
from guanxi.audit.models import Source
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import contact_create, customer_create
from guanxi.engagement.models import Interaction
from guanxi.engagement.services import interaction_log
from guanxi.sales.models import Product


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"团队{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.SALESPERSON
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-123")

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"产品{n}")
    price = Decimal("100.00")


def make_customer(owner: User, **data: Any) -> Customer:
    data.setdefault("name", "测试客户有限公司")
    return customer_create(actor=owner, source=Source.SYSTEM, owner=owner, **data)


def make_contact(customer: Customer, **data: Any) -> Contact:
    data.setdefault("name", "张伟")
    return contact_create(actor=customer.owner, source=Source.SYSTEM, customer=customer, **data)


def make_interaction(customer: Customer, **data: Any) -> Interaction:
    data.setdefault("channel", "visit")
    data.setdefault("summary", "拜访客户，介绍新产品")
    data.setdefault("occurred_at", timezone.now() - dt.timedelta(hours=1))
    return interaction_log(actor=customer.owner, source=Source.SYSTEM, customer=customer, **data)
