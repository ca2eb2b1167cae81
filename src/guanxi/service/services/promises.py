"""Promise ledger writes: record, edit, close (kept / kept late / broken / withdrawn), due reminders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import Conflict, require
from guanxi.customers.models import Contact, Customer
from guanxi.engagement.models import Interaction
from guanxi.pipeline.models import Opportunity
from guanxi.service import escalation
from guanxi.service.models import NoticeKind, Promise, PromiseStatus
from guanxi.service.services import common

# Labels of the notice e-mails, rendered in the recipient's language (translation.override).
L = {
    "customer": gettext_lazy("客户"),
    "what": gettext_lazy("承诺内容"),
    "due_on": gettext_lazy("兑现期限"),
}

FIELDS = [
    "what",
    "details",
    "contact",
    "interaction",
    "opportunity",
    "promised_by",
    "due_on",
    "status",
    "kept_on",
    "reason",
]
# Reminders go out this many days before the due date, and on every overdue day until closed.
REMIND_DAYS_BEFORE = 1
REMIND_BATCH = 1000


def _record(
    promise: Promise, action: str, actor: User | None, source: Source | str, before: dict[str, Any]
) -> None:
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj=promise,
        customer_id=promise.customer_id,
        changes=diff(before, snapshot(promise, FIELDS)),
    )


def _check_interaction(customer: Customer, interaction: Interaction | None) -> None:
    if interaction is not None:
        require(
            interaction.customer_id == customer.pk,
            "联系记录不属于该客户",
            "the interaction belongs to another customer",
            field="interaction_id",
        )


@transaction.atomic
def promise_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    what: str,
    due_on: dt.date,
    contact: Contact | None = None,
    interaction: Interaction | None = None,
    opportunity: Opportunity | None = None,
    details: str = "",
    promised_by: User | None = None,
) -> Promise:
    common.check_customer(actor, customer)
    common.check_contact(customer, contact)
    _check_interaction(customer, interaction)
    common.check_opportunity(actor, customer, opportunity)
    what = common.text(what, "what", label_zh="承诺内容", max_length=300, required=True)
    details = common.text(details, "details", label_zh="说明", max_length=5000)
    common.date(due_on, "due_on")
    promised_by = promised_by or actor
    require(promised_by.is_active, "承诺人已停用", "promised_by is inactive", field="promised_by_id")
    common.check_customer(promised_by, customer)
    promise = Promise.objects.create(
        customer=customer,
        contact=contact,
        interaction=interaction,
        opportunity=opportunity,
        what=what,
        details=details,
        due_on=due_on,
        promised_by=promised_by,
        created_by=actor,
    )
    _record(promise, "promise.create", actor, source, {})
    return promise


@transaction.atomic
def promise_update(
    *,
    actor: User,
    source: Source,
    promise: Promise,
    what: str | None = None,
    details: str | None = None,
    due_on: dt.date | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
) -> Promise:
    """Edit an open promise. Moving the date is recorded (the customer remembers the first one).
    ``opportunity`` links it to a deal of its customer (None leaves the link as it is)."""
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    require(
        promise.status == PromiseStatus.OPEN,
        "只能修改待兑现的承诺",
        "only an open promise can be edited",
        code="closed",
    )
    before = snapshot(promise, FIELDS)
    if what is not None:
        promise.what = common.text(what, "what", label_zh="承诺内容", max_length=300, required=True)
    if details is not None:
        promise.details = common.text(details, "details", label_zh="说明", max_length=5000)
    if due_on is not None:
        promise.due_on = common.date(due_on, "due_on")
    if contact is not None:
        common.check_contact(promise.customer, contact)
        promise.contact = contact
    if opportunity is not None:
        common.check_opportunity(actor, promise.customer, opportunity)
        promise.opportunity = opportunity
    promise.save()
    if diff(before, snapshot(promise, FIELDS)):
        _record(promise, "promise.update", actor, source, before)
    return promise


@transaction.atomic
def promise_close(
    *,
    actor: User,
    source: Source,
    promise: Promise,
    outcome: str,
    kept_on: dt.date | None = None,
    reason: str = "",
) -> Promise:
    """Close a promise: ``kept`` (kept late when ``kept_on`` is after the due date), ``broken`` or
    ``withdrawn`` — the last two need a reason (DOMAIN §6: admit a miss and repair it)."""
    require(
        outcome in ("kept", "broken", "withdrawn"),
        "结果无效（kept / broken / withdrawn）",
        "outcome must be kept, broken or withdrawn",
        field="outcome",
        code="invalid_choice",
    )
    reason = common.text(reason, "reason", label_zh="原因", max_length=2000, required=outcome != "kept")
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    if promise.status != PromiseStatus.OPEN:
        raise Conflict("承诺已经结束", "the promise is already closed", code="closed")
    before = snapshot(promise, FIELDS)
    today = timezone.localdate()
    if outcome == "kept":
        kept_on = common.date(kept_on, "kept_on") if kept_on is not None else today
        require(kept_on <= today, "兑现日期不能在将来", "kept_on is in the future", field="kept_on")
        promise.kept_on = kept_on
        promise.status = PromiseStatus.KEPT if kept_on <= promise.due_on else PromiseStatus.KEPT_LATE
    else:
        promise.status = PromiseStatus(outcome)
    promise.reason = reason
    promise.closed_at = timezone.now()
    promise.save(update_fields=["status", "kept_on", "reason", "closed_at", "updated_at"])
    _record(promise, f"promise.{promise.status}", actor, source, before)
    return promise


def promise_remind_due(today: dt.date | None = None) -> int:
    """Notices (and e-mails) to the promiser for open promises due tomorrow, today or overdue; one
    per promise per day, however often the tick runs."""
    today = today or timezone.localdate()
    sent = 0
    rows = (
        Promise.objects.filter(
            status=PromiseStatus.OPEN, due_on__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE)
        )
        .exclude(reminded_on=today)
        .select_related("customer", "promised_by")
        .order_by("due_on", "id")[:REMIND_BATCH]
    )
    for promise in rows:
        user = promise.promised_by
        kind = NoticeKind.PROMISE_OVERDUE if promise.due_on < today else NoticeKind.PROMISE_DUE
        with translation.override(user.language or "zh-hans"):
            subject = f"{NoticeKind(kind).label}: {promise.customer} · {promise.what}"
            body = "\n".join(
                [
                    f"{L['customer']}: {promise.customer}",
                    f"{L['what']}: {promise.what}",
                    f"{L['due_on']}: {promise.due_on:%Y-%m-%d}",
                    "",
                    reverse("service:promise", args=[promise.pk]),
                ]
            )
        with transaction.atomic():
            claimed = (
                Promise.objects.filter(pk=promise.pk, status=PromiseStatus.OPEN)
                .exclude(reminded_on=today)
                .update(reminded_on=today)
            )
            if claimed and escalation.notice_create(
                user=user,
                kind=kind,
                key=f"promise:{promise.pk}:{today.isoformat()}",
                subject=subject,
                body=body,
                promise=promise,
            ):
                sent += 1
    return sent
