"""JSON endpoints of the service package: complaints and their steps, the promise ledger, objections
and their knowledge base, survey invitations and results. Thin: selectors read, services write."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, Id, actor
from guanxi.core.errors import NotFound
from guanxi.customers.models import Contact, Customer
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.engagement.selectors import interaction_get_for_user
from guanxi.pipeline.models import Opportunity
from guanxi.pipeline.selectors import opportunity_get_for_user
from guanxi.service import services
from guanxi.service.models import Complaint, Objection, Promise, SurveyInvitation, SurveyTemplate
from guanxi.service.selectors import complaints as complaint_sel
from guanxi.service.selectors import objections as objection_sel
from guanxi.service.selectors import promises as promise_sel
from guanxi.service.selectors import surveys as survey_sel

router = Router(tags=["service"])

Short = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Text = Annotated[str, Field(max_length=5000)]
Note = Annotated[str, Field(min_length=1, max_length=5000, pattern=r"\S")]
Cursor = Annotated[str, Field(max_length=500)]
Limit = Annotated[int, Field(ge=1, le=200)]
SeverityIn = Literal["low", "medium", "high", "critical"]
CategoryIn = Literal["quality", "delivery", "service", "billing", "communication", "promise", "other"]
ChannelIn = Literal["visit", "phone", "email", "wechat", "sms", "fax", "video", "event"]
ObjectionCategoryIn = Literal[
    "price", "quality", "style", "timing", "competitor", "authority", "need", "service", "other"
]
JudgementIn = Literal["genuine", "pretext", "unsure"]
OutcomeIn = Literal["pending", "won", "lost", "deferred"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class Ref(Schema):
    id: int
    name: str


def _ref(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": str(obj)} if obj is not None else None


def _opportunity(user: User, opportunity_id: int | None) -> Opportunity | None:
    """The deal named in the payload; 404 when the user may not see it (the pipeline's rule)."""
    return opportunity_get_for_user(user=user, opportunity_id=opportunity_id) if opportunity_id else None


def _contact(user: User, customer: Customer | None, contact_id: int | None) -> Contact | None:
    if not contact_id:
        return None
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    return contact


# --- Complaints ----------------------------------------------------------------------------------


class ComplaintIn(Strict):
    customer_id: Id
    summary: Short
    category: CategoryIn
    severity: SeverityIn = "medium"
    channel: ChannelIn = "phone"
    contact_id: Id | None = None
    customer_words: Text = ""
    listening_notes: Text = ""
    customer_wants: Text = ""
    received_at: dt.datetime | None = None
    beyond_authority: bool = False


class ComplaintPatch(Strict):
    summary: Short | None = None
    category: CategoryIn | None = None
    severity: SeverityIn | None = None
    channel: ChannelIn | None = None
    contact_id: Id | None = None
    customer_words: Text | None = None
    listening_notes: Text | None = None
    customer_wants: Text | None = None


class StepOut(Schema):
    at: dt.datetime
    action: str
    label: str
    actor: Ref | None
    note: str | None
    changes: dict[str, Any]


class ComplaintOut(Schema):
    id: int
    customer: Ref
    contact: Ref | None
    channel: str
    category: str
    severity: str
    summary: str
    customer_words: str
    listening_notes: str
    customer_wants: str
    status: str
    handler: Ref
    received_at: dt.datetime
    respond_by: dt.datetime
    resolve_by: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    response_overdue: bool
    resolution_overdue: bool
    resolution: str
    beyond_authority: bool
    escalated_to: Ref | None
    escalation_level: int
    escalation_reason: str
    satisfaction: str
    satisfaction_note: str


class ComplaintDetailOut(ComplaintOut):
    steps: list[StepOut]


class ComplaintPage(Schema):
    items: list[ComplaintOut]
    next_cursor: str | None


def complaint_out(c: Complaint, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "id": c.pk,
        "customer": _ref(c.customer),
        "contact": _ref(c.contact) if c.contact_id else None,
        "channel": c.channel,
        "category": c.category,
        "severity": c.severity,
        "summary": c.summary,
        "customer_words": c.customer_words,
        "listening_notes": c.listening_notes,
        "customer_wants": c.customer_wants,
        "status": c.status,
        "handler": _ref(c.handler),
        "received_at": c.received_at,
        "respond_by": c.respond_by,
        "resolve_by": c.resolve_by,
        "acknowledged_at": c.acknowledged_at,
        "resolved_at": c.resolved_at,
        "response_overdue": c.status == "open" and c.respond_by <= now,
        "resolution_overdue": c.is_open and c.resolve_by <= now,
        "resolution": c.resolution,
        "beyond_authority": c.beyond_authority,
        "escalated_to": _ref(c.escalated_to) if c.escalated_to_id else None,
        "escalation_level": c.escalation_level,
        "escalation_reason": c.escalation_reason,
        "satisfaction": c.satisfaction,
        "satisfaction_note": c.satisfaction_note,
    }


def _detail(user: User, complaint_id: int) -> dict[str, Any]:
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    steps = [
        {
            "at": e.created_at,
            "action": e.action,
            "label": e.action_label,
            "actor": _ref(e.actor) if e.actor_id else None,
            "note": (e.changes.get("_note") or [None, None])[1],
            "changes": {k: v for k, v in e.changes.items() if not k.startswith("_")},
        }
        for e in complaint_sel.complaint_timeline(c)
    ]
    return {**complaint_out(c), "steps": steps}


@router.get("/complaints", response={200: ComplaintPage, **ERRORS}, summary="Complaints you can see")
def list_complaints(
    request: HttpRequest,
    view: Literal["open", "overdue", "escalated", "mine", "resolved", "all"] = "open",
    customer_id: Id | None = None,
    category: CategoryIn | None = None,
    severity: SeverityIn | None = None,
    cursor: Cursor | None = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    page = complaint_sel.complaint_list(
        user=actor(request),
        view=view,
        customer_id=customer_id,
        category=category or "",
        severity=severity or "",
        cursor=cursor,
        size=limit,
    )
    now = timezone.now()
    return {"items": [complaint_out(c, now) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/complaints", response={201: ComplaintDetailOut, **ERRORS}, summary="Log a complaint")
def create_complaint(request: HttpRequest, payload: ComplaintIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    data = payload.model_dump(exclude={"customer_id", "contact_id"})
    c = services.complaint_create(
        actor=user,
        source=Source.API,
        customer=customer,
        contact=_contact(user, customer, payload.contact_id),
        **data,
    )
    return Status(201, _detail(user, c.pk))


@router.get(
    "/complaints/stats", response={200: list[dict[str, Any]], **ERRORS}, summary="Complaint statistics"
)
def complaint_stats(
    request: HttpRequest,
    group: Literal["category", "handler", "team", "customer", "severity"] = "category",
    since: dt.date | None = None,
) -> list[dict[str, Any]]:
    start = dt.datetime.combine(since, dt.time(), tzinfo=timezone.get_current_timezone()) if since else None
    return complaint_sel.complaint_stats(actor(request), group=group, since=start)


@router.get(
    "/complaints/{complaint_id}", response={200: ComplaintDetailOut, **ERRORS}, summary="One complaint"
)
def get_complaint(request: HttpRequest, complaint_id: Id) -> dict[str, Any]:
    return _detail(actor(request), complaint_id)


@router.patch(
    "/complaints/{complaint_id}", response={200: ComplaintDetailOut, **ERRORS}, summary="Edit a complaint"
)
def update_complaint(request: HttpRequest, complaint_id: Id, payload: ComplaintPatch) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    data = payload.model_dump(exclude_unset=True)
    if "contact_id" in data:
        data["contact"] = _contact(user, c.customer, data.pop("contact_id"))
    services.complaint_update(actor=user, source=Source.API, complaint=c, **data)
    return _detail(user, c.pk)


class NoteIn(Strict):
    note: Text = ""


class RequiredNoteIn(Strict):
    note: Note


class ResolveIn(Strict):
    resolution: Note


class ReopenIn(Strict):
    reason: Note


class SatisfactionIn(Strict):
    satisfaction: Literal["1", "2", "3", "4", "5"]
    note: Text = ""


@router.post(
    "/complaints/{complaint_id}/acknowledge",
    response={200: ComplaintDetailOut, **ERRORS},
    summary="First response",
)
def acknowledge_complaint(request: HttpRequest, complaint_id: Id, payload: NoteIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_acknowledge(actor=user, source=Source.API, complaint=c, note=payload.note)
    return _detail(user, c.pk)


@router.post(
    "/complaints/{complaint_id}/actions",
    response={200: ComplaintDetailOut, **ERRORS},
    summary="Record an action taken",
)
def complaint_action(request: HttpRequest, complaint_id: Id, payload: RequiredNoteIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_add_action(actor=user, source=Source.API, complaint=c, note=payload.note)
    return _detail(user, c.pk)


@router.post(
    "/complaints/{complaint_id}/escalate",
    response={200: ComplaintDetailOut, **ERRORS},
    summary="Beyond my authority: escalate to the next manager up now",
)
def escalate_complaint(request: HttpRequest, complaint_id: Id, payload: NoteIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_escalate(actor=user, source=Source.API, complaint=c, note=payload.note)
    return _detail(user, c.pk)


@router.post(
    "/complaints/{complaint_id}/resolve", response={200: ComplaintDetailOut, **ERRORS}, summary="Resolve"
)
def resolve_complaint(request: HttpRequest, complaint_id: Id, payload: ResolveIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_resolve(actor=user, source=Source.API, complaint=c, resolution=payload.resolution)
    return _detail(user, c.pk)


@router.post(
    "/complaints/{complaint_id}/reopen", response={200: ComplaintDetailOut, **ERRORS}, summary="Reopen"
)
def reopen_complaint(request: HttpRequest, complaint_id: Id, payload: ReopenIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_reopen(actor=user, source=Source.API, complaint=c, reason=payload.reason)
    return _detail(user, c.pk)


@router.post(
    "/complaints/{complaint_id}/satisfaction",
    response={200: ComplaintDetailOut, **ERRORS},
    summary="Log the satisfaction check after resolution",
)
def complaint_satisfaction(request: HttpRequest, complaint_id: Id, payload: SatisfactionIn) -> dict[str, Any]:
    user = actor(request)
    c = complaint_sel.complaint_get_for_user(user=user, complaint_id=complaint_id)
    services.complaint_record_satisfaction(
        actor=user, source=Source.API, complaint=c, satisfaction=payload.satisfaction, note=payload.note
    )
    return _detail(user, c.pk)


# --- Promises ------------------------------------------------------------------------------------


class PromiseIn(Strict):
    customer_id: Id
    what: Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")]
    due_on: dt.date
    contact_id: Id | None = None
    interaction_id: Id | None = None
    opportunity_id: Id | None = None
    details: Text = ""


class PromisePatch(Strict):
    what: Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")] | None = None
    due_on: dt.date | None = None
    details: Text | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None


class PromiseCloseIn(Strict):
    outcome: Literal["kept", "broken", "withdrawn"]
    kept_on: dt.date | None = None
    reason: Annotated[str, Field(max_length=2000)] = ""


class PromiseOut(Schema):
    id: int
    customer: Ref
    contact: Ref | None
    interaction_id: int | None
    opportunity: Ref | None
    what: str
    details: str
    promised_by: Ref
    due_on: dt.date
    overdue: bool
    status: str
    kept_on: dt.date | None
    reason: str


class PromisePage(Schema):
    items: list[PromiseOut]
    next_cursor: str | None


def promise_out(p: Promise, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": p.pk,
        "customer": _ref(p.customer),
        "contact": _ref(p.contact) if p.contact_id else None,
        "interaction_id": p.interaction_id,
        "opportunity": _ref(p.opportunity) if p.opportunity_id else None,
        "what": p.what,
        "details": p.details,
        "promised_by": _ref(p.promised_by),
        "due_on": p.due_on,
        "overdue": p.status == "open" and p.due_on < today,
        "status": p.status,
        "kept_on": p.kept_on,
        "reason": p.reason,
    }


@router.get("/promises", response={200: PromisePage, **ERRORS}, summary="The promise ledger you can see")
def list_promises(
    request: HttpRequest,
    view: Literal["open", "overdue", "due_soon", "mine", "closed", "all"] = "open",
    customer_id: Id | None = None,
    cursor: Cursor | None = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    page = promise_sel.promise_list(
        user=actor(request), view=view, customer_id=customer_id, cursor=cursor, size=limit
    )
    return {"items": [promise_out(p) for p in page.items], "next_cursor": page.next_cursor}


@router.post("/promises", response={201: PromiseOut, **ERRORS}, summary="Record a promise to a customer")
def create_promise(request: HttpRequest, payload: PromiseIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    interaction = (
        interaction_get_for_user(user=user, interaction_id=payload.interaction_id)
        if payload.interaction_id
        else None
    )
    p = services.promise_create(
        actor=user,
        source=Source.API,
        customer=customer,
        contact=_contact(user, customer, payload.contact_id),
        interaction=interaction,
        opportunity=_opportunity(user, payload.opportunity_id),
        what=payload.what,
        due_on=payload.due_on,
        details=payload.details,
    )
    return Status(201, promise_out(promise_sel.promise_get_for_user(user=user, promise_id=p.pk)))


@router.get("/promises/rates", response={200: list[dict[str, Any]], **ERRORS}, summary="Kept-on-time rates")
def promise_rates(
    request: HttpRequest, group: Literal["promised_by", "customer", "team"] = "promised_by"
) -> list[dict[str, Any]]:
    return promise_sel.promise_rates(actor(request), group=group)


@router.get(
    "/promises/overpromising",
    response={200: list[dict[str, Any]], **ERRORS},
    summary="Salespeople with many open promises due soon",
)
def promise_overpromising(request: HttpRequest) -> list[dict[str, Any]]:
    return promise_sel.overpromising(actor(request))


@router.get("/promises/{promise_id}", response={200: PromiseOut, **ERRORS}, summary="One promise")
def get_promise(request: HttpRequest, promise_id: Id) -> dict[str, Any]:
    return promise_out(promise_sel.promise_get_for_user(user=actor(request), promise_id=promise_id))


@router.patch("/promises/{promise_id}", response={200: PromiseOut, **ERRORS}, summary="Edit an open promise")
def update_promise(request: HttpRequest, promise_id: Id, payload: PromisePatch) -> dict[str, Any]:
    user = actor(request)
    p = promise_sel.promise_get_for_user(user=user, promise_id=promise_id)
    data = payload.model_dump(exclude_unset=True)
    if "contact_id" in data:
        data["contact"] = _contact(user, p.customer, data.pop("contact_id"))
    if "opportunity_id" in data:
        data["opportunity"] = _opportunity(user, data.pop("opportunity_id"))
    services.promise_update(actor=user, source=Source.API, promise=p, **data)
    return promise_out(promise_sel.promise_get_for_user(user=user, promise_id=p.pk))


@router.post(
    "/promises/{promise_id}/close",
    response={200: PromiseOut, **ERRORS},
    summary="Kept (late when after the due date), broken or withdrawn",
)
def close_promise(request: HttpRequest, promise_id: Id, payload: PromiseCloseIn) -> dict[str, Any]:
    user = actor(request)
    p = promise_sel.promise_get_for_user(user=user, promise_id=promise_id)
    services.promise_close(
        actor=user,
        source=Source.API,
        promise=p,
        outcome=payload.outcome,
        kept_on=payload.kept_on,
        reason=payload.reason,
    )
    return promise_out(promise_sel.promise_get_for_user(user=user, promise_id=p.pk))


# --- Objections ----------------------------------------------------------------------------------

Words = Annotated[str, Field(max_length=2000)]


class ObjectionIn(Strict):
    customer_id: Id | None = None
    contact_id: Id | None = None
    opportunity_id: Id | None = None
    category: ObjectionCategoryIn
    customer_words: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]
    judgement: JudgementIn = "unsure"
    direct_questions: Words = ""
    indirect_questions: Words = ""
    real_reason: Words = ""
    real_category: ObjectionCategoryIn | Literal[""] = ""
    response: Text = ""
    outcome: OutcomeIn = "pending"
    raised_on: dt.date | None = None


class ObjectionPatch(Strict):
    category: ObjectionCategoryIn | None = None
    customer_words: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")] | None = None
    judgement: JudgementIn | None = None
    direct_questions: Words | None = None
    indirect_questions: Words | None = None
    real_reason: Words | None = None
    real_category: ObjectionCategoryIn | Literal[""] | None = None
    response: Text | None = None
    outcome: OutcomeIn | None = None
    raised_on: dt.date | None = None
    opportunity_id: Id | None = Field(None, description="the deal it was raised in; null unlinks it")


class ObjectionOut(Schema):
    id: int
    customer: Ref | None
    contact: Ref | None
    opportunity: Ref | None
    category: str
    customer_words: str
    judgement: str
    direct_questions: str
    indirect_questions: str
    real_reason: str
    real_category: str
    response: str
    outcome: str
    raised_on: dt.date
    raised_by: Ref


class ObjectionPage(Schema):
    items: list[ObjectionOut]
    next_cursor: str | None


class KnowledgeOut(Schema):
    id: int
    category: str
    customer_words: str
    judgement: str
    real_reason: str
    response: str
    outcome: str
    raised_on: dt.date
    raised_by: Ref


def objection_out(o: Objection) -> dict[str, Any]:
    return {
        "id": o.pk,
        "customer": _ref(o.customer) if o.customer_id else None,
        "contact": _ref(o.contact) if o.contact_id else None,
        "opportunity": _ref(o.opportunity) if o.opportunity_id else None,
        "category": o.category,
        "customer_words": o.customer_words,
        "judgement": o.judgement,
        "direct_questions": o.direct_questions,
        "indirect_questions": o.indirect_questions,
        "real_reason": o.real_reason,
        "real_category": o.real_category,
        "response": o.response,
        "outcome": o.outcome,
        "raised_on": o.raised_on,
        "raised_by": _ref(o.raised_by),
    }


@router.get("/objections", response={200: ObjectionPage, **ERRORS}, summary="Objections you can see")
def list_objections(
    request: HttpRequest,
    customer_id: Id | None = None,
    opportunity_id: Id | None = None,
    category: ObjectionCategoryIn | None = None,
    judgement: JudgementIn | None = None,
    outcome: OutcomeIn | None = None,
    q: Annotated[str, Field(max_length=100)] = "",
    cursor: Cursor | None = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    page = objection_sel.objection_list(
        user=actor(request),
        customer_id=customer_id,
        opportunity_id=opportunity_id,
        category=category or "",
        judgement=judgement or "",
        outcome=outcome or "",
        q=q,
        cursor=cursor,
        size=limit,
    )
    return {"items": [objection_out(o) for o in page.items], "next_cursor": page.next_cursor}


@router.post("/objections", response={201: ObjectionOut, **ERRORS}, summary="Log an objection")
def create_objection(request: HttpRequest, payload: ObjectionIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = (
        customer_get_for_user(user=user, customer_id=payload.customer_id) if payload.customer_id else None
    )
    data = payload.model_dump(exclude={"customer_id", "contact_id", "opportunity_id"})
    o = services.objection_create(
        actor=user,
        source=Source.API,
        customer=customer,
        contact=_contact(user, customer, payload.contact_id),
        opportunity=_opportunity(user, payload.opportunity_id),
        **data,
    )
    return Status(201, objection_out(objection_sel.objection_get_for_user(user=user, objection_id=o.pk)))


@router.get("/objections/analysis", response={200: dict[str, Any], **ERRORS}, summary="Objection analysis")
def objection_analysis(request: HttpRequest) -> dict[str, Any]:
    return objection_sel.objection_analysis(actor(request))


@router.get(
    "/objections/knowledge",
    response={200: list[KnowledgeOut], **ERRORS},
    summary="Search the answers knowledge base",
)
def objection_knowledge(
    request: HttpRequest,
    q: Annotated[str, Field(max_length=100)] = "",
    category: ObjectionCategoryIn | None = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    items = objection_sel.objection_knowledge(actor(request), q=q, category=category or "", limit=limit)
    return [
        {
            "id": o.pk,
            "category": o.category,
            "customer_words": o.customer_words,
            "judgement": o.judgement,
            "real_reason": o.real_reason,
            "response": o.response,
            "outcome": o.outcome,
            "raised_on": o.raised_on,
            "raised_by": _ref(o.raised_by),
        }
        for o in items
    ]


@router.get("/objections/{objection_id}", response={200: ObjectionOut, **ERRORS}, summary="One objection")
def get_objection(request: HttpRequest, objection_id: Id) -> dict[str, Any]:
    return objection_out(objection_sel.objection_get_for_user(user=actor(request), objection_id=objection_id))


@router.patch(
    "/objections/{objection_id}", response={200: ObjectionOut, **ERRORS}, summary="Update an objection"
)
def update_objection(request: HttpRequest, objection_id: Id, payload: ObjectionPatch) -> dict[str, Any]:
    user = actor(request)
    o = objection_sel.objection_get_for_user(user=user, objection_id=objection_id)
    data = payload.model_dump(exclude_unset=True)
    if "opportunity_id" in data:
        data["opportunity"] = _opportunity(user, data.pop("opportunity_id"))
    services.objection_update(actor=user, source=Source.API, objection=o, **data)
    return objection_out(objection_sel.objection_get_for_user(user=user, objection_id=o.pk))


# --- Surveys -------------------------------------------------------------------------------------


class TemplateOut(Schema):
    id: int
    name: str
    for_complaints: bool
    questions: list[dict[str, Any]]


class InvitationIn(Strict):
    customer_id: Id
    channel: Literal["email", "link"]
    template_id: Id | None = None
    contact_id: Id | None = None
    complaint_id: Id | None = None
    to_address: Annotated[str, Field(max_length=254)] = ""
    valid_days: Annotated[int, Field(ge=1, le=180)] = 30


class InvitationOut(Schema):
    id: int
    customer: Ref
    contact: Ref | None
    complaint_id: int | None
    template: Ref
    channel: str
    to_address: str
    email_status: str
    created_at: dt.datetime
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InvitationCreated(InvitationOut):
    link: str | None = Field(
        None, description="The survey link: returned once, never stored (link channel only)"
    )


def invitation_out(i: SurveyInvitation) -> dict[str, Any]:
    return {
        "id": i.pk,
        "customer": _ref(i.customer),
        "contact": _ref(i.contact) if i.contact_id else None,
        "complaint_id": i.complaint_id,
        "template": _ref(i.template),
        "channel": i.channel,
        "to_address": i.to_address,
        "email_status": i.email_status,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "answered_at": i.answered_at,
        "revoked_at": i.revoked_at,
    }


@router.get("/surveys/templates", response={200: list[TemplateOut], **ERRORS}, summary="Survey templates")
def list_templates(request: HttpRequest) -> list[SurveyTemplate]:
    actor(request)
    return survey_sel.template_list()


@router.post(
    "/surveys/invitations",
    response={201: InvitationCreated, **ERRORS},
    summary="Invite a customer to answer a survey (e-mail, or a link returned once)",
)
def create_invitation(request: HttpRequest, payload: InvitationIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    complaint = (
        complaint_sel.complaint_get_for_user(user=user, complaint_id=payload.complaint_id)
        if payload.complaint_id
        else None
    )
    template = None
    if payload.template_id:
        template = SurveyTemplate.objects.filter(pk=payload.template_id, active=True).first()
        if template is None:
            raise NotFound("问卷模板", "survey template")
    invitation, link = services.survey_invitation_create(
        actor=user,
        source=Source.API,
        customer=customer,
        channel=payload.channel,
        template=template,
        contact=_contact(user, customer, payload.contact_id),
        complaint=complaint,
        to_address=payload.to_address,
        valid_days=payload.valid_days,
    )
    out = invitation_out(survey_sel.invitation_get_for_user(user=user, invitation_id=invitation.pk))
    return Status(201, {**out, "link": link})


@router.get(
    "/surveys/invitations", response={200: list[InvitationOut], **ERRORS}, summary="Survey invitations"
)
def list_invitations(
    request: HttpRequest, customer_id: Id | None = None, limit: Limit = 50
) -> list[dict[str, Any]]:
    qs = survey_sel.invitation_queryset_for_user(actor(request)).select_related(
        "customer", "contact", "template"
    )
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return [invitation_out(i) for i in qs.order_by("-created_at", "-id")[:limit]]


@router.post(
    "/surveys/invitations/{invitation_id}/revoke",
    response={200: InvitationOut, **ERRORS},
    summary="Revoke a link",
)
def revoke_invitation(request: HttpRequest, invitation_id: Id) -> dict[str, Any]:
    user = actor(request)
    invitation = survey_sel.invitation_get_for_user(user=user, invitation_id=invitation_id)
    services.survey_invitation_revoke(actor=user, source=Source.API, invitation=invitation)
    return invitation_out(survey_sel.invitation_get_for_user(user=user, invitation_id=invitation_id))


@router.get("/surveys/results", response={200: dict[str, Any], **ERRORS}, summary="NPS and results")
def survey_results(
    request: HttpRequest,
    customer_id: Id | None = None,
    segment: Literal["relationship_type", "status", "industry", "province"] = "relationship_type",
    months: Annotated[int, Field(ge=1, le=60)] = 12,
) -> dict[str, Any]:
    user = actor(request)
    if customer_id:
        customer_get_for_user(user=user, customer_id=customer_id)
    return survey_sel.survey_results(user, customer_id=customer_id, segment=segment, months=months)
