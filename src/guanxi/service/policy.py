"""Complaint deadlines (投诉时限): one function, ``deadlines_for``, over a pluggable service policy.

The policy is a class named by the setting ``GUANXI_SERVICE_POLICY`` (default
``ValueTermsServicePolicy``: base hours from the service policy of the customer's value class/tier;
``RelationshipServicePolicy`` — by status and relationship type — for customers not yet classified). A policy
gives the *base* response and resolution hours of a customer; a severity factor scales both (a
critical complaint gets a quarter of the time, a minor one twice as long). The value engine
plugs in with ``ValueTermsServicePolicy``, which reads ``guanxi.value.policy.terms_for(customer)``'s
``complaint_response_hours`` / ``complaint_resolution_hours`` per class/tier (DOMAIN §3:
different service policies per class, "response time" among them).

**Calendar hours, not working hours.** A complaining customer does not wait for our office to open
(DOMAIN §6: "answer quickly and decisively"), deadlines must mean the same thing to the customer,
the salesperson and the manager they are escalated to, and calendar arithmetic is exact and the same
in SQL and Python. The defaults are set with that in mind: 24 h to respond covers a night.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

from django.conf import settings

from guanxi.customers.models import Customer

SEVERITY_FACTOR = {"critical": 0.25, "high": 0.5, "medium": 1.0, "low": 2.0}
# No deadline shorter than this, whatever the factor (a 6-hour base × 0.25 would leave 90 minutes).
MIN_RESPONSE_HOURS = 2.0
MIN_RESOLUTION_HOURS = 8.0


@dataclass(frozen=True)
class Rule:
    """``when``: Customer field → value (or tuple of values); the hours of the first matching rule apply."""

    when: dict[str, Any]
    response_hours: float
    resolution_hours: float

    def matches(self, customer: Customer) -> bool:
        for name, value in self.when.items():
            actual = getattr(customer, name)
            if (actual not in value) if isinstance(value, tuple) else (actual != value):
                return False
        return True


class ServicePolicy:
    """Base policy: ``base_hours`` of a customer, scaled by the severity factor."""

    severity_factor = SEVERITY_FACTOR

    def base_hours(self, customer: Customer) -> tuple[float, float]:
        return 24.0, 120.0

    def hours(self, customer: Customer, severity: str) -> tuple[float, float]:
        response, resolution = self.base_hours(customer)
        factor = self.severity_factor.get(severity, 1.0)
        response = max(MIN_RESPONSE_HOURS, response * factor)
        resolution = max(MIN_RESOLUTION_HOURS, resolution * factor, response)
        return response, resolution

    def deadlines(
        self, customer: Customer, severity: str, received_at: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime]:
        response, resolution = self.hours(customer, severity)
        return received_at + dt.timedelta(hours=response), received_at + dt.timedelta(hours=resolution)


class RelationshipServicePolicy(ServicePolicy):
    """By status, then relationship type (DOMAIN §2). Channels and upstream partners carry our
    business, so they are answered fastest; prospects are not yet customers but a complaint before
    the first order decides whether there will be one."""

    rules = (
        Rule({"status": ("lost", "archived")}, 48, 240),
        Rule({"status": "dormant"}, 24, 168),
        Rule({"relationship_type": "channel"}, 8, 72),
        Rule({"relationship_type": "upstream"}, 8, 72),
        Rule({"relationship_type": "partner"}, 12, 96),
        Rule({}, 24, 120),
    )

    def base_hours(self, customer: Customer) -> tuple[float, float]:
        for rule in self.rules:
            if rule.matches(customer):
                return rule.response_hours, rule.resolution_hours
        return super().base_hours(customer)


class ValueTermsServicePolicy(RelationshipServicePolicy):
    """The default: base hours from the value engine's service policy of the customer's class/tier
    (``guanxi.value.policy.terms_for``, edited by an administrator at /value/settings/). A customer
    not yet classified (no re-evaluation has run since it was created) keeps the relationship rules,
    as the contact cadence does (``guanxi.value.policy.ServicePolicyCadence``)."""

    def base_hours(self, customer: Customer) -> tuple[float, float]:
        if not customer.value_class:
            return super().base_hours(customer)
        from guanxi.value.policy import terms_for

        terms = terms_for(customer)
        return float(terms.complaint_response_hours), float(terms.complaint_resolution_hours)


@cache
def _policy(path: str) -> ServicePolicy:
    module, _, name = path.rpartition(".")
    policy = getattr(import_module(module), name)()
    assert isinstance(policy, ServicePolicy), f"{path} is not a ServicePolicy"
    return policy


def policy() -> ServicePolicy:
    return _policy(
        getattr(settings, "GUANXI_SERVICE_POLICY", "guanxi.service.policy.ValueTermsServicePolicy")
    )


def deadlines_for(
    *, customer: Customer, severity: str, received_at: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """(respond_by, resolve_by) of a complaint of ``severity`` by ``customer`` received at ``received_at``."""
    return policy().deadlines(customer, severity, received_at)
