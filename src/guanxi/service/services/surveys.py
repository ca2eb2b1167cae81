"""Feedback surveys: invitations with a per-recipient secret token, e-mail delivery, answers.

The raw token exists only in the creator's response (a copyable link) or in the e-mail; the database
keeps its SHA-256. An e-mail invitation's token is minted when the e-mail is sent (after commit, by
the job that claims it), so nothing stored — not even a job's arguments — can rebuild a link.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import Conflict, NotFound, require
from guanxi.customers.models import Contact, Customer
from guanxi.service.models import (
    Complaint,
    ComplaintStatus,
    EmailStatus,
    InvitationChannel,
    QuestionKind,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
)
from guanxi.service.services import common

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 2000
DEFAULT_VALID_DAYS = 30
MAX_VALID_DAYS = 180


def survey_url(raw_token: str) -> str:
    base = getattr(settings, "GUANXI_PUBLIC_URL", "").rstrip("/")
    return f"{base}{reverse('survey_public', args=[raw_token])}"


def _default_template(complaint: Complaint | None) -> SurveyTemplate:
    qs = SurveyTemplate.objects.filter(active=True).order_by("id")
    template = (qs.filter(for_complaints=True).first() if complaint is not None else None) or qs.filter(
        for_complaints=False
    ).first()
    if template is None:
        raise NotFound("问卷模板", "survey template")
    return template


@transaction.atomic
def survey_invitation_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    channel: str,
    template: SurveyTemplate | None = None,
    contact: Contact | None = None,
    complaint: Complaint | None = None,
    to_address: str = "",
    valid_days: int = DEFAULT_VALID_DAYS,
) -> tuple[SurveyInvitation, str | None]:
    """Create one recipient's invitation. Returns it and, for a copyable link, the raw link (shown
    once); an e-mail invitation is sent after commit and its token never leaves the e-mail."""
    common.check_customer(actor, customer)
    common.check_contact(customer, contact)
    common.choice(channel, InvitationChannel, "channel", "方式")
    require(
        isinstance(valid_days, int) and 1 <= valid_days <= MAX_VALID_DAYS,
        f"有效期为1–{MAX_VALID_DAYS}天",
        f"valid_days must be 1–{MAX_VALID_DAYS}",
        field="valid_days",
    )
    if complaint is not None:
        complaint = Complaint.objects.get(pk=complaint.pk)  # its current state, not the caller's copy
        require(
            complaint.customer_id == customer.pk,
            "投诉不属于该客户",
            "complaint belongs to another customer",
            field="complaint_id",
        )
        require(
            complaint.status == ComplaintStatus.RESOLVED,
            "投诉解决后才能回访满意度",
            "satisfaction is checked after the complaint is resolved",
            field="complaint_id",
            code="not_resolved",
        )
    template = template or _default_template(complaint)
    require(template.active, "问卷模板已停用", "the survey template is inactive", field="template_id")
    to_address = common.text(to_address, "to_address", label_zh="收件邮箱", max_length=254)
    if channel == InvitationChannel.EMAIL:
        if not to_address and contact is not None:
            to_address = contact.points.filter(kind="email").values_list("raw", flat=True).first() or ""
        if not to_address:
            to_address = customer.email
        from django.core.validators import validate_email

        require(bool(to_address), "请填写收件邮箱", "to_address is required for e-mail", field="to_address")
        try:
            validate_email(to_address)
        except Exception:
            require(False, "邮箱格式无效", "to_address is not a valid e-mail address", field="to_address")
    raw = SurveyInvitation.new_token()
    invitation = SurveyInvitation.objects.create(
        template=template,
        customer=customer,
        contact=contact,
        complaint=complaint,
        token_hash=SurveyInvitation.hash_token(raw),
        channel=channel,
        to_address=to_address if channel == InvitationChannel.EMAIL else "",
        language=(contact.language or "zh-hans") if contact is not None else "zh-hans",
        email_status=EmailStatus.QUEUED if channel == InvitationChannel.EMAIL else EmailStatus.NONE,
        expires_at=timezone.now() + dt.timedelta(days=valid_days),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        source=source,
        action="survey.invite",
        obj=invitation,
        customer_id=customer.pk,
        changes={"channel": [None, channel], "template": [None, {"id": template.pk, "repr": template.name}]},
    )
    if channel == InvitationChannel.EMAIL:
        from guanxi.service.tasks import send_survey_invitation

        transaction.on_commit(lambda: send_survey_invitation.enqueue(invitation.pk))
        return invitation, None
    return invitation, survey_url(raw)


def survey_invitation_deliver(invitation_id: int) -> bool:
    """Send one queued survey e-mail with a freshly minted token; True when this call sent it."""
    claimed = SurveyInvitation.objects.filter(
        pk=invitation_id, email_status=EmailStatus.QUEUED, answered_at__isnull=True, revoked_at__isnull=True
    ).update(email_status=EmailStatus.SENDING)
    if claimed != 1:
        return False
    raw = SurveyInvitation.new_token()
    SurveyInvitation.objects.filter(pk=invitation_id).update(token_hash=SurveyInvitation.hash_token(raw))
    invitation = SurveyInvitation.objects.select_related("template", "contact", "created_by").get(
        pk=invitation_id
    )
    with translation.override(invitation.language):
        greeting = (
            translation.gettext("%(name)s您好：") % {"name": invitation.contact.name}
            if invitation.contact
            else translation.gettext("您好：")
        )
        body = "\n\n".join(
            [
                greeting,
                invitation.template.intro
                or translation.gettext("感谢您一直以来的支持。我们想听听您的意见，只需几分钟。"),
                survey_url(raw),
                translation.gettext("此链接仅供您本人使用，有效期至 %(date)s。")
                % {"date": f"{timezone.localtime(invitation.expires_at):%Y-%m-%d}"},
            ]
        )
        message = EmailMessage(
            subject=translation.gettext("客户反馈问卷"),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[invitation.to_address],
            reply_to=[invitation.created_by.email]
            if invitation.created_by and invitation.created_by.email
            else None,
            headers={"X-Guanxi-Survey": str(invitation.pk)},
        )
    try:
        message.send(fail_silently=False)
    except (OSError, ValueError) as exc:
        log.warning("survey invitation %s not sent: %s", invitation_id, exc)
        SurveyInvitation.objects.filter(pk=invitation_id).update(
            email_status=EmailStatus.FAILED, email_error=str(exc)[:300]
        )
        return False
    SurveyInvitation.objects.filter(pk=invitation_id).update(
        email_status=EmailStatus.SENT, sent_at=timezone.now()
    )
    return True


def survey_invitations_queued() -> list[int]:
    return list(
        SurveyInvitation.objects.filter(email_status=EmailStatus.QUEUED, answered_at__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )


@transaction.atomic
def survey_invitation_revoke(
    *, actor: User, source: Source, invitation: SurveyInvitation
) -> SurveyInvitation:
    if invitation.answered_at or invitation.revoked_at:
        raise Conflict("问卷已回答或已作废", "the survey is already answered or revoked", code="closed")
    SurveyInvitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    invitation.refresh_from_db()
    audit_record(
        actor=actor, source=source, action="survey.revoke", obj=invitation, customer_id=invitation.customer_id
    )
    return invitation


def clean_answers(template: SurveyTemplate, raw: dict[str, Any]) -> dict[str, Any]:
    """The answers the template asks for, checked: numbers in range, text within the size limit,
    required questions answered; anything the template does not ask is ignored."""
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []

    def fail(key: str, zh: str, en: str) -> None:
        errors.append({"field": key, "message_zh": zh, "message_en": en})

    for q in template.questions:
        key, kind = q["key"], q.get("kind", QuestionKind.TEXT)
        value = raw.get(key)
        value = value.strip() if isinstance(value, str) else value
        if value in (None, ""):
            if q.get("required"):
                fail(key, "请回答这个问题", "please answer this question")
            continue
        if kind in (QuestionKind.NPS, QuestionKind.RATING):
            low, high = (0, 10) if kind == QuestionKind.NPS else (1, 5)
            try:
                number = int(str(value))
            except ValueError:
                number = -1
            if not low <= number <= high:
                fail(key, f"请选择{low}–{high}之间的数字", f"choose a number from {low} to {high}")
                continue
            out[key] = number
        else:
            if not isinstance(value, str):
                fail(key, "回答格式无效", "invalid answer")
                continue
            if len(value) > MAX_ANSWER_CHARS:
                fail(
                    key,
                    f"回答不超过{MAX_ANSWER_CHARS}字",
                    f"an answer is at most {MAX_ANSWER_CHARS} characters",
                )
                continue
            out[key] = value
    if errors:
        from guanxi.core.errors import ValidationFailed

        raise ValidationFailed(
            "；".join(e["message_zh"] for e in errors),
            "; ".join(e["message_en"] for e in errors),
            field=errors[0]["field"],
            details=errors,
        )
    return out


@transaction.atomic
def survey_answer(*, invitation: SurveyInvitation, answers: dict[str, Any]) -> SurveyResponse:
    """Record the one answer of an invitation. The claim is an UPDATE guarded on "not yet answered,
    not revoked, not expired", so a token answers once even when two submissions race."""
    cleaned = clean_answers(invitation.template, answers)
    now = timezone.now()
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now)
    if claimed != 1:
        raise NotFound("问卷", "survey")
    kinds = {q["key"]: q.get("kind") for q in invitation.template.questions}
    nps = next((v for k, v in cleaned.items() if kinds.get(k) == QuestionKind.NPS), None)
    rating = next((v for k, v in cleaned.items() if kinds.get(k) == QuestionKind.RATING), None)
    response = SurveyResponse.objects.create(
        invitation=invitation,
        customer_id=invitation.customer_id,
        answers=cleaned,
        nps=nps,
        rating=rating,
        submitted_at=now,
    )
    audit_record(
        actor=None,
        source=Source.SYSTEM,
        action="survey.answer",
        obj=invitation,
        customer_id=invitation.customer_id,
        changes={"nps": [None, nps]} if nps is not None else {},
    )
    complaint = invitation.complaint
    if complaint is not None and rating is not None and complaint.status == ComplaintStatus.RESOLVED:
        from guanxi.service.services.complaints import complaint_record_satisfaction

        complaint_record_satisfaction(
            actor=None,
            source=Source.SYSTEM,
            complaint=complaint,
            satisfaction=str(rating),
            note=str(cleaned.get("comment", ""))[:2000],
        )
    return response
