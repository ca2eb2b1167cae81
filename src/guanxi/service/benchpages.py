"""Timed pages of the service package for ``make bench``: the complaint and promise dashboards (HTML
and API, salesperson and manager), the survey results and the objection analysis.

The generated data has no complaints, promises, objections or survey answers; the first call adds a
realistic volume — complaints on 3 % of customers over two years (about one in six still open, a
few escalated), promises on 5 % (most closed, some kept late or broken), objections on 3 %, survey
answers from 2 % — with bulk inserts, once (idempotent with ``--keep``).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.bench.measure import Page
from guanxi.customers.models import Customer
from guanxi.service.models import (
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    Judgement,
    Objection,
    ObjectionCategory,
    ObjectionOutcome,
    Promise,
    PromiseStatus,
    Severity,
    SurveyInvitation,
    SurveyResponse,
    SurveyTemplate,
)
from guanxi.service.policy import policy

BATCH = 2000
WORDS = ["价格太高了", "款式有点旧", "交货太慢", "要和老板商量", "别家更便宜", "现在不需要", "质量不稳定"]


def _ensure_data(rng: random.Random, sales: User) -> None:
    if Complaint.objects.exists():
        return
    now = timezone.now()
    today = timezone.localdate()
    rows = list(Customer.objects.values_list("id", "owner_id", "relationship_type", "status").order_by("id"))
    if not rows:
        return
    mine = [r for r in rows if r[1] == sales.pk]
    pol = policy()
    with transaction.atomic():
        complaints = []
        for cid, owner, rel, status in rng.sample(rows, max(1, len(rows) * 3 // 100)) + mine[:60]:
            severity = rng.choice(Severity.values)
            received = now - dt.timedelta(hours=rng.uniform(1, 2 * 365 * 24))
            respond_h, resolve_h = pol.hours(Customer(relationship_type=rel, status=status), severity)
            is_open = rng.random() < 0.16 or received > now - dt.timedelta(days=3)
            ack = received + dt.timedelta(hours=rng.uniform(0.2, respond_h * 1.5))
            complaints.append(
                Complaint(
                    customer_id=cid,
                    handler_id=owner,
                    category=rng.choice(ComplaintCategory.values),
                    severity=severity,
                    summary=rng.choice(["交货延迟", "质量问题", "账单有误", "服务态度差", "承诺未兑现"]),
                    customer_words="你们上次说好的！",
                    received_at=received,
                    respond_by=received + dt.timedelta(hours=respond_h),
                    resolve_by=received + dt.timedelta(hours=resolve_h),
                    status=ComplaintStatus.ACKNOWLEDGED if is_open else ComplaintStatus.RESOLVED,
                    acknowledged_at=min(ack, now),
                    resolved_at=None
                    if is_open
                    else min(now, ack + dt.timedelta(hours=rng.uniform(1, resolve_h * 1.3))),
                    resolution="" if is_open else "已处理",
                    escalation_level=1 if rng.random() < 0.1 else 0,
                    created_by_id=owner,
                )
            )
        Complaint.objects.bulk_create(complaints, batch_size=BATCH)
        promises = []
        for cid, owner, _rel, _status in rng.sample(rows, max(1, len(rows) * 5 // 100)) + mine[:80]:
            due = today + dt.timedelta(days=rng.randint(-400, 30))
            state = (
                PromiseStatus.OPEN
                if due >= today - dt.timedelta(days=7)
                else rng.choices(
                    [
                        PromiseStatus.KEPT,
                        PromiseStatus.KEPT_LATE,
                        PromiseStatus.BROKEN,
                        PromiseStatus.WITHDRAWN,
                    ],
                    [70, 15, 10, 5],
                )[0]
            )
            kept = {PromiseStatus.KEPT: due, PromiseStatus.KEPT_LATE: due + dt.timedelta(days=3)}.get(state)
            promises.append(
                Promise(
                    customer_id=cid,
                    promised_by_id=owner,
                    what=rng.choice(["寄送样品", "重新报价", "安排技术上门", "补发配件", "提供资质证书"]),
                    due_on=due,
                    status=state,
                    kept_on=kept,
                    created_by_id=owner,
                )
            )
        Promise.objects.bulk_create(promises, batch_size=BATCH)
        objections = [
            Objection(
                customer_id=cid,
                raised_by_id=owner,
                category=rng.choice(ObjectionCategory.values),
                customer_words=rng.choice(WORDS),
                judgement=rng.choice(Judgement.values),
                response=rng.choice(["", "说明价值与售后", "提供分期", "安排试用"]),
                outcome=rng.choice(ObjectionOutcome.values),
                raised_on=today - dt.timedelta(days=rng.randint(0, 700)),
            )
            for cid, owner, _rel, _status in rng.sample(rows, max(1, len(rows) * 3 // 100))
        ]
        Objection.objects.bulk_create(objections, batch_size=BATCH)
        template = SurveyTemplate.objects.filter(for_complaints=False).order_by("id").first()
        if template is None:
            return
        answered = rng.sample(rows, max(1, len(rows) * 2 // 100))
        invitations = [
            SurveyInvitation(
                template=template,
                customer_id=cid,
                token_hash=SurveyInvitation.hash_token(SurveyInvitation.new_token()),
                channel="link",
                expires_at=now,
                answered_at=now - dt.timedelta(days=rng.randint(0, 700)),
                created_by_id=owner,
            )
            for cid, owner, _rel, _status in answered
        ]
        SurveyInvitation.objects.bulk_create(invitations, batch_size=BATCH)
        saved = SurveyInvitation.objects.filter(answered_at__isnull=False).values_list(
            "id", "customer_id", "answered_at"
        )
        SurveyResponse.objects.bulk_create(
            [
                SurveyResponse(
                    invitation_id=iid,
                    customer_id=cid,
                    answers={"recommend": (score := rng.choice([3, 6, 7, 8, 9, 9, 10, 10]))},
                    nps=score,
                    submitted_at=at or now,
                )
                for iid, cid, at in saved
            ],
            batch_size=BATCH,
        )


def _analyse() -> None:
    """Statistics for the new rows, as the bench's loader does for its own tables: without them SQLite
    guesses the service tables are big and walks all visible customers instead of the few complaints."""
    from django.db import connection

    with connection.cursor() as cursor:
        for model in (Complaint, Promise, Objection, SurveyInvitation, SurveyResponse):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')


def pages(*, sales: User, manager: User, rng: random.Random, n: int) -> list[Page]:
    if not Complaint.objects.exists():
        _ensure_data(rng, sales)
        _analyse()
    return [
        Page("complaints", "Complaint dashboard (salesperson)", ["/service/complaints/"] * n),
        Page(
            "complaints_mgr",
            "Complaint dashboard (manager)",
            ["/service/complaints/?view=all"] * n,
            user="manager",
        ),
        Page("complaints_api", "API: GET /api/v1/complaints", ["/api/v1/complaints?view=all"] * n),
        Page("promises", "Promise dashboard (salesperson)", ["/service/promises/"] * n),
        Page(
            "promises_mgr", "Promise dashboard (manager)", ["/service/promises/?view=all"] * n, user="manager"
        ),
        Page("promises_api", "API: GET /api/v1/promises", ["/api/v1/promises?view=all"] * n),
        Page("surveys_mgr", "Feedback results, NPS (manager)", ["/service/surveys/"] * n, user="manager"),
        Page(
            "objections_mgr",
            "Objection analysis (manager)",
            ["/service/objections/analysis/"] * n,
            user="manager",
        ),
    ]
