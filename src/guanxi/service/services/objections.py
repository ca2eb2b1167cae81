"""Objection writes: log one, then record what probing found, the response and the outcome."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import require
from guanxi.customers.models import Contact, Customer
from guanxi.pipeline.models import Opportunity
from guanxi.service.models import Judgement, Objection, ObjectionCategory, ObjectionOutcome
from guanxi.service.services import common

FIELDS = [
    "customer",
    "contact",
    "opportunity",
    "category",
    "customer_words",
    "judgement",
    "direct_questions",
    "indirect_questions",
    "real_reason",
    "real_category",
    "response",
    "outcome",
    "raised_on",
]
TEXTS = {
    "customer_words": ("客户原话", 2000),
    "direct_questions": ("直接询问", 2000),
    "indirect_questions": ("间接询问", 2000),
    "real_reason": ("真实原因", 2000),
    "response": ("应对", 5000),
}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in TEXTS:
            label, limit = TEXTS[name]
            out[name] = common.text(
                value, name, label_zh=label, max_length=limit, required=name == "customer_words"
            )
        elif name in ("category",):
            out[name] = common.choice(value, ObjectionCategory, name, "类别")
        elif name == "real_category":
            out[name] = common.choice(value, ObjectionCategory, name, "真实原因类别", blank=True)
        elif name == "judgement":
            out[name] = common.choice(value, Judgement, name, "判断")
        elif name == "outcome":
            out[name] = common.choice(value, ObjectionOutcome, name, "结果")
        elif name == "raised_on":
            out[name] = common.date(value, name)
            require(
                out[name] <= timezone.localdate(), "日期不能在将来", "raised_on is in the future", field=name
            )
        else:
            out[name] = value
    return out


def _record(objection: Objection, action: str, actor: User, source: Source, before: dict[str, Any]) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj=objection,
        customer_id=objection.customer_id,
        changes=diff(before, snapshot(objection, FIELDS)),
    )


@transaction.atomic
def objection_create(
    *,
    actor: User,
    source: Source,
    category: str,
    customer_words: str,
    customer: Customer | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    judgement: str = Judgement.UNSURE,
    direct_questions: str = "",
    indirect_questions: str = "",
    real_reason: str = "",
    real_category: str = "",
    response: str = "",
    outcome: str = ObjectionOutcome.PENDING,
    raised_on: dt.date | None = None,
) -> Objection:
    """Log an objection. Raised in a deal (``opportunity``) without a customer given, it is on the
    deal's customer; a deal of another customer is refused."""
    if opportunity is not None and customer is None:
        common.check_opportunity(actor, opportunity.customer, opportunity)
        customer = opportunity.customer
    common.check_customer(actor, customer)
    common.check_contact(customer, contact)
    common.check_opportunity(actor, customer, opportunity)
    values = _clean(
        {
            "category": category,
            "customer_words": customer_words,
            "judgement": judgement,
            "direct_questions": direct_questions,
            "indirect_questions": indirect_questions,
            "real_reason": real_reason,
            "real_category": real_category,
            "response": response,
            "outcome": outcome,
            "raised_on": raised_on or timezone.localdate(),
        }
    )
    objection = Objection.objects.create(
        customer=customer, contact=contact, opportunity=opportunity, raised_by=actor, **values
    )
    _record(objection, "objection.create", actor, source, {})
    return objection


@transaction.atomic
def objection_update(*, actor: User, source: Source, objection: Objection, **values: Any) -> Objection:
    allowed = set(FIELDS) - {"customer"}
    unknown = set(values) - allowed
    require(
        not unknown, "不能修改这些字段", f"cannot change {sorted(unknown)}", field=next(iter(unknown), None)
    )
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    before = snapshot(objection, FIELDS)
    values = _clean({k: v for k, v in values.items() if v is not None or k in ("contact", "opportunity")})
    if "contact" in values:
        common.check_contact(objection.customer, values["contact"])
    if values.get("opportunity") is not None:
        common.check_opportunity(actor, objection.customer, values["opportunity"])
    for name, value in values.items():
        setattr(objection, name, value)
    objection.save()
    if diff(before, snapshot(objection, FIELDS)):
        _record(objection, "objection.update", actor, source, before)
    return objection
