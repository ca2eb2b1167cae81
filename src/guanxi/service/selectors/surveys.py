"""Reads of surveys: invitations a user may see, the public token lookup, NPS and results."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.service.models import SurveyInvitation, SurveyResponse, SurveyTemplate
from guanxi.service.selectors.common import active, visible_customer_q

# token_urlsafe(32) is 43 characters; anything else is not a token (and is never looked up).
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
SEGMENTS = ("relationship_type", "status", "industry", "province")


def invitation_queryset_for_user(user: User) -> QuerySet[SurveyInvitation]:
    if not active(user):
        return SurveyInvitation.objects.none()
    if user.is_admin:
        return SurveyInvitation.objects.all()
    return SurveyInvitation.objects.filter(visible_customer_q(user))


def invitation_get_for_user(*, user: User, invitation_id: int) -> SurveyInvitation:
    inv = (
        invitation_queryset_for_user(user)
        .select_related("customer", "contact", "template", "complaint")
        .filter(pk=invitation_id)
        .first()
    )
    if inv is None:
        raise NotFound("问卷", "survey")
    return inv


def invitation_for_token(raw: str, now: dt.datetime | None = None) -> SurveyInvitation | None:
    """The open invitation a public token opens, or None — the same None for a malformed, unknown,
    answered, revoked or expired token, so the public page cannot tell them apart."""
    if not isinstance(raw, str) or not TOKEN_RE.match(raw):
        return None
    digest = SurveyInvitation.hash_token(raw)
    inv = SurveyInvitation.objects.select_related("template").filter(token_hash=digest).first()
    if inv is None or not hmac.compare_digest(inv.token_hash, digest):
        return None
    now = now or timezone.now()
    if inv.answered_at is not None or inv.revoked_at is not None or inv.expires_at <= now:
        return None
    return inv


def template_list(*, active_only: bool = True) -> list[SurveyTemplate]:
    qs = SurveyTemplate.objects.order_by("id")
    return list(qs.filter(active=True) if active_only else qs)


def _nps(row: dict[str, Any]) -> dict[str, Any]:
    scored = row.get("scored") or 0
    row["nps"] = round(100.0 * (row["promoters"] - row["detractors"]) / scored, 1) if scored else None
    return row


NPS_AGG = {
    "answers": Count("id"),
    "scored": Count("id", filter=Q(nps__isnull=False)),
    "promoters": Count("id", filter=Q(nps__gte=9)),
    "detractors": Count("id", filter=Q(nps__lte=6)),
    "rating": Avg("rating"),
}


def survey_results(
    user: User, *, customer_id: int | None = None, segment: str = "relationship_type", months: int = 12
) -> dict[str, Any]:
    """NPS (promoters 9–10 minus detractors 0–6, in percent of scored answers) overall, per segment
    and per month, plus the invitations sent and answered — all GROUP BYs in the database."""
    if segment not in SEGMENTS:
        raise ValidationFailed("分组无效", "invalid segment", field="segment", code="invalid_choice")
    responses = SurveyResponse.objects.all()
    invitations = invitation_queryset_for_user(user)
    if not user.is_admin:
        responses = responses.filter(visible_customer_q(user))
    if customer_id:
        responses = responses.filter(customer_id=customer_id)
        invitations = invitations.filter(customer_id=customer_id)
    since = timezone.now() - dt.timedelta(days=31 * months)
    overall = _nps(responses.aggregate(**NPS_AGG))
    by_segment = [
        _nps(r)
        for r in responses.values(key=F(f"customer__{segment}"))
        .annotate(**NPS_AGG)
        .order_by("-answers", "key")[:20]
    ]
    from guanxi.customers.models import CustomerStatus, RelationshipType

    names = {**dict(RelationshipType.choices), **dict(CustomerStatus.choices)}
    for r in by_segment:
        r["label"] = (
            str(names.get(r["key"], r["key"]))
            if segment in ("relationship_type", "status")
            else (r["key"] or "—")
        )
    by_month = [
        _nps(r)
        for r in responses.filter(submitted_at__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(**NPS_AGG)
        .order_by("month")
    ]
    sent = invitations.aggregate(total=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)))
    return {"overall": overall, "by_segment": by_segment, "by_month": by_month, "invitations": sent}


def responses_recent(user: User, *, customer_id: int | None = None, limit: int = 20) -> list[SurveyResponse]:
    qs = SurveyResponse.objects.all()
    if not user.is_admin:
        qs = qs.filter(visible_customer_q(user))
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return list(
        qs.select_related("customer", "invitation__template", "invitation__contact").order_by(
            "-submitted_at", "-id"
        )[:limit]
    )


def questions_with_answers(response: SurveyResponse) -> list[dict[str, Any]]:
    from django.utils.translation import get_language

    en = (get_language() or "").startswith("en")
    return [
        {
            "text": q.get("en") if en and q.get("en") else q.get("zh", q["key"]),
            "answer": response.answers.get(q["key"]),
        }
        for q in response.invitation.template.questions
    ]
