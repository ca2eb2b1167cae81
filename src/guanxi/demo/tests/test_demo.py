from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from guanxi.accounts.models import Role, Team, User
from guanxi.audit.models import AuditEvent
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import CustomerFilters, customer_list
from guanxi.demo import fake, vocab
from guanxi.demo.generator import DEMO_USERNAMES, build_plan, generate
from guanxi.engagement.models import Interaction
from guanxi.sales.models import Order, OrderStatus
from guanxi.search.pinyin import syllables

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def test_small_run(db: None, capsys):
    """One 40-customer run (kept to one to keep the suite fast), checked from every side."""
    generate(seed=7, customers=40)

    # the five logins and two teams, both managed by the manager
    assert set(User.objects.values_list("username", flat=True)) >= set(DEMO_USERNAMES)
    manager = User.objects.get(username="manager")
    assert manager.role == Role.MANAGER
    assert User.objects.get(username="admin").role == Role.ADMIN
    assert manager.check_password("guanxi-demo")
    teams = {t.name: t for t in Team.objects.all()}
    assert set(teams) == {"华东组", "华北组"}
    assert all(t.manager_id == manager.pk for t in teams.values())
    assert User.objects.get(username="wang").team == teams["华东组"]
    assert User.objects.get(username="li").team == teams["华北组"]

    # customers of all four relationship types, companies and individuals, lunar birthdays
    assert Customer.objects.count() == 40
    types = set(Customer.objects.values_list("relationship_type", flat=True))
    assert types == {"upstream", "partner", "channel", "end"}
    assert Customer.objects.filter(kind="person").exists()
    assert Contact.objects.filter(birthday_is_lunar=True).exists()

    # deterministic: the database holds exactly the plan's customers
    names = list(Customer.objects.order_by("id").values_list("name", flat=True))
    assert names == [c.name for c in build_plan(seed=7, customers=40).customers]

    # written through the services: audited, maintained columns filled
    assert AuditEvent.objects.filter(action="customer.create").count() == 40
    assert AuditEvent.objects.filter(action="interaction.create").count() == Interaction.objects.count()
    latest = Interaction.objects.order_by("-occurred_at").first()
    assert latest is not None
    assert Customer.objects.get(pk=latest.customer_id).last_interaction_at == latest.occurred_at
    assert Customer.objects.filter(last_interaction_at__isnull=True).exists()  # never contacted

    # revenue is skewed: the top fifth of customers holds more than half of it
    revenue = sorted(Customer.objects.values_list("revenue_total", flat=True), reverse=True)
    total = sum(revenue, Decimal(0))
    assert total > 0
    assert sum(revenue[: len(revenue) // 5], Decimal(0)) / total > Decimal("0.5")
    customer = Customer.objects.filter(order_count__gt=0).order_by("-revenue_total").first()
    orders = Order.objects.filter(customer=customer).exclude(status=OrderStatus.CANCELLED)
    assert customer.revenue_total == sum((o.amount for o in orders), Decimal(0))
    assert customer.order_count == orders.count()

    # searchable by a 2-character brand
    admin = User.objects.get(username="admin")
    company = Customer.objects.filter(kind="company").order_by("id").first()
    page = customer_list(user=admin, filters=CustomerFilters(q=company.short_name[:2], sort="name"), size=200)
    assert company in page.items

    # relationship data: decision chains, links, referrals (some through earlier referred customers),
    # review dates; the map of a customer with people shows them and the gaps list is not empty
    from guanxi.relations.models import DecisionRole, PersonLink, Referral
    from guanxi.relations.selectors import gaps_for_owner, relationship_map, stale_profiles

    assert DecisionRole.objects.filter(role="decision_maker").exists()
    assert PersonLink.objects.exists()
    assert Referral.objects.exists()
    assert Customer.objects.filter(profile_reviewed_on__isnull=False).exists()
    assert Contact.objects.exclude(preferred_channel="").exists()
    assert Contact.objects.exclude(personality="").exists()
    wang = User.objects.get(username="wang")
    assert gaps_for_owner(user=wang) or stale_profiles(user=wang)
    chained = DecisionRole.objects.filter(customer__owner=wang).values_list("customer_id", flat=True).first()
    if chained:
        assert relationship_map(user=wang, customer_id=chained).nodes

    # a believable pipeline: open deals at several stages, won deals with orders, lost ones with reasons
    from guanxi.pipeline.forecast import analysis
    from guanxi.pipeline.models import Opportunity, OpportunityPerson

    assert Opportunity.objects.filter(status="open").values("stage").distinct().count() >= 2
    assert Opportunity.objects.filter(status="won", order__isnull=False).exists()
    assert not Opportunity.objects.filter(status="lost", lost_reason="").exists()
    assert OpportunityPerson.objects.exists()
    assert analysis(user=admin).stages[0].reached > 0

    # --if-empty skips on a non-empty database; a second plain run fails with a clear message
    call_command("demo", "--if-empty", "--customers", "5")
    assert "skipped" in capsys.readouterr().out
    with pytest.raises(CommandError, match="demo users already exist"):
        call_command("demo", "--customers", "5")
    assert Customer.objects.count() == 40


def test_plan_is_deterministic():
    first = build_plan(seed=11, customers=30, today=TODAY)
    second = build_plan(seed=11, customers=30, today=TODAY)
    assert [c.name for c in first.customers] == [c.name for c in second.customers]
    assert first.customers[3].contacts[0].phones == second.customers[3].contacts[0].phones
    assert [len(c.interactions) for c in first.customers] == [len(c.interactions) for c in second.customers]
    other = build_plan(seed=12, customers=30, today=TODAY)
    assert [c.name for c in other.customers] != [c.name for c in first.customers]


def test_company_name_pinyin_is_the_sum_of_its_parts():
    """The bench computes search documents from cached part pinyin; that must equal the real thing."""
    import random

    rng = random.Random(3)
    for _ in range(300):
        company = fake.company_name(rng, fake.CITY(rng))
        assert syllables(company.name) == [s for part in company.parts for s in syllables(part)]


def test_generated_phones_are_clean():
    import random

    from guanxi.customers.phones import normalise_phone

    rng = random.Random(4)
    for city in vocab.CITIES:
        phone = normalise_phone(fake.landline(rng, city))
        assert phone.label == "landline", (city.name, phone)
    for _ in range(50):
        raw = fake.mobile(rng)
        assert normalise_phone(raw).value == "+86" + raw


def test_command_on_empty_database(db: None, capsys):
    call_command("demo", "--if-empty", "--customers", "3", "--seed", "9")
    assert "demo workspace loaded" in capsys.readouterr().out
    assert Customer.objects.count() == 3
