"""Service policy per class/tier (差异化服务): what each customer is entitled to.

``terms_for(customer)`` is what the follow-up cadence and the complaint deadlines read.
``ServicePolicyCadence`` is the default ``GUANXI_CADENCE_POLICY``: its rules come from the service
policy table by the customer's maintained ``value_class``/``tier`` columns, so the follow-up engine
evaluates them in SQL (a CASE) and in Python alike. Customers not yet classified fall back to the
relationship-type rules; a per-customer or per-contact cadence still overrides both.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from guanxi.customers.models import Customer
from guanxi.followup.cadence import CadencePolicy, RelationshipCadencePolicy, Rule
from guanxi.value.choices import CLASS_ORDER
from guanxi.value.models import ServicePolicy


@dataclass(frozen=True)
class ServiceTerms:
    contact_cadence_days: int | None
    visit_every_days: int | None
    complaint_response_hours: int
    complaint_resolution_hours: int
    discount_ceiling_pct: Decimal | None
    value_added_services: tuple[str, ...]


# When no policy row matches at all (an administrator deleted the catch-all).
FALLBACK = ServiceTerms(30, None, 24, 120, None, ())

_CACHE_SECONDS = 60.0
_lock = threading.Lock()
_cache: dict[str, Any] = {"at": 0.0, "rows": None}


def invalidate() -> None:
    """Called by every policy write (and by tests); other processes pick changes up within a minute."""
    with _lock:
        _cache["at"] = 0.0
        _cache["rows"] = None


def _specificity(p: ServicePolicy) -> int:
    return (2 if p.tier else 0) + (1 if p.value_class else 0)


def policies() -> list[ServicePolicy]:
    """All policy rows, most specific first: (class, tier), (*, tier), (class, *), (*, *)."""
    with _lock:
        rows = _cache["rows"]
        if rows is not None and time.monotonic() - _cache["at"] < _CACHE_SECONDS:
            return rows  # type: ignore[no-any-return]
    rows = sorted(ServicePolicy.objects.all(), key=lambda p: (-_specificity(p), p.value_class, p.tier))
    with _lock:
        _cache["rows"] = rows
        _cache["at"] = time.monotonic()
    return rows


def policy_for(value_class: str, tier: str) -> ServicePolicy | None:
    for p in policies():
        if (not p.value_class or p.value_class == value_class) and (not p.tier or p.tier == tier):
            if not value_class and (p.value_class or p.tier):
                continue
            return p
    return None


def terms_of(p: ServicePolicy | None) -> ServiceTerms:
    if p is None:
        return FALLBACK
    return ServiceTerms(
        contact_cadence_days=p.contact_cadence_days,
        visit_every_days=p.visit_every_days,
        complaint_response_hours=p.complaint_response_hours,
        complaint_resolution_hours=p.complaint_resolution_hours,
        discount_ceiling_pct=p.discount_ceiling_pct,
        value_added_services=tuple(p.services_list()),
    )


def terms_for(customer: Customer) -> ServiceTerms:
    """The service terms of a customer by its current class and tier (unclassified: the catch-all)."""
    return terms_of(policy_for(customer.value_class, customer.tier))


class ServicePolicyCadence(CadencePolicy):
    """Cadence by service policy; unclassified customers by status and relationship type."""

    @property
    def rules(self) -> tuple[Rule, ...]:  # type: ignore[override]
        fallback = RelationshipCadencePolicy.rules
        out: list[Rule] = [fallback[0]]  # archived: no cadence, whatever the class
        for p in policies():
            when: dict[str, Any] = {}
            if p.value_class:
                when["value_class"] = p.value_class
            else:
                when["value_class"] = tuple(CLASS_ORDER)  # classified customers only
            if p.tier:
                when["tier"] = p.tier
            out.append(Rule(when, p.contact_cadence_days, float(p.weight)))
        out.extend(fallback[1:])
        return tuple(out)
