"""A deal's copies of its customer's owner and team (kept by the database, migration 0005): set when
the deal is written, following the customer when it changes hands — through the service, a merge,
or plain SQL — and never brought back by a stale copy of the deal. Who sees the deal follows."""

from __future__ import annotations

import pytest
from django.db import connection

from guanxi.audit.models import Source
from guanxi.customers.selectors import Branch
from guanxi.customers.services import customer_update
from guanxi.dataio.merge import customer_merge
from guanxi.pipeline.models import Opportunity, Stage
from guanxi.pipeline.selectors import DEAL_CUSTOMER_COLUMNS, opportunity_queryset_for_user
from guanxi.pipeline.tests.conftest import make_opportunity, seed_default_pipelines
from guanxi.testing.factories import make_customer

pytestmark = pytest.mark.django_db


def _keys(opp: Opportunity) -> tuple[int | None, int | None]:
    return tuple(
        Opportunity.objects.filter(pk=opp.pk).values_list("customer_owner_id", "customer_team_id")[0]
    )  # type: ignore[return-value]


def _seen_by(world, opp: Opportunity) -> set[str]:
    people = {
        "owner": world.owner,
        "teammate": world.teammate,
        "outsider": world.outsider,
        "manager": world.manager,
        "admin": world.admin,
    }
    return {
        name
        for name, user in people.items()
        if opportunity_queryset_for_user(user).filter(pk=opp.pk).exists()
    }


def test_a_new_deal_takes_its_customers_owner_and_team(world, stages):
    opp = make_opportunity(world.customer)
    assert _keys(opp) == (world.owner.pk, world.east.pk)
    assert _seen_by(world, opp) == {"owner", "manager", "admin"}


def test_deals_follow_their_customer_to_a_new_owner_and_a_stale_copy_does_not_bring_them_back(world, stages):
    opp = make_opportunity(world.customer)
    stale = Opportunity.objects.get(pk=opp.pk)
    customer_update(actor=world.admin, source=Source.UI, customer=world.customer, owner=world.outsider)
    assert _keys(opp) == (world.outsider.pk, world.north.pk)
    assert _seen_by(world, opp) == {"outsider", "admin"}  # Alice and East's manager lose it
    # A copy read before the handover, saved afterwards: Django writes every column back, the old
    # owner's copies included, and the database puts the customer's current ones in their place.
    assert stale.customer_owner_id == world.owner.pk
    stale.name = "改名"
    stale.save()
    assert Opportunity.objects.get(pk=opp.pk).name == "改名"
    assert _keys(opp) == (world.outsider.pk, world.north.pk)
    Opportunity.objects.filter(pk=opp.pk).update(customer_owner_id=world.owner.pk, customer_team_id=None)
    assert _keys(opp) == (world.outsider.pk, world.north.pk)  # a direct write is corrected too


def test_deals_follow_a_change_made_in_plain_sql(world, stages):
    opp = make_opportunity(world.customer)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET team_id = NULL WHERE id = %s", [world.customer.pk])
    assert _keys(opp) == (world.owner.pk, None)
    assert _seen_by(world, opp) == {"owner", "admin"}  # no longer a customer of the manager's team


def test_a_merged_customers_deals_take_the_survivors_owner(world, stages):
    opp = make_opportunity(world.customer)
    survivor = make_customer(world.outsider, name="陈冲的客户")
    customer_merge(actor=world.admin, source=Source.UI, survivor=survivor, merged=world.customer)
    opp.refresh_from_db()
    assert opp.customer_id == survivor.pk
    assert _keys(opp) == (world.outsider.pk, world.north.pk)
    assert _seen_by(world, opp) == {"outsider", "admin"}


def test_the_triggers_are_in_place_after_every_migration(db):
    """A later migration that rebuilds either table on SQLite (Django copies the table and drops the
    old one) would drop its triggers with it, and deals would stop following their customers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'opp_customer_keys%%'")
            expected = {"opp_customer_keys", "opp_customer_keys_follow"}
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'opp_customer_keys%'"
            )
            expected = {"opp_customer_keys_ins", "opp_customer_keys_upd", "opp_customer_keys_follow"}
        assert {row[0] for row in cursor.fetchall()} == expected


def test_a_rule_on_a_column_without_a_copy_is_refused():
    from django.db.models import Q

    with pytest.raises(ValueError, match="status"):
        Branch(Q(status="active")).rule_as(DEAL_CUSTOMER_COLUMNS)
    assert Branch(Q(id__in=[1, 2]) | Q(team_id=3)).rule_as(DEAL_CUSTOMER_COLUMNS) == Q(
        customer_id__in=[1, 2]
    ) | Q(customer_team_id=3)


@pytest.mark.django_db(transaction=True)
def test_a_deal_written_during_a_handover_waits_for_it_and_takes_the_new_owner(world):
    """PostgreSQL, two connections: a new deal inserted while its customer is being handed over
    would otherwise read the old owner (the handover is not committed yet) and keep it."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite writes one transaction at a time: a deal cannot be written during a handover")
    seed_default_pipelines()  # an earlier transactional test may have emptied the migration's rows
    import datetime as dt
    import threading
    import time

    from django.db import transaction
    from django.utils import timezone

    handed, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    times: dict[str, float] = {}
    created: list[int] = []

    def handover() -> None:
        try:
            with transaction.atomic():
                customer_update(
                    actor=world.admin, source=Source.UI, customer=world.customer, owner=world.outsider
                )
                handed.set()
                release.wait(10)
                times["released"] = time.monotonic()
        except BaseException as exc:
            errors.append(exc)
        finally:
            handed.set()
            connection.close()

    def new_deal() -> None:
        try:
            handed.wait(10)
            stage = Stage.objects.get(pipeline__name="新业务", name_en="Qualification")
            opp = Opportunity.objects.create(
                customer=world.customer,
                name="交接时新建",
                pipeline=stage.pipeline,
                stage=stage,
                probability=10,
                expected_close_on=dt.date(2026, 12, 31),
                owner=world.owner,
                stage_entered_at=timezone.now(),
            )
            times["inserted"] = time.monotonic()
            created.append(opp.pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=handover), threading.Thread(target=new_deal)]
    for t in threads:
        t.start()
    handed.wait(10)
    time.sleep(0.5)  # the insert has reached the customer's row and waits on it
    release.set()
    for t in threads:
        t.join(20)
    assert not errors
    assert times["inserted"] >= times["released"]
    assert _keys(Opportunity.objects.get(pk=created[0])) == (world.outsider.pk, world.north.pk)
