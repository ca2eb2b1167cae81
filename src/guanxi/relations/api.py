"""JSON endpoints for the relationship map, decision chain, links, referrals, playbooks and profile
reviews: thin and typed; reads through the selectors (visibility), writes through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, actor
from guanxi.customers.selectors import contact_get_for_user, customer_get_for_user
from guanxi.relations import selectors, services
from guanxi.relations.approach import contact_approach
from guanxi.relations.models import PersonLink, Playbook, Referral

router = Router(tags=["relations"])

RoleLit = Literal[
    "decision_maker", "influencer", "user", "technical_evaluator", "purchaser", "gatekeeper", "sponsor"
]
StanceLit = Literal["unknown", "supporter", "neutral", "opponent"]
LinkKindLit = Literal["reports_to", "influences", "friend", "former_colleague", "family"]
RelTypeLit = Literal["upstream", "partner", "channel", "end"]
BasisLit = Literal["loyalty", "feeling", "profit", "reason"]
Note200 = Annotated[str, Field(max_length=200)]
Note500 = Annotated[str, Field(max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=5000, pattern=r"\S")]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class Ref(Schema):
    id: int
    name: str


# --- Relationship map -----------------------------------------------------------------------------


class GapOut(Schema):
    code: str
    severity: str
    message_zh: str
    message_en: str
    contact_ids: list[int]


class MapNodeOut(Schema):
    id: str
    kind: str
    ref_id: int
    name: str
    title: str
    customer_id: int | None
    customer_name: str
    roles: list[str]
    stance: str
    warmth: int
    is_key: bool
    personality: str
    last_reached_at: dt.datetime | None


class MapEdgeOut(Schema):
    source: str
    target: str
    kind: str
    strength: int
    link_id: int | None
    count: int
    last_at: dt.datetime | None


class MapOut(Schema):
    customer: Ref
    relationship_type: str
    cadence_days: int
    nodes: list[MapNodeOut]
    edges: list[MapEdgeOut]
    gaps: list[GapOut]


def gap_out(gap: selectors.Gap) -> dict[str, Any]:
    return {
        "code": gap.code,
        "severity": gap.severity,
        "message_zh": gap.message_zh,
        "message_en": gap.message_en,
        "contact_ids": list(gap.contact_ids),
    }


def map_out(m: selectors.RelationshipMap) -> dict[str, Any]:
    return {
        "customer": {"id": m.customer.pk, "name": m.customer.name},
        "relationship_type": m.customer.relationship_type,
        "cadence_days": m.cadence_days,
        "nodes": [vars(n) for n in m.nodes],
        "edges": [vars(e) for e in m.edges],
        "gaps": [gap_out(g) for g in m.gaps],
    }


@router.get(
    "/customers/{customer_id}/relationship-map",
    response={200: MapOut, **ERRORS},
    summary="Relationship map (关系图谱): people, roles, stances, links, who knows whom, and gaps",
)
def relationship_map(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    return map_out(selectors.relationship_map(user=actor(request), customer_id=customer_id))


class CustomerGapsOut(Schema):
    customer: Ref
    cadence_days: int
    gaps: list[GapOut]


@router.get(
    "/relationship-gaps",
    response={200: list[CustomerGapsOut], **ERRORS},
    summary="Gaps in the relationships of the customers you own (most recently contacted first)",
)
def relationship_gaps(
    request: HttpRequest, limit: Annotated[int, Field(ge=1, le=500)] = 100
) -> list[dict[str, Any]]:
    return [
        {
            "customer": {"id": g.customer.pk, "name": g.customer.name},
            "cadence_days": g.cadence_days,
            "gaps": [gap_out(x) for x in g.gaps],
        }
        for g in selectors.gaps_for_owner(user=actor(request), limit=limit)
    ]


# --- Decision chain and approach -------------------------------------------------------------------


class DecisionOut(Schema):
    contact: Ref
    customer_id: int
    roles: list[str]
    stance: str
    warmth: int


class DecisionPatch(Strict):
    roles: Annotated[list[RoleLit], Field(max_length=7)] | None = None
    stance: StanceLit | None = None
    warmth: Annotated[int, Field(ge=0, le=5)] | None = None


def _decision_out(contact: Any, roles: list[str], stance: str, warmth: int) -> dict[str, Any]:
    return {
        "contact": {"id": contact.pk, "name": contact.name},
        "customer_id": contact.customer_id,
        "roles": roles,
        "stance": stance,
        "warmth": warmth,
    }


@router.get(
    "/contacts/{contact_id}/decision",
    response={200: DecisionOut, **ERRORS},
    summary="A contact's decision roles (决策链), stance and warmth",
)
def get_decision(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    contact = contact_get_for_user(user=actor(request), contact_id=contact_id)
    d = selectors.decision_for_contact(contact)
    return _decision_out(contact, d.roles, d.stance, d.warmth)


@router.patch(
    "/contacts/{contact_id}/decision",
    response={200: DecisionOut, **ERRORS},
    summary="Set a contact's decision roles (replacing them), stance and/or warmth",
)
def set_decision(request: HttpRequest, contact_id: int, payload: DecisionPatch) -> dict[str, Any]:
    user = actor(request)
    contact = contact_get_for_user(user=user, contact_id=contact_id)
    roles, stance, warmth = services.contact_decision_set(
        actor=user,
        source=Source.API,
        contact=contact,
        roles=payload.roles,
        stance=payload.stance,
        warmth=payload.warmth,
    )
    return _decision_out(contact, roles, stance, warmth)


class ApproachOut(Schema):
    contact: Ref
    personality: str
    personality_label: str
    personality_advice: list[str]
    communication_style: str
    preferred_channel: str
    preferred_channel_label: str
    roles: list[str]
    role_advice: list[str]
    stance: str
    stance_advice: str
    playbook_basis: str
    playbook_summary: str
    playbook_actions: list[str]


@router.get(
    "/contacts/{contact_id}/approach",
    response={200: ApproachOut, **ERRORS},
    summary="How to approach this person: personality, channel, role and the relationship playbook",
)
def get_approach(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    contact = contact_get_for_user(user=actor(request), contact_id=contact_id)
    d = selectors.decision_for_contact(contact)
    playbook = Playbook.objects.filter(relationship_type=contact.customer.relationship_type).first()
    a = contact_approach(contact, roles=d.roles, stance=d.stance, playbook=playbook)
    return {
        "contact": {"id": contact.pk, "name": contact.name},
        "personality": contact.personality,
        "personality_label": a.personality_label,
        "personality_advice": a.personality_advice,
        "communication_style": a.communication_style,
        "preferred_channel": contact.preferred_channel,
        "preferred_channel_label": a.preferred_channel_label,
        "roles": d.roles,
        "role_advice": a.role_advice,
        "stance": d.stance,
        "stance_advice": a.stance_advice,
        "playbook_basis": a.playbook_basis,
        "playbook_summary": a.playbook_summary,
        "playbook_actions": a.playbook_actions,
    }


# --- Links between people ---------------------------------------------------------------------------


class LinkIn(Strict):
    from_contact_id: int
    to_contact_id: int
    kind: LinkKindLit
    strength: Annotated[int, Field(ge=1, le=5)] = 3
    note: Note200 = ""


class LinkPatch(Strict):
    strength: Annotated[int, Field(ge=1, le=5)] | None = None
    note: Note200 | None = None


class LinkOut(Schema):
    id: int
    kind: str
    strength: int
    note: str
    from_contact: Ref
    to_contact: Ref
    from_customer: Ref
    to_customer: Ref
    created_at: dt.datetime


def link_out(link: PersonLink) -> dict[str, Any]:
    return {
        "id": link.pk,
        "kind": link.kind,
        "strength": link.strength,
        "note": link.note,
        "from_contact": {"id": link.from_contact.pk, "name": link.from_contact.name},
        "to_contact": {"id": link.to_contact.pk, "name": link.to_contact.name},
        "from_customer": {"id": link.from_customer.pk, "name": link.from_customer.name},
        "to_customer": {"id": link.to_customer.pk, "name": link.to_customer.name},
        "created_at": link.created_at,
    }


@router.get(
    "/person-links",
    response={200: list[LinkOut], **ERRORS},
    summary="Links between people at a customer (both ends visible to you)",
)
def list_links(request: HttpRequest, customer_id: int) -> list[dict[str, Any]]:
    return [link_out(x) for x in selectors.person_link_list(user=actor(request), customer_id=customer_id)]


@router.post("/person-links", response={201: LinkOut, **ERRORS}, summary="Link two people")
def create_link(request: HttpRequest, payload: LinkIn) -> Status[dict[str, Any]]:
    user = actor(request)
    link = services.person_link_create(actor=user, source=Source.API, **payload.model_dump())
    return Status(201, link_out(selectors.person_link_get_for_user(user=user, link_id=link.pk)))


@router.get("/person-links/{link_id}", response={200: LinkOut, **ERRORS}, summary="One link")
def get_link(request: HttpRequest, link_id: int) -> dict[str, Any]:
    return link_out(selectors.person_link_get_for_user(user=actor(request), link_id=link_id))


@router.patch("/person-links/{link_id}", response={200: LinkOut, **ERRORS}, summary="Change a link")
def update_link(request: HttpRequest, link_id: int, payload: LinkPatch) -> dict[str, Any]:
    user = actor(request)
    link = selectors.person_link_get_for_user(user=user, link_id=link_id)
    services.person_link_update(
        actor=user, source=Source.API, link=link, strength=payload.strength, note=payload.note
    )
    return link_out(selectors.person_link_get_for_user(user=user, link_id=link_id))


@router.delete("/person-links/{link_id}", response={204: None, **ERRORS}, summary="Remove a link")
def delete_link(request: HttpRequest, link_id: int) -> Status[None]:
    user = actor(request)
    link = selectors.person_link_get_for_user(user=user, link_id=link_id)
    services.person_link_delete(actor=user, source=Source.API, link=link)
    return Status(204, None)


# --- Referrals --------------------------------------------------------------------------------------


class ReferralIn(Strict):
    customer_id: int
    contact_id: int | None = None
    referrer_customer_id: int | None = None
    referrer_contact_id: int | None = None
    referrer_user_id: int | None = None
    referrer_name: Annotated[str, Field(max_length=100)] = ""
    referred_on: dt.date | None = None
    note: Note500 = ""


class ReferralPatch(Strict):
    referred_on: dt.date | None = None
    note: Note500 | None = None


class ReferralOut(Schema):
    id: int
    customer: Ref
    contact: Ref | None
    referrer_kind: str
    referrer_label: str
    referrer_customer: Ref | None
    referrer_contact: Ref | None
    referrer_user: Ref | None
    referrer_name: str
    referred_on: dt.date
    note: str


def referral_out(r: Referral) -> dict[str, Any]:
    def ref(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.pk, "name": str(obj)} if obj is not None else None

    return {
        "id": r.pk,
        "customer": ref(r.customer),
        "contact": ref(r.contact),
        "referrer_kind": r.referrer_kind,
        "referrer_label": r.referrer_label,
        "referrer_customer": ref(r.referrer_customer),
        "referrer_contact": ref(r.referrer_contact),
        "referrer_user": ref(r.referrer_user),
        "referrer_name": r.referrer_name,
        "referred_on": r.referred_on,
        "note": r.note,
    }


class CustomerReferralsOut(Schema):
    referred_by: list[ReferralOut]
    referred: list[ReferralOut]


@router.get(
    "/customers/{customer_id}/referrals",
    response={200: CustomerReferralsOut, **ERRORS},
    summary="Who referred this customer, and whom it (or its people) referred",
)
def customer_referrals(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    by, made = selectors.referrals_of_customer(user=actor(request), customer_id=customer_id)
    return {"referred_by": [referral_out(r) for r in by], "referred": [referral_out(r) for r in made]}


@router.post("/referrals", response={201: ReferralOut, **ERRORS}, summary="Record a referral (转介绍)")
def create_referral(request: HttpRequest, payload: ReferralIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    referral = services.referral_create(
        actor=user, source=Source.API, customer=customer, **payload.model_dump(exclude={"customer_id"})
    )
    return Status(201, referral_out(selectors.referral_get_for_user(user=user, referral_id=referral.pk)))


@router.get("/referrals/{referral_id}", response={200: ReferralOut, **ERRORS}, summary="One referral")
def get_referral(request: HttpRequest, referral_id: int) -> dict[str, Any]:
    return referral_out(selectors.referral_get_for_user(user=actor(request), referral_id=referral_id))


@router.patch(
    "/referrals/{referral_id}",
    response={200: ReferralOut, **ERRORS},
    summary="Change a referral's date or note",
)
def update_referral(request: HttpRequest, referral_id: int, payload: ReferralPatch) -> dict[str, Any]:
    user = actor(request)
    referral = selectors.referral_get_for_user(user=user, referral_id=referral_id)
    services.referral_update(
        actor=user, source=Source.API, referral=referral, referred_on=payload.referred_on, note=payload.note
    )
    return referral_out(selectors.referral_get_for_user(user=user, referral_id=referral_id))


@router.delete("/referrals/{referral_id}", response={204: None, **ERRORS}, summary="Remove a referral")
def delete_referral(request: HttpRequest, referral_id: int) -> Status[None]:
    user = actor(request)
    referral = selectors.referral_get_for_user(user=user, referral_id=referral_id)
    services.referral_delete(actor=user, source=Source.API, referral=referral)
    return Status(204, None)


class GraphNodeOut(Schema):
    id: str
    kind: str  # "customer" | "user" | "external"
    name: str
    customer_id: int | None
    status: str
    relationship_type: str
    revenue: Decimal


class GraphEdgeOut(Schema):
    id: int
    source: str
    target: str
    referred_on: dt.date
    via: str  # the referring contact's name, when a person at the referring customer introduced


class ReferralGraphOut(Schema):
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    truncated: bool


def referral_graph_out(edges: list[selectors.ReferralEdge], truncated: bool) -> dict[str, Any]:
    nodes: dict[str, dict[str, Any]] = {}
    out_edges = []
    for e in edges:
        target = f"customer:{e.customer_id}"
        nodes.setdefault(
            target,
            {
                "id": target,
                "kind": "customer",
                "name": e.customer_name,
                "customer_id": e.customer_id,
                "status": e.customer_status,
                "relationship_type": e.customer_type,
                "revenue": e.customer_revenue,
            },
        )
        if e.referrer_key not in nodes:
            is_customer = e.referrer_customer_id is not None
            nodes[e.referrer_key] = {
                "id": e.referrer_key,
                "kind": "customer" if is_customer else e.referrer_kind,
                "name": e.referrer_label,
                "customer_id": e.referrer_customer_id,
                "status": "",
                "relationship_type": "",
                "revenue": Decimal(0),
            }
        out_edges.append(
            {
                "id": e.id,
                "source": e.referrer_key,
                "target": target,
                "referred_on": e.referred_on,
                "via": e.referrer_contact_name,
            }
        )
    return {"nodes": list(nodes.values()), "edges": out_edges, "truncated": truncated}


@router.get(
    "/referral-graph",
    response={200: ReferralGraphOut, **ERRORS},
    summary="The referral graph across the customers you can see (newest referrals, capped)",
)
def referral_graph(
    request: HttpRequest, limit: Annotated[int, Field(ge=1, le=2000)] = selectors.MAX_GRAPH_EDGES
) -> dict[str, Any]:
    edges, truncated = selectors.referral_graph_view(user=actor(request), limit=limit)
    return referral_graph_out(edges, truncated)


class ReferrerValueOut(Schema):
    key: str
    kind: str
    label: str
    customer_id: int | None
    customer_status: str
    people: list[str]
    direct_customers: int
    direct_revenue: Decimal
    indirect_customers: int
    indirect_revenue: Decimal
    total_customers: int
    total_revenue: Decimal
    latest_referral_on: dt.date
    worth_thanking: bool


def referrer_value_out(v: selectors.ReferrerValue, thank: set[str]) -> dict[str, Any]:
    return {
        "key": v.key,
        "kind": v.kind,
        "label": v.label,
        "customer_id": v.customer_id,
        "customer_status": v.customer_status,
        "people": v.people,
        "direct_customers": v.direct_customers,
        "direct_revenue": v.direct_revenue,
        "indirect_customers": v.indirect_customers,
        "indirect_revenue": v.indirect_revenue,
        "total_customers": v.total_customers,
        "total_revenue": v.total_revenue,
        "latest_referral_on": v.latest_referral_on,
        "worth_thanking": v.key in thank,
    }


@router.get(
    "/referral-values",
    response={200: list[ReferrerValueOut], **ERRORS},
    summary="Referral value: customers and revenue that came through each referrer, direct and indirect",
)
def referral_values(
    request: HttpRequest, top: Annotated[int, Field(ge=1, le=1000)] = 50
) -> list[dict[str, Any]]:
    values = selectors.referral_values(user=actor(request), top=top)
    thank = {v.key for v in selectors.worth_thanking(values, today=timezone.localdate())}
    return [referrer_value_out(v, thank) for v in values]


class DownstreamCustomerOut(Schema):
    id: int
    name: str
    revenue: Decimal
    status: str


class DownstreamOut(Schema):
    customer: Ref
    status: str
    direct: list[DownstreamCustomerOut]
    indirect: list[DownstreamCustomerOut]
    count: int
    revenue: Decimal


@router.get(
    "/customers/{customer_id}/referral-downstream",
    response={200: DownstreamOut, **ERRORS},
    summary='The "250" view: the customers who came through this customer, directly or indirectly',
)
def referral_downstream(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    d = selectors.referral_downstream(user=actor(request), customer_id=customer_id)

    def rows(items: list[tuple[int, str, Decimal, str]]) -> list[dict[str, Any]]:
        return [{"id": i, "name": n, "revenue": r, "status": s} for i, n, r, s in items]

    return {
        "customer": {"id": d.customer.pk, "name": d.customer.name},
        "status": d.customer.status,
        "direct": rows(d.direct),
        "indirect": rows(d.indirect),
        "count": d.count,
        "revenue": d.revenue,
    }


# --- Playbooks --------------------------------------------------------------------------------------


class PlaybookOut(Schema):
    relationship_type: str
    basis: str
    cadence_days: int
    summary_zh: str
    summary_en: str
    actions_zh: list[str]
    actions_en: list[str]
    checks_zh: list[str]
    checks_en: list[str]
    updated_at: dt.datetime


class PlaybookPatch(Strict):
    basis: BasisLit | None = None
    cadence_days: Annotated[int, Field(ge=1, le=365)] | None = None
    summary_zh: LongText | None = None
    summary_en: LongText | None = None
    actions_zh: LongText | None = None
    actions_en: LongText | None = None
    checks_zh: LongText | None = None
    checks_en: LongText | None = None


def playbook_out(p: Playbook) -> dict[str, Any]:
    return {
        "relationship_type": p.relationship_type,
        "basis": p.basis,
        "cadence_days": p.cadence_days,
        "summary_zh": p.summary_zh,
        "summary_en": p.summary_en,
        "actions_zh": p.lines("actions", "zh"),
        "actions_en": p.lines("actions", "en"),
        "checks_zh": p.lines("checks", "zh"),
        "checks_en": p.lines("checks", "en"),
        "updated_at": p.updated_at,
    }


@router.get(
    "/playbooks", response={200: list[PlaybookOut], **ERRORS}, summary="The four relationship playbooks"
)
def list_playbooks(request: HttpRequest) -> list[dict[str, Any]]:
    return [playbook_out(p) for p in selectors.playbook_list()]


@router.get(
    "/playbooks/{relationship_type}",
    response={200: PlaybookOut, **ERRORS},
    summary="The playbook of one relationship type",
)
def get_playbook(request: HttpRequest, relationship_type: RelTypeLit) -> dict[str, Any]:
    return playbook_out(selectors.playbook_get(relationship_type=relationship_type))


@router.patch(
    "/playbooks/{relationship_type}",
    response={200: PlaybookOut, **ERRORS},
    summary="Edit a playbook (administrators only); action and check lists are one item per line",
)
def update_playbook(
    request: HttpRequest, relationship_type: RelTypeLit, payload: PlaybookPatch
) -> dict[str, Any]:
    playbook = selectors.playbook_get(relationship_type=relationship_type)
    data = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return playbook_out(
        services.playbook_update(actor=actor(request), source=Source.API, playbook=playbook, **data)
    )


# --- Profile review ---------------------------------------------------------------------------------


class ReviewIn(Strict):
    reviewed_on: dt.date | None = None


class ReviewOut(Schema):
    customer: Ref
    profile_reviewed_on: dt.date | None
    stale: bool
    review_days: int


def review_out(customer: Any) -> dict[str, Any]:
    return {
        "customer": {"id": customer.pk, "name": customer.name},
        "profile_reviewed_on": customer.profile_reviewed_on,
        "stale": selectors.profile_is_stale(customer),
        "review_days": selectors.profile_review_days(),
    }


@router.post(
    "/customers/{customer_id}/profile-review",
    response={200: ReviewOut, **ERRORS},
    summary="Mark a customer's profile as reviewed (档案复核), today or on a given date",
)
def review_profile(request: HttpRequest, customer_id: int, payload: ReviewIn) -> dict[str, Any]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=customer_id)
    customer = services.customer_profile_review(
        actor=user, source=Source.API, customer=customer, reviewed_on=payload.reviewed_on
    )
    return review_out(customer)


@router.get(
    "/stale-profiles",
    response={200: list[ReviewOut], **ERRORS},
    summary="Your customers whose profile was not reviewed for longer than the review period",
)
def stale_profiles(
    request: HttpRequest,
    days: Annotated[int, Field(ge=1, le=3650)] | None = None,
    limit: Annotated[int, Field(ge=1, le=500)] = 200,
) -> list[dict[str, Any]]:
    customers = selectors.stale_profiles(user=actor(request), days=days, limit=limit)
    return [review_out(c) | {"stale": True} for c in customers]
