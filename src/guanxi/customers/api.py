"""JSON endpoints for customers and contacts: thin, typed; every read via selectors, write via services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.accounts.models import Team, User
from guanxi.audit.models import Source
from guanxi.audit.selectors import field_history
from guanxi.core.api import ERRORS, actor
from guanxi.core.errors import NotFound
from guanxi.customers import selectors, services
from guanxi.customers.models import Contact, Customer

router = Router(tags=["customers"])

Kind = Literal["company", "person"]
RelType = Literal["upstream", "partner", "channel", "end"]
StatusLit = Literal["prospect", "active", "dormant", "lost", "archived"]
Size = Literal["", "micro", "small", "medium", "large"]
Credit = Literal["", "AAA", "AA", "A", "B", "C"]
SourceKind = Literal["", "referral", "exhibition", "cold_call", "website", "advertising", "partner", "other"]
Sort = Literal["last_interaction", "name", "created"]
Personality = Literal[
    "",
    "calm_rational",
    "warm_outgoing",
    "cautious",
    "decisive",
    "hesitant",
    "relationship",
    "technical",
    "face_conscious",
    "thrifty",
]
PreferredChannelLit = Literal["", "phone", "wechat", "email", "visit", "sms", "video"]
Short = Annotated[str, Field(max_length=60)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
Text = Annotated[str, Field(max_length=20000)]
Line = Annotated[str, Field(max_length=200)]
Region = Annotated[str, Field(max_length=30)]
TagName = Annotated[str, Field(min_length=1, max_length=40)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class CustomerFields(Strict):
    kind: Kind = "company"
    short_name: Short = ""
    business_scope: Text = ""
    industry: Short = ""
    province: Region = ""
    city: Region = ""
    district: Region = ""
    address: Annotated[str, Field(max_length=255)] = ""
    latitude: Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)] | None = None
    longitude: Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)] | None = None
    size: Size = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=254)] = ""
    website: Line = ""
    financial_notes: Text = ""
    credit_rating: Credit = ""
    lead_source: SourceKind = ""
    relationship_type: RelType = "end"
    status: StatusLit = "prospect"
    founded_on: dt.date | None = None
    notes: Text = ""


class CustomerIn(CustomerFields):
    name: Name
    owner_id: int | None = None
    team_id: int | None = None
    tags: Annotated[list[TagName], Field(max_length=30)] = []


class CustomerPatch(Strict):
    kind: Kind | None = None
    name: Name | None = None
    short_name: Short | None = None
    business_scope: Text | None = None
    industry: Short | None = None
    province: Region | None = None
    city: Region | None = None
    district: Region | None = None
    address: Annotated[str, Field(max_length=255)] | None = None
    latitude: Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6)] | None = None
    longitude: Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6)] | None = None
    size: Size | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    website: Line | None = None
    financial_notes: Text | None = None
    credit_rating: Credit | None = None
    lead_source: SourceKind | None = None
    relationship_type: RelType | None = None
    status: StatusLit | None = None
    founded_on: dt.date | None = None
    notes: Text | None = None
    owner_id: int | None = None
    team_id: int | None = None
    tags: Annotated[list[TagName], Field(max_length=30)] | None = None


class Ref(Schema):
    id: int
    name: str


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    short_name: str
    business_scope: str
    industry: str
    province: str
    city: str
    district: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    size: str
    phone: str
    email: str
    website: str
    financial_notes: str
    credit_rating: str
    lead_source: str
    relationship_type: str
    status: str
    founded_on: dt.date | None
    notes: str
    profile_reviewed_on: dt.date | None
    owner: Ref
    team: Ref | None
    tags: list[str]
    last_interaction_at: dt.datetime | None
    last_order_at: dt.date | None
    order_count: int
    revenue_total: Decimal
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class ContactFields(Strict):
    gender: Literal["", "m", "f"] = ""
    title: Annotated[str, Field(max_length=100)] = ""
    department: Annotated[str, Field(max_length=100)] = ""
    wechat_id: Annotated[str, Field(max_length=60)] = ""
    birthday: dt.date | None = None
    birthday_is_lunar: bool = False
    birthday_lunar_leap_month: bool = False
    background: Text = ""
    hobbies: Text = ""
    preferences: Text = ""
    personality: Personality = ""
    communication_style: Line = ""
    preferred_channel: PreferredChannelLit = ""
    home_location: Line = ""
    work_location: Line = ""
    notes: Text = ""
    is_key: bool = False


class ContactIn(ContactFields):
    customer_id: int
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")]
    phones: Annotated[list[Annotated[str, Field(max_length=120)]], Field(max_length=20)] = []
    emails: Annotated[list[Annotated[str, Field(max_length=254)]], Field(max_length=20)] = []


class ContactPatch(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"\S")] | None = None
    gender: Literal["", "m", "f"] | None = None
    title: Annotated[str, Field(max_length=100)] | None = None
    department: Annotated[str, Field(max_length=100)] | None = None
    wechat_id: Annotated[str, Field(max_length=60)] | None = None
    birthday: dt.date | None = None
    birthday_is_lunar: bool | None = None
    birthday_lunar_leap_month: bool | None = None
    background: Text | None = None
    hobbies: Text | None = None
    preferences: Text | None = None
    personality: Personality | None = None
    communication_style: Line | None = None
    preferred_channel: PreferredChannelLit | None = None
    home_location: Line | None = None
    work_location: Line | None = None
    notes: Text | None = None
    is_key: bool | None = None
    phones: Annotated[list[Annotated[str, Field(max_length=120)]], Field(max_length=20)] | None = None
    emails: Annotated[list[Annotated[str, Field(max_length=254)]], Field(max_length=20)] | None = None


class PhoneOut(Schema):
    raw: str
    value: str
    label: str
    is_ambiguous: bool


class ContactOut(Schema):
    id: int
    customer: Ref
    name: str
    gender: str
    title: str
    department: str
    wechat_id: str
    birthday: dt.date | None
    birthday_is_lunar: bool
    birthday_lunar_leap_month: bool
    background: str
    hobbies: str
    preferences: str
    personality: str
    communication_style: str
    preferred_channel: str
    home_location: str
    work_location: str
    notes: str
    is_key: bool
    phones: list[PhoneOut]
    emails: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class FieldChangeOut(Schema):
    at: dt.datetime
    actor: str | None
    source: str
    action: str
    field: str
    before: Any
    after: Any


class ShareIn(Strict):
    user_id: int | None = None
    team_id: int | None = None


class ShareOut(Schema):
    id: int
    user: Ref | None
    team: Ref | None


class CustomerFilterParams(Schema):
    q: Annotated[str, Field(max_length=100)] = ""
    owner_id: int | None = None
    team_id: int | None = None
    relationship_type: RelType | Literal[""] = ""
    status: StatusLit | Literal[""] = ""
    province: Region = ""
    city: Region = ""
    industry: Short = ""
    tag: Annotated[str, Field(max_length=40)] = ""
    size: Literal["", "micro", "small", "medium", "large"] = ""
    value_class: Literal["", "A", "B", "C", "D"] = ""
    tier: Literal["", "key", "important", "general", "maintain"] = ""
    lifecycle: Literal["", "new", "fast_growing", "loyal", "cultivate", "dormant", "lost"] = ""
    rfm_segment: Literal[
        "", "champions", "loyal", "promising", "attention", "at_risk", "hibernating", "none"
    ] = ""
    sort: Sort = "last_interaction"
    cursor: Annotated[str, Field(max_length=500)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def _user_ref(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": str(user)}


def customer_out(c: Customer) -> dict[str, Any]:
    data = {f: getattr(c, f) for f in services.CUSTOMER_FIELDS}
    data.update(
        id=c.pk,
        owner=_user_ref(c.owner),
        team={"id": c.team.pk, "name": c.team.name} if c.team else None,
        tags=[t.name for t in c.tags.all()],
        last_interaction_at=c.last_interaction_at,
        last_order_at=c.last_order_at,
        profile_reviewed_on=c.profile_reviewed_on,
        order_count=c.order_count,
        revenue_total=c.revenue_total,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )
    return data


def contact_out(c: Contact) -> dict[str, Any]:
    data = {f: getattr(c, f) for f in services.CONTACT_FIELDS}
    points = list(c.points.all())
    data.update(
        id=c.pk,
        customer={"id": c.customer.pk, "name": c.customer.name},
        phones=[
            {"raw": p.raw, "value": p.value, "label": p.label, "is_ambiguous": p.is_ambiguous}
            for p in points
            if p.kind == "phone"
        ],
        emails=[p.raw for p in points if p.kind == "email"],
        created_at=c.created_at,
        updated_at=c.updated_at,
    )
    return data


def _owner_and_team(user: User, owner_id: int | None, team_id: int | None) -> tuple[User | None, Team | None]:
    owner = team = None
    if owner_id is not None:
        owner = User.objects.filter(pk=owner_id, is_active=True).select_related("team").first()
        if owner is None:
            raise NotFound("用户", "user")
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            raise NotFound("团队", "team")
    return owner, team


@router.get("/customers", response={200: CustomerPage, **ERRORS}, summary="List customers you can see")
def list_customers(request: HttpRequest, filters: Query[CustomerFilterParams]) -> dict[str, Any]:
    f = selectors.CustomerFilters(
        q=filters.q,
        owner_id=filters.owner_id,
        team_id=filters.team_id,
        relationship_type=filters.relationship_type,
        status=filters.status,
        province=filters.province,
        city=filters.city,
        industry=filters.industry,
        tag=filters.tag,
        size=filters.size,
        value_class=filters.value_class,
        tier=filters.tier,
        lifecycle=filters.lifecycle,
        rfm_segment=filters.rfm_segment,
        sort=filters.sort,
    )
    page = selectors.customer_list(
        user=actor(request), filters=f, cursor=filters.cursor, size=filters.limit, with_tags=True
    )
    return {"items": [customer_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/customers", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    user = actor(request)
    data = payload.model_dump(exclude={"owner_id", "team_id", "tags"})
    owner, team = _owner_and_team(user, payload.owner_id, payload.team_id)
    customer = services.customer_create(
        actor=user, source=Source.API, owner=owner, team=team, tags=payload.tags, **data
    )
    return Status(201, customer_out(selectors.customer_get_for_user(user=user, customer_id=customer.pk)))


@router.get("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="One customer")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    return customer_out(selectors.customer_get_for_user(user=actor(request), customer_id=customer_id))


@router.patch("/customers/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Update a customer")
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> dict[str, Any]:
    user = actor(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    data = payload.model_dump(exclude_unset=True, exclude={"owner_id", "team_id", "tags"})
    for key in ("name", "kind", "relationship_type", "status"):
        if key in data and data[key] is None:
            data.pop(key)
    data = {
        k: ("" if v is None and k not in {"latitude", "longitude", "founded_on"} else v)
        for k, v in data.items()
    }
    owner, team = _owner_and_team(user, payload.owner_id, payload.team_id)
    services.customer_update(
        actor=user, source=Source.API, customer=customer, owner=owner, team=team, tags=payload.tags, **data
    )
    return customer_out(selectors.customer_get_for_user(user=user, customer_id=customer_id))


@router.get(
    "/customers/{customer_id}/history",
    response={200: list[FieldChangeOut], **ERRORS},
    summary="Field history of a customer (from the audit log)",
)
def customer_history(
    request: HttpRequest, customer_id: int, field: Annotated[str, Field(max_length=60)] = ""
) -> list[Any]:
    customer = selectors.customer_get_for_user(user=actor(request), customer_id=customer_id)
    return list(field_history(object_type="customer", object_id=customer.pk, field=field or None))


@router.post(
    "/customers/{customer_id}/shares",
    response={201: ShareOut, **ERRORS},
    summary="Share a customer with a user or a team",
)
def share_customer(request: HttpRequest, customer_id: int, payload: ShareIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    target_user = target_team = None
    if payload.user_id is not None:
        target_user = User.objects.filter(pk=payload.user_id, is_active=True).first()
        if target_user is None:
            raise NotFound("用户", "user")
    if payload.team_id is not None:
        target_team = Team.objects.filter(pk=payload.team_id).first()
        if target_team is None:
            raise NotFound("团队", "team")
    share = services.customer_share(
        actor=user, source=Source.API, customer=customer, user=target_user, team=target_team
    )
    return Status(
        201,
        {
            "id": share.pk,
            "user": _user_ref(share.user) if share.user else None,
            "team": {"id": share.team.pk, "name": share.team.name} if share.team else None,
        },
    )


@router.delete(
    "/customers/{customer_id}/shares/{share_id}",
    response={204: None, **ERRORS},
    summary="Stop sharing a customer",
)
def unshare_customer(request: HttpRequest, customer_id: int, share_id: int) -> Status[None]:
    user = actor(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    services.customer_unshare(actor=user, source=Source.API, customer=customer, share_id=share_id)
    return Status(204, None)


@router.get("/contacts", response={200: ContactPage, **ERRORS}, summary="List contacts you can see")
def list_contacts(
    request: HttpRequest,
    customer_id: int | None = None,
    q: Annotated[str, Field(max_length=100)] = "",
    cursor: Annotated[str, Field(max_length=500)] | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    page = selectors.contact_list(
        user=actor(request), customer_id=customer_id, q=q, cursor=cursor, size=limit
    )
    return {"items": [contact_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut, **ERRORS}, summary="Create a contact at a customer")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=payload.customer_id)
    data = payload.model_dump(exclude={"customer_id", "phones", "emails"})
    contact = services.contact_create(
        actor=user, source=Source.API, customer=customer, phones=payload.phones, emails=payload.emails, **data
    )
    return Status(201, contact_out(selectors.contact_get_for_user(user=user, contact_id=contact.pk)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="One contact")
def get_contact(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    return contact_out(selectors.contact_get_for_user(user=actor(request), contact_id=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Update a contact")
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> dict[str, Any]:
    user = actor(request)
    contact = selectors.contact_get_for_user(user=user, contact_id=contact_id)
    data = payload.model_dump(exclude_unset=True, exclude={"phones", "emails"})
    for key in ("name", "birthday_is_lunar", "birthday_lunar_leap_month", "is_key"):
        if key in data and data[key] is None:
            data.pop(key)
    data = {k: ("" if v is None and k != "birthday" else v) for k, v in data.items()}
    services.contact_update(
        actor=user, source=Source.API, contact=contact, phones=payload.phones, emails=payload.emails, **data
    )
    return contact_out(selectors.contact_get_for_user(user=user, contact_id=contact_id))


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Delete a contact")
def delete_contact(request: HttpRequest, contact_id: int) -> Status[None]:
    user = actor(request)
    contact = selectors.contact_get_for_user(user=user, contact_id=contact_id)
    services.contact_delete(actor=user, source=Source.API, contact=contact)
    return Status(204, None)


@router.get(
    "/contacts/{contact_id}/history",
    response={200: list[FieldChangeOut], **ERRORS},
    summary="Field history of a contact",
)
def contact_history(
    request: HttpRequest, contact_id: int, field: Annotated[str, Field(max_length=60)] = ""
) -> list[Any]:
    contact = selectors.contact_get_for_user(user=actor(request), contact_id=contact_id)
    return list(field_history(object_type="contact", object_id=contact.pk, field=field or None))
