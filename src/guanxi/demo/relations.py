"""The demo's relationship data: decision chains, links between people, referral chains, profile
review dates and how each person likes to be reached.

Drawn from its own random stream (seed + "relations"), so adding it did not change the customers,
contacts, interactions and orders of a given seed. Written through the relations services.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.customers.models import Contact, Customer
from guanxi.demo import fake
from guanxi.relations.services import (
    contact_decision_set,
    customer_profile_review,
    person_link_create,
    referral_create,
)

if TYPE_CHECKING:
    from guanxi.demo.generator import CustomerPlan

STANCE = fake.Picker([("supporter", 45), ("neutral", 32), ("opponent", 9), ("unknown", 14)])
CHANNELS = fake.Picker([("wechat", 45), ("phone", 30), ("visit", 12), ("email", 10), ("video", 3)])
PARTNERS = ("展会主办方老周", "行业协会秘书处", "设计院刘工", "商会陈会长")
ROLE_BY_DEPARTMENT = {
    "采购部": ["purchaser"],
    "技术部": ["technical_evaluator"],
    "生产部": ["user"],
    "财务部": ["influencer"],
    "行政部": ["gatekeeper"],
}


@dataclass
class RelationsPlan:
    # (customer index, contact index, roles, stance, warmth)
    decisions: list[tuple[int, int, list[str], str, int]] = field(default_factory=list)
    # (customer index, contact index) → (customer index, contact index), kind, strength
    links: list[tuple[int, int, int, int, str, int]] = field(default_factory=list)
    # (customer index, referrer, days ago); referrer: ("customer", i) | ("contact", i, j) | ("user", name)
    # | ("external", name)
    referrals: list[tuple[int, tuple[Any, ...], int]] = field(default_factory=list)
    created_days_ago: list[int] = field(default_factory=list)
    reviews: list[tuple[int, int]] = field(default_factory=list)  # (customer index, days ago)


def build_relations(customers: list[CustomerPlan], seed: int, today: dt.date) -> RelationsPlan:
    rng = random.Random(f"{seed}-relations")
    plan = RelationsPlan()
    seen_links: set[tuple[int, int, int, int, str]] = set()
    by_owner: dict[str, list[int]] = {}
    for i, cp in enumerate(customers):
        by_owner.setdefault(cp.owner, []).append(i)
        for ct in cp.contacts:
            if rng.random() < 0.7:
                ct.fields["preferred_channel"] = CHANNELS(rng)
        # How long ago the customer came into the book: before its oldest interaction or order.
        oldest = max(
            [(today - it.occurred_at.date()).days for it in cp.interactions]
            + [(today - op.ordered_on).days for op in cp.orders]
            + [0]
        )
        created = oldest + rng.randint(20, 400)
        plan.created_days_ago.append(created)
        if rng.random() < 0.6:  # the rest were never reviewed: many show up as stale profiles
            plan.reviews.append((i, rng.randint(0, min(created - 1, 420))))
        if cp.fields["kind"] != "company" or cp.fields["status"] == "archived":
            continue
        if rng.random() < 0.75:
            decider = 0
            for j, ct in enumerate(cp.contacts):
                department = ct.fields.get("department", "")
                if j == decider:
                    roles = ["decision_maker"]
                    stance = "opponent" if rng.random() < 0.1 else STANCE(rng)
                elif rng.random() < 0.8:
                    roles = list(ROLE_BY_DEPARTMENT.get(department, ["influencer"]))
                    if rng.random() < 0.2:
                        roles.append("sponsor")
                    stance = STANCE(rng)
                else:
                    continue
                warmth = rng.randint(1, 5) if stance != "unknown" else 0
                plan.decisions.append((i, j, roles, stance, warmth))
                if j != decider:
                    kind = "reports_to" if rng.random() < 0.7 else "influences"
                    plan.links.append((i, j, i, decider, kind, rng.randint(2, 5)))
    # A few people who know each other across customers of the same salesperson.
    for indexes in by_owner.values():
        companies = [i for i in indexes if customers[i].fields["kind"] == "company" and customers[i].contacts]
        for _ in range(len(companies) // 8):
            a, b = rng.sample(companies, 2)
            kind = rng.choice(("former_colleague", "friend", "friend", "family"))
            ends = sorted(
                [
                    (a, rng.randrange(len(customers[a].contacts))),
                    (b, rng.randrange(len(customers[b].contacts))),
                ]
            )
            key = (*ends[0], *ends[1], kind)
            if key not in seen_links:
                seen_links.add(key)
                plan.links.append((*ends[0], *ends[1], kind, rng.randint(2, 5)))
    # Referrals: a customer that came by referral was introduced by an earlier customer of the same
    # salesperson (or one of its people), by a colleague, or by an outside partner — chains form.
    for indexes in by_owner.values():
        for position, i in enumerate(indexes):
            cp = customers[i]
            if cp.fields["lead_source"] != "referral":
                continue
            days = rng.randint(1, max(1, plan.created_days_ago[i] - 1))
            earlier = indexes[:position]
            r = rng.random()
            if earlier and r < 0.75:
                source = rng.choice(earlier[-8:])  # recent introductions pass on to the next ones
                if customers[source].contacts and rng.random() < 0.6:
                    referrer: tuple[Any, ...] = (
                        "contact",
                        source,
                        rng.randrange(len(customers[source].contacts)),
                    )
                else:
                    referrer = ("customer", source)
            elif r < 0.85:
                referrer = ("user", "manager")
            else:
                referrer = ("external", rng.choice(PARTNERS))
            plan.referrals.append((i, referrer, days))
    return plan


def apply_relations(
    plan: RelationsPlan,
    customers: list[Customer],
    contacts: list[list[Contact]],
    owners: list[User],
    users: dict[str, User],
) -> int:
    """Write the relations plan; returns the number of referrals."""
    cli = Source.CLI
    now = timezone.now()
    today = timezone.localdate()
    for i, days in enumerate(plan.created_days_ago):
        # The demo's customers were "created" before their first contact: their profile's age is
        # what makes a never-reviewed profile stale.
        Customer.objects.filter(pk=customers[i].pk).update(created_at=now - dt.timedelta(days=days))
        customers[i].created_at = now - dt.timedelta(days=days)
    for i, days in plan.reviews:
        customer_profile_review(
            actor=owners[i], source=cli, customer=customers[i], reviewed_on=today - dt.timedelta(days=days)
        )
    for i, j, roles, stance, warmth in plan.decisions:
        contact_decision_set(
            actor=owners[i], source=cli, contact=contacts[i][j], roles=roles, stance=stance, warmth=warmth
        )
    for a, a_contact, b, b_contact, kind, strength in plan.links:
        if owners[a].pk != owners[b].pk:
            continue
        person_link_create(
            actor=owners[a],
            source=cli,
            from_contact_id=contacts[a][a_contact].pk,
            to_contact_id=contacts[b][b_contact].pk,
            kind=kind,
            strength=strength,
        )
    for i, referrer, days in plan.referrals:
        kwargs: dict[str, Any] = {}
        if referrer[0] == "customer":
            kwargs["referrer_customer_id"] = customers[referrer[1]].pk
        elif referrer[0] == "contact":
            kwargs["referrer_contact_id"] = contacts[referrer[1]][referrer[2]].pk
        elif referrer[0] == "user":
            kwargs["referrer_user_id"] = users[referrer[1]].pk
        else:
            kwargs["referrer_name"] = referrer[1]
        referral_create(
            actor=owners[i],
            source=cli,
            customer=customers[i],
            referred_on=today - dt.timedelta(days=days),
            **kwargs,
        )
    return len(plan.referrals)
