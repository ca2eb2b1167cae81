"""Complaint writes: intake, acknowledge, action taken, escalate, resolve, reopen, satisfaction, and
the periodic deadline check. Every step is an audit row on the complaint and the customer's timeline."""

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
from guanxi.core.errors import Conflict, GuanxiError, require
from guanxi.customers.models import Contact, Customer
from guanxi.engagement.models import Channel
from guanxi.service import escalation
from guanxi.service.models import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    EscalationReason,
    NoticeKind,
    Satisfaction,
    Severity,
)
from guanxi.service.policy import deadlines_for, policy
from guanxi.service.services import common

# Labels of the notice e-mails, rendered in the recipient's language (translation.override).
L = {
    "escalated": gettext_lazy("投诉升级"),
    "customer": gettext_lazy("客户"),
    "summary": gettext_lazy("事由"),
    "severity": gettext_lazy("严重程度"),
    "reason": gettext_lazy("升级原因"),
    "handler": gettext_lazy("处理人"),
    "resolve_by": gettext_lazy("解决期限"),
    "task": gettext_lazy("处理升级的投诉"),
    "deadline": gettext_lazy("期限"),
}

FIELDS = [
    "contact",
    "channel",
    "category",
    "severity",
    "summary",
    "customer_words",
    "listening_notes",
    "customer_wants",
    "handler",
    "status",
    "respond_by",
    "resolve_by",
    "acknowledged_at",
    "resolved_at",
    "resolution",
    "beyond_authority",
    "escalated_to",
    "escalation_level",
    "escalation_reason",
    "satisfaction",
    "satisfaction_note",
]
LONG_TEXT = 5000
# Warn the handler when this share of the time to a deadline is left (at least an hour before).
WARN_SHARE = 0.25
WARN_MIN = dt.timedelta(hours=1)
CHECK_BATCH = 500


def _texts(values: dict[str, Any]) -> dict[str, Any]:
    labels = {
        "summary": ("事由", 200),
        "customer_words": ("客户原话", LONG_TEXT),
        "listening_notes": ("倾听记录", LONG_TEXT),
        "customer_wants": ("客户诉求", LONG_TEXT),
    }
    out = {}
    for name, value in values.items():
        if name in labels:
            label, limit = labels[name]
            out[name] = common.text(value, name, label_zh=label, max_length=limit, required=name == "summary")
        else:
            out[name] = value
    return out


def _record(
    complaint: Complaint,
    action: str,
    *,
    actor: User | None,
    source: Source | str,
    before: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    changes = diff(before or {}, snapshot(complaint, FIELDS)) if before is not None else {}
    if note:
        changes["_note"] = [None, note]
    audit_record(
        actor=actor,
        source=source,
        action=action,
        obj=complaint,
        customer_id=complaint.customer_id,
        changes=changes,
    )


def _note(note: str, *, required: bool = False) -> str:
    return common.text(note, "note", label_zh="说明", max_length=LONG_TEXT, required=required)


def _locked(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer", "handler", "escalated_to")
        .get(pk=complaint.pk)
    )


@transaction.atomic
def complaint_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    summary: str,
    category: str,
    severity: str = Severity.MEDIUM,
    channel: str = Channel.PHONE,
    contact: Contact | None = None,
    customer_words: str = "",
    listening_notes: str = "",
    customer_wants: str = "",
    received_at: dt.datetime | None = None,
    handler: User | None = None,
    beyond_authority: bool = False,
) -> Complaint:
    """Log a complaint from any channel; deadlines come from the service policy (``deadlines_for``)."""
    common.check_customer(actor, customer)
    common.check_contact(customer, contact)
    values = _texts(
        {
            "summary": summary,
            "customer_words": customer_words,
            "listening_notes": listening_notes,
            "customer_wants": customer_wants,
        }
    )
    category = common.choice(category, ComplaintCategory, "category", "类别")
    severity = common.choice(severity, Severity, "severity", "严重程度")
    channel = common.choice(channel, Channel, "channel", "渠道")
    now = timezone.now()
    received_at = common.aware(received_at, "received_at") if received_at is not None else now
    require(
        received_at <= now + dt.timedelta(minutes=5),
        "收到时间不能在将来",
        "received_at is in the future",
        field="received_at",
    )
    handler = handler or customer.owner
    require(handler.is_active, "处理人已停用", "the handler is inactive", field="handler_id")
    common.check_customer(handler, customer)
    respond_by, resolve_by = deadlines_for(customer=customer, severity=severity, received_at=received_at)
    complaint = Complaint.objects.create(
        customer=customer,
        contact=contact,
        channel=channel,
        category=category,
        severity=severity,
        handler=handler,
        received_at=received_at,
        respond_by=respond_by,
        resolve_by=resolve_by,
        created_by=actor,
        **values,
    )
    _record(complaint, "complaint.create", actor=actor, source=source, before={})
    if beyond_authority:
        _escalate(complaint, EscalationReason.BEYOND_AUTHORITY, actor=actor, source=source, note="")
    return complaint


@transaction.atomic
def complaint_update(*, actor: User, source: Source, complaint: Complaint, **values: Any) -> Complaint:
    """Edit what was recorded; a new severity recomputes both deadlines from the received time."""
    allowed = {
        "summary",
        "category",
        "severity",
        "channel",
        "contact",
        "customer_words",
        "listening_notes",
        "customer_wants",
    }
    unknown = set(values) - allowed
    require(
        not unknown, "不能修改这些字段", f"cannot change {sorted(unknown)}", field=next(iter(unknown), None)
    )
    complaint = _locked(complaint)
    before = snapshot(complaint, FIELDS)
    values = _texts({k: v for k, v in values.items() if v is not None})
    if "category" in values:
        values["category"] = common.choice(values["category"], ComplaintCategory, "category", "类别")
    if "channel" in values:
        values["channel"] = common.choice(values["channel"], Channel, "channel", "渠道")
    if "contact" in values:
        common.check_contact(complaint.customer, values["contact"])
    if "severity" in values:
        values["severity"] = common.choice(values["severity"], Severity, "severity", "严重程度")
        if values["severity"] != complaint.severity:
            complaint.respond_by, complaint.resolve_by = deadlines_for(
                customer=complaint.customer, severity=values["severity"], received_at=complaint.received_at
            )
    for name, value in values.items():
        setattr(complaint, name, value)
    complaint.save()
    if diff(before, snapshot(complaint, FIELDS)):
        _record(complaint, "complaint.update", actor=actor, source=source, before=before)
    return complaint


@transaction.atomic
def complaint_acknowledge(*, actor: User, source: Source, complaint: Complaint, note: str = "") -> Complaint:
    """The first response to the customer (响应): stops the response clock."""
    note = _note(note)
    complaint = _locked(complaint)
    if complaint.status != ComplaintStatus.OPEN:
        raise Conflict(
            "投诉已经响应过了", "the complaint was already acknowledged", code="already_acknowledged"
        )
    before = snapshot(complaint, FIELDS)
    complaint.status = ComplaintStatus.ACKNOWLEDGED
    complaint.acknowledged_at = timezone.now()
    complaint.save(update_fields=["status", "acknowledged_at", "updated_at"])
    _record(complaint, "complaint.acknowledge", actor=actor, source=source, before=before, note=note)
    return complaint


@transaction.atomic
def complaint_add_action(*, actor: User, source: Source, complaint: Complaint, note: str) -> Complaint:
    """An action taken (采取的措施); the first one on an unacknowledged complaint counts as the response."""
    note = _note(note, required=True)
    complaint = _locked(complaint)
    require(
        complaint.is_open,
        "投诉已解决，请先重新打开",
        "the complaint is resolved; reopen it first",
        code="resolved",
    )
    before = snapshot(complaint, FIELDS)
    if complaint.status == ComplaintStatus.OPEN:
        complaint.status = ComplaintStatus.ACKNOWLEDGED
        complaint.acknowledged_at = timezone.now()
        complaint.save(update_fields=["status", "acknowledged_at", "updated_at"])
    _record(complaint, "complaint.action", actor=actor, source=source, before=before, note=note)
    return complaint


@transaction.atomic
def complaint_escalate(*, actor: User, source: Source, complaint: Complaint, note: str = "") -> Complaint:
    """ "Beyond my authority" (超出权限): straight to the next manager up, at once."""
    note = _note(note)
    complaint = _locked(complaint)
    require(complaint.is_open, "投诉已解决", "the complaint is resolved", code="resolved")
    if not complaint.beyond_authority:
        complaint.beyond_authority = True
        complaint.save(update_fields=["beyond_authority", "updated_at"])
    _escalate(complaint, EscalationReason.BEYOND_AUTHORITY, actor=actor, source=source, note=note)
    return complaint


def _escalate(
    complaint: Complaint, reason: str, *, actor: User | None, source: Source | str, note: str
) -> User | None:
    before = snapshot(complaint, FIELDS)
    start = complaint.escalated_to or complaint.handler
    skip = {complaint.handler_id} | ({actor.pk} if actor is not None else set())
    target = escalation.escalation_target(start, skip=skip)
    now = timezone.now()
    complaint.escalation_level += 1
    complaint.escalated_at = now
    complaint.escalation_reason = reason
    if target is not None:
        complaint.escalated_to = target
    complaint.save(
        update_fields=["escalation_level", "escalated_at", "escalation_reason", "escalated_to", "updated_at"]
    )
    _record(complaint, "complaint.escalate", actor=actor, source=source, before=before, note=note)
    if target is not None:
        _notify_escalation(complaint, target, reason)
    return target


def _local(when: dt.datetime) -> str:
    return f"{timezone.localtime(when):%Y-%m-%d %H:%M}"


def _url(complaint: Complaint) -> str:
    return reverse("service:complaint", args=[complaint.pk])


def _notify_escalation(complaint: Complaint, target: User, reason: str) -> None:
    from guanxi.followup.services import task_create

    with translation.override(target.language or "zh-hans"):
        reason_label = str(EscalationReason(reason).label)
        subject = f"{L['escalated']}: {complaint.customer} · {complaint.summary}"
        body = "\n".join(
            [
                f"{L['customer']}: {complaint.customer}",
                f"{L['summary']}: {complaint.summary}",
                f"{L['severity']}: {Severity(complaint.severity).label}",
                f"{L['reason']}: {reason_label}",
                f"{L['handler']}: {complaint.handler}",
                f"{L['resolve_by']}: {_local(complaint.resolve_by)}",
                "",
                _url(complaint),
            ]
        )
        escalation.notice_create(
            user=target,
            kind=NoticeKind.ESCALATED,
            key=f"complaint:{complaint.pk}:escalated:{complaint.escalation_level}",
            subject=subject,
            body=body,
            complaint=complaint,
        )
        try:
            with transaction.atomic():
                task_create(
                    actor=target,
                    source=Source.JOB,
                    title=f"{L['task']}: {complaint.summary}"[:200],
                    due_on=min(
                        timezone.localdate(complaint.resolve_by), timezone.localdate() + dt.timedelta(days=1)
                    ),
                    customer=complaint.customer,
                    contact=complaint.contact,
                    notes=body,
                )
        except GuanxiError:
            pass  # the notice still reaches them; a task needs a customer they can see


@transaction.atomic
def complaint_resolve(*, actor: User, source: Source, complaint: Complaint, resolution: str) -> Complaint:
    resolution = common.text(
        resolution, "resolution", label_zh="处理结果", max_length=LONG_TEXT, required=True
    )
    complaint = _locked(complaint)
    if not complaint.is_open:
        raise Conflict("投诉已经解决了", "the complaint is already resolved", code="already_resolved")
    before = snapshot(complaint, FIELDS)
    now = timezone.now()
    complaint.status = ComplaintStatus.RESOLVED
    complaint.resolved_at = now
    complaint.acknowledged_at = complaint.acknowledged_at or now
    complaint.resolution = resolution
    complaint.save(update_fields=["status", "resolved_at", "acknowledged_at", "resolution", "updated_at"])
    _record(complaint, "complaint.resolve", actor=actor, source=source, before=before)
    return complaint


@transaction.atomic
def complaint_reopen(*, actor: User, source: Source, complaint: Complaint, reason: str) -> Complaint:
    """The customer is not satisfied after all: open again, with a fresh resolution deadline."""
    reason = common.text(reason, "reason", label_zh="原因", max_length=LONG_TEXT, required=True)
    complaint = _locked(complaint)
    if complaint.is_open:
        raise Conflict("投诉尚未解决", "the complaint is not resolved", code="not_resolved")
    before = snapshot(complaint, FIELDS)
    now = timezone.now()
    _, resolution_hours = policy().hours(complaint.customer, complaint.severity)
    complaint.status = ComplaintStatus.ACKNOWLEDGED
    complaint.resolved_at = None
    complaint.resolve_by = max(now + dt.timedelta(hours=resolution_hours), complaint.respond_by)
    complaint.resolution_breach_at = None
    complaint.satisfaction = ""
    complaint.satisfaction_note = ""
    complaint.satisfaction_at = None
    complaint.save()
    _record(complaint, "complaint.reopen", actor=actor, source=source, before=before, note=reason)
    return complaint


@transaction.atomic
def complaint_record_satisfaction(
    *, actor: User | None, source: Source | str, complaint: Complaint, satisfaction: str, note: str = ""
) -> Complaint:
    """The satisfaction check after resolution (回访): logged by hand, or from a survey answer."""
    satisfaction = common.choice(satisfaction, Satisfaction, "satisfaction", "满意度")
    note = common.text(note, "satisfaction_note", label_zh="说明", max_length=LONG_TEXT)
    complaint = _locked(complaint)
    require(
        complaint.status == ComplaintStatus.RESOLVED,
        "投诉解决后才能回访满意度",
        "satisfaction is checked after the complaint is resolved",
        field="satisfaction",
        code="not_resolved",
    )
    before = snapshot(complaint, FIELDS)
    complaint.satisfaction = satisfaction
    complaint.satisfaction_note = note
    complaint.satisfaction_at = timezone.now()
    complaint.save(update_fields=["satisfaction", "satisfaction_note", "satisfaction_at", "updated_at"])
    _record(complaint, "complaint.satisfaction", actor=actor, source=source, before=before)
    return complaint


def _warn_at(start: dt.datetime, deadline: dt.datetime) -> dt.datetime:
    return deadline - max(WARN_MIN, (deadline - start) * WARN_SHARE)


def complaint_check_deadlines(now: dt.datetime | None = None) -> dict[str, int]:
    """Deadline warnings to the handler and automatic escalation of passed deadlines. Idempotent: a
    warning is a notice with a unique key, a breach is claimed by an UPDATE guarded on its NULL
    timestamp, so two ticks (or two workers) act once."""
    now = now or timezone.now()
    counts = {"warnings": 0, "escalations": 0}
    horizon = now + dt.timedelta(days=3)
    open_q = Complaint.objects.exclude(status=ComplaintStatus.RESOLVED).select_related("customer", "handler")
    for complaint in open_q.filter(status=ComplaintStatus.OPEN, respond_by__gt=now, respond_by__lte=horizon)[
        :CHECK_BATCH
    ]:
        if now >= _warn_at(complaint.received_at, complaint.respond_by):
            counts["warnings"] += _warn(complaint, NoticeKind.RESPONSE_WARNING, complaint.respond_by)
    for complaint in open_q.filter(resolve_by__gt=now, resolve_by__lte=horizon)[:CHECK_BATCH]:
        if now >= _warn_at(complaint.acknowledged_at or complaint.received_at, complaint.resolve_by):
            counts["warnings"] += _warn(complaint, NoticeKind.RESOLUTION_WARNING, complaint.resolve_by)
    breaches = [
        (
            EscalationReason.RESPONSE_OVERDUE,
            "response_breach_at",
            open_q.filter(status=ComplaintStatus.OPEN, respond_by__lte=now),
        ),
        (EscalationReason.RESOLUTION_OVERDUE, "resolution_breach_at", open_q.filter(resolve_by__lte=now)),
    ]
    for reason, marker, qs in breaches:
        for pk in (
            qs.filter(**{f"{marker}__isnull": True}).order_by("id").values_list("pk", flat=True)[:CHECK_BATCH]
        ):
            with transaction.atomic():
                claimed = (
                    Complaint.objects.filter(pk=pk, **{f"{marker}__isnull": True})
                    .exclude(status=ComplaintStatus.RESOLVED)
                    .update(**{marker: now})
                )
                if claimed != 1:
                    continue
                complaint = _locked(Complaint(pk=pk))
                _escalate(complaint, reason, actor=None, source=Source.JOB, note="")
                counts["escalations"] += 1
    return counts


def _warn(complaint: Complaint, kind: str, deadline: dt.datetime) -> int:
    user = complaint.handler
    with translation.override(user.language or "zh-hans"):
        label = str(NoticeKind(kind).label)
        subject = f"{label}: {complaint.customer} · {complaint.summary}"
        body = "\n".join(
            [
                f"{L['customer']}: {complaint.customer}",
                f"{L['summary']}: {complaint.summary}",
                f"{L['deadline']}: {timezone.localtime(deadline):%Y-%m-%d %H:%M}",
                "",
                _url(complaint),
            ]
        )
    with transaction.atomic():
        created = escalation.notice_create(
            user=user,
            kind=kind,
            key=f"complaint:{complaint.pk}:{kind}:{int(deadline.timestamp())}",
            subject=subject,
            body=body,
            complaint=complaint,
        )
    return 1 if created else 0
