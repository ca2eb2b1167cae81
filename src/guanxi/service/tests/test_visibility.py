"""The service package's visibility rule over joined customers matches the customer rule exactly."""

from __future__ import annotations

import datetime as dt

from guanxi.accounts.models import Role
from guanxi.audit.models import Source
from guanxi.customers.selectors import customer_queryset_for_user
from guanxi.customers.services import customer_share
from guanxi.service import services
from guanxi.service.selectors import promises as sel
from guanxi.testing.factories import TeamFactory, UserFactory, make_customer


def test_visible_rows_are_exactly_those_of_visible_customers(world):
    sub = TeamFactory(name="华东一组", parent=world.east)
    sub_member = UserFactory(username="dave", team=sub)
    boss = UserFactory(username="boss", role=Role.MANAGER, team=world.north)
    customers = [
        world.customer,
        make_customer(world.teammate, name="李波的客户"),
        make_customer(world.outsider, name="陈冲的客户"),
        make_customer(sub_member, name="下级组的客户"),
        make_customer(boss, name="经理自己的客户"),
    ]
    customer_share(actor=world.outsider, source=Source.UI, customer=customers[2], team=world.east)
    for c in customers:
        services.promise_create(
            actor=c.owner, source=Source.UI, customer=c, what="报价", due_on=dt.date(2026, 6, 1)
        )
    for user in (world.owner, world.teammate, world.outsider, world.manager, boss, sub_member, world.admin):
        expected = set(
            customer_queryset_for_user(user)
            .filter(pk__in=[c.pk for c in customers])
            .values_list("pk", flat=True)
        )
        got = set(sel.promise_queryset_for_user(user).values_list("customer_id", flat=True))
        assert got == expected, user.username
