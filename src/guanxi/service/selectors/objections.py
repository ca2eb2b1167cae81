"""Reads of objections: lists, the analysis, and the knowledge base of answers."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from guanxi.accounts.models import User
from guanxi.core.errors import NotFound
from guanxi.core.pagination import Page, SortSpec, paginate
from guanxi.pipeline.models import StageKind
from guanxi.service.models import Judgement, Objection, ObjectionCategory, ObjectionOutcome
from guanxi.service.selectors.common import active, visible_customer_q

RAISED_SORT = SortSpec("id", descending=True, kind="int")
MAX_TERMS = 5

# How the sale ended after an objection. An objection raised in a deal that is now closed takes the
# deal's result (the pipeline knows it; the objection's own ``outcome`` is often left "pending");
# otherwise the outcome the salesperson recorded.
_DEAL_UNDECIDED = Q(opportunity__isnull=True) | Q(opportunity__status=StageKind.OPEN)
WON_Q = Q(opportunity__status=StageKind.WON) | _DEAL_UNDECIDED & Q(outcome=ObjectionOutcome.WON)
LOST_Q = Q(opportunity__status=StageKind.LOST) | _DEAL_UNDECIDED & Q(outcome=ObjectionOutcome.LOST)


def objection_queryset_for_user(user: User) -> QuerySet[Objection]:
    if not active(user):
        return Objection.objects.none()
    if user.is_admin:
        return Objection.objects.all()
    return Objection.objects.filter(
        Q(customer__isnull=False) & visible_customer_q(user) | Q(customer__isnull=True, raised_by_id=user.pk)
    )


def objection_get_for_user(*, user: User, objection_id: int) -> Objection:
    objection = (
        objection_queryset_for_user(user)
        .select_related("customer", "contact", "raised_by", "opportunity")
        .filter(pk=objection_id)
        .first()
    )
    if objection is None:
        raise NotFound("异议", "objection")
    return objection


def opportunity_objections(*, user: User, opportunity_id: int, limit: int = 100) -> list[Objection]:
    """The objections raised in one deal, oldest first (the order they came up in the sale). The
    caller has checked the deal is visible; the rule is applied again all the same."""
    return list(
        objection_queryset_for_user(user)
        .filter(opportunity_id=opportunity_id)
        .select_related("contact", "raised_by")
        .order_by("raised_on", "id")[:limit]
    )


def _search(qs: QuerySet[Objection], q: str) -> QuerySet[Objection]:
    for term in q.split()[:MAX_TERMS]:
        term = term[:50]
        qs = qs.filter(
            Q(customer_words__icontains=term) | Q(response__icontains=term) | Q(real_reason__icontains=term)
        )
    return qs


def objection_list(
    *,
    user: User,
    customer_id: int | None = None,
    opportunity_id: int | None = None,
    category: str = "",
    judgement: str = "",
    outcome: str = "",
    q: str = "",
    cursor: str | None = None,
    size: int = 50,
) -> Page[Objection]:
    qs = objection_queryset_for_user(user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if opportunity_id:
        qs = qs.filter(opportunity_id=opportunity_id)
    if category:
        qs = qs.filter(category=category)
    if judgement:
        qs = qs.filter(judgement=judgement)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if q:
        qs = _search(qs, q)
    return paginate(
        qs.select_related("customer", "contact", "raised_by", "opportunity"),
        RAISED_SORT,
        cursor=cursor,
        size=size,
    )


def objection_analysis(user: User) -> dict[str, Any]:
    """Most common objections and real reasons, the pretext rate per category, and how often each
    category ends in a sale (the deal's result when the objection was raised in a closed deal, see
    ``WON_Q``) — two GROUP BYs over the visible objections."""
    qs = objection_queryset_for_user(user)
    by_category = list(
        qs.values("category")
        .annotate(
            total=Count("id"),
            pretext=Count("id", filter=Q(judgement=Judgement.PRETEXT)),
            genuine=Count("id", filter=Q(judgement=Judgement.GENUINE)),
            won=Count("id", filter=WON_Q),
            lost=Count("id", filter=LOST_Q),
        )
        .order_by("-total", "category")
    )
    labels = {v: str(label) for v, label in ObjectionCategory.choices}
    for r in by_category:
        judged = r["pretext"] + r["genuine"]
        decided = r["won"] + r["lost"]
        r["label"] = labels.get(r["category"], r["category"])
        r["pretext_rate"] = round(100.0 * r["pretext"] / judged, 1) if judged else None
        r["win_rate"] = round(100.0 * r["won"] / decided, 1) if decided else None
    real = list(
        qs.exclude(real_category="")
        .values("category", "real_category")
        .annotate(total=Count("id"))
        .order_by("-total")[:15]
    )
    for r in real:
        r["label"] = labels.get(r["category"], r["category"])
        r["real_label"] = labels.get(r["real_category"], r["real_category"])
    return {"by_category": by_category, "real_reasons": real}


def knowledge_queryset(user: User) -> QuerySet[Objection]:
    """Answers the team may learn from: the visible objections, and those on customers of the
    user's own team (a teammate's answer is team knowledge even when the customer is not shared)."""
    if not active(user):
        return Objection.objects.none()
    qs = Objection.objects.exclude(response="")
    if user.is_admin:
        return qs
    q = Q(customer__isnull=False) & visible_customer_q(user) | Q(customer__isnull=True, raised_by_id=user.pk)
    if user.team_id:
        q |= Q(customer__team_id=user.team_id)
    return qs.filter(q)


def objection_knowledge(user: User, *, q: str = "", category: str = "", limit: int = 20) -> list[Objection]:
    """The knowledge base: responses to objections, those that preceded a sale first."""
    qs = knowledge_queryset(user)
    if category:
        qs = qs.filter(Q(category=category) | Q(real_category=category))
    if q:
        qs = _search(qs, q)
    return _ranked(qs, limit)


def _ranked(qs: QuerySet[Objection], limit: int) -> list[Objection]:
    won = list(qs.filter(WON_Q).select_related("raised_by").order_by("-raised_on", "-id")[:limit])
    if len(won) >= limit:
        return won
    rest = list(
        qs.exclude(WON_Q).select_related("raised_by").order_by("-raised_on", "-id")[: limit - len(won)]
    )
    return won + rest
