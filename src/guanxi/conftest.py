"""Fixtures for the whole suite: the three personas (owner, teammate, outsider), a manager, an admin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from guanxi.accounts.models import Role, Team, User
from guanxi.customers.models import Customer
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer, make_interaction

PASSWORD = "pw-for-tests-123"  # noqa: S105 - test-only credential


@dataclass
class World:
    east: Team
    north: Team
    owner: User  # Alice: owns the customer
    teammate: User  # Bob: same team as Alice, sees only what is shared with him or the team
    outsider: User  # Charlie: another team
    manager: User  # manages East
    admin: User
    customer: Customer


@pytest.fixture
def world(db: None) -> World:
    east = TeamFactory(name="华东组")
    north = TeamFactory(name="华北组")
    manager = UserFactory(username="manager", role=Role.MANAGER, team=east)
    east.manager = manager
    east.save()
    owner = UserFactory(username="alice", team=east, display_name="王丽")
    teammate = UserFactory(username="bob", team=east, display_name="李波")
    outsider = UserFactory(username="charlie", team=north, display_name="陈冲")
    admin = UserFactory(username="admin", role=Role.ADMIN, is_staff=True)
    customer = make_customer(
        owner,
        name="华为技术有限公司",
        short_name="华为",
        province="广东",
        city="深圳",
        industry="通信",
        relationship_type="channel",
        tags=["重点"],
    )
    contact = make_contact(
        customer, name="张伟", phones=["13900139000"], emails=["zhangwei@example.com"], title="采购经理"
    )
    make_interaction(customer, summary="客户投诉报价太高，需要重新报价", contacts=[contact])
    return World(east, north, owner, teammate, outsider, manager, admin, customer)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def client_for(world: World):
    def make(user: User) -> Client:
        return login(Client(enforce_csrf_checks=False), user)

    return make
