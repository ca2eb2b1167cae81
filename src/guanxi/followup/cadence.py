"""Contact cadence (联系频率): how often each relationship should hear from us, and who is overdue.

The default cadence of a customer comes from a *policy*, a class named by the setting
``GUANXI_CADENCE_POLICY`` (default ``RelationshipCadencePolicy``: by status and relationship type).
Issue 7 (customer classes and tiers) replaces it with a policy by class/tier; a per-customer
``Customer.cadence_days`` (and per-contact ``Contact.cadence_days``) overrides whatever the policy says.

A policy is a list of rules, first match wins, so the same policy is evaluated in SQL — one
``CASE`` over the visible rows, no per-customer Python loop — and in Python for one customer.
"Last contact" is the maintained ``Customer.last_interaction_at``: any interaction on any channel
resets the clock. Overdue and too-frequent contact are both computed in the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Expression,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce

from guanxi.customers.models import Customer


@dataclass(frozen=True)
class Rule:
    """``when`` is a dict of Customer field → value (or tuple of values); ``days`` None = no cadence."""

    when: dict[str, Any]
    days: int | None
    weight: float = 1.0  # importance when ranking breaches

    def q(self, prefix: str = "") -> Q:
        q = Q()
        for name, value in self.when.items():
            key = f"{prefix}{name}__in" if isinstance(value, tuple) else f"{prefix}{name}"
            q &= Q(**{key: value})
        return q

    def matches(self, customer: Customer) -> bool:
        for name, value in self.when.items():
            actual = getattr(customer, name)
            if isinstance(value, tuple):
                if actual not in value:
                    return False
            elif actual != value:
                return False
        return True


class CadencePolicy:
    """Base policy: ``rules`` in order, the last one with an empty ``when`` being the default."""

    rules: tuple[Rule, ...] = (Rule({}, 30),)
    # A key contact should hear from us at least once per this many customer cadences.
    key_contact_factor = 2
    # Outbound contacts within half a cadence at which the relationship counts as contacted too often.
    too_frequent_count = 3

    def rule_for(self, customer: Customer) -> Rule:
        for rule in self.rules:
            if rule.matches(customer):
                return rule
        return Rule({}, None)

    def default_days(self, customer: Customer) -> int | None:
        return self.rule_for(customer).days

    def days_expression(self, prefix: str = "") -> Expression:
        """SQL: the default cadence in days (NULL = none) of each row."""
        return Case(
            *[When(rule.q(prefix), then=Value(rule.days)) for rule in self.rules if rule.when],
            default=Value(self.rules[-1].days if not self.rules[-1].when else None),
            output_field=IntegerField(),
        )

    def weight_expression(self, prefix: str = "") -> Expression:
        return Case(
            *[When(rule.q(prefix), then=Value(rule.weight)) for rule in self.rules if rule.when],
            default=Value(self.rules[-1].weight if not self.rules[-1].when else 1.0),
            output_field=FloatField(),
        )


class RelationshipCadencePolicy(CadencePolicy):
    """By status, then relationship type (DOMAIN §2: each kind of relationship is kept differently).

    Partners are kept by feeling — a relationship kept up over time, not only when needed — so they
    hear from us most often; channels are watched for their profitability; archived customers have
    no cadence at all.
    """

    rules = (
        Rule({"status": "archived"}, None),
        Rule({"status": "lost"}, 180, 0.3),
        Rule({"status": "dormant"}, 60, 0.6),
        Rule({"status": "prospect"}, 14, 0.8),
        Rule({"relationship_type": "partner"}, 21, 1.2),
        Rule({"relationship_type": "channel"}, 14, 1.5),
        Rule({"relationship_type": "upstream"}, 30, 1.3),
        Rule({}, 30, 1.0),
    )


@cache
def _policy(path: str) -> CadencePolicy:
    module, _, name = path.rpartition(".")
    cls = getattr(import_module(module), name)
    policy = cls()
    assert isinstance(policy, CadencePolicy), f"{path} is not a CadencePolicy"
    return policy


def policy() -> CadencePolicy:
    return _policy(
        getattr(settings, "GUANXI_CADENCE_POLICY", "guanxi.followup.cadence.RelationshipCadencePolicy")
    )


def cadence_days(customer: Customer) -> int | None:
    """The customer's cadence: its own override, else the policy's default."""
    if customer.cadence_days:
        return customer.cadence_days
    return policy().default_days(customer)


def default_cadence_days(customer: Customer) -> int | None:
    """The policy's default for the customer, ignoring any override (what the override replaces)."""
    return policy().default_days(customer)


class DaysBetween(Func):
    """Days (fractional) from ``earlier`` to ``later``, both datetimes; portable SQLite/PostgreSQL."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)",
            arg_joiner=" - ",
            **extra,
        )


def effective_days_expression(prefix: str = "") -> Expression:
    return Coalesce(F(f"{prefix}cadence_days"), policy().days_expression(prefix), output_field=IntegerField())


def annotate_cadence(qs: Any, now: dt.datetime) -> Any:
    """Adds ``cadence``, ``days_since`` (NULL = never contacted), ``overdue_ratio`` and ``weight``."""
    now_value = Value(now)
    return qs.annotate(
        cadence=effective_days_expression(),
        weight=policy().weight_expression(),
        days_since=DaysBetween(now_value, F("last_interaction_at")),
    ).annotate(
        overdue_ratio=F("days_since") / Cast(F("cadence"), FloatField()),
    )
