"""JSON endpoints for interactions and the customer timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, actor
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.customers.models import Contact
from guanxi.customers.selectors import customer_get_for_user
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Interaction

router = Router(tags=["interactions"])
ChannelLit = Literal["visit", "phone", "email", "wechat", "sms", "fax", "video", "event"]
DirectionLit = Literal["out", "in"]
Summary = Annotated[str, Field(min_length=1, max_length=20000, pattern=r"\S")]
Text = Annotated[str, Field(max_length=20000)]


class InteractionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    customer_id: int
    channel: ChannelLit
    direction: DirectionLit = "out"
    occurred_at: dt.datetime | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=1440)] | None = None
    summary: Summary
    outcome: Text = ""
    next_step: Text = ""
    next_step_due: dt.date | None = None
    contact_ids: Annotated[list[int], Field(max_length=50)] = []
    participant_ids: Annotated[list[int], Field(max_length=50)] = []


class InteractionPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    channel: ChannelLit | None = None
    direction: DirectionLit | None = None
    occurred_at: dt.datetime | None = None
    duration_minutes: Annotated[int, Field(ge=0, le=1440)] | None = None
    summary: Summary | None = None
    outcome: Text | None = None
    next_step: Text | None = None
    next_step_due: dt.date | None = None
    contact_ids: Annotated[list[int], Field(max_length=50)] | None = None


class Ref(Schema):
    id: int
    name: str


class InteractionOut(Schema):
    id: int
    customer: Ref
    channel: str
    direction: str
    occurred_at: dt.datetime
    duration_minutes: int | None
    summary: str
    outcome: str
    next_step: str
    next_step_due: dt.date | None
    contacts: list[Ref]
    participants: list[Ref]
    created_by: Ref | None
    created_at: dt.datetime


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class TimelineEntryOut(Schema):
    kind: Literal["interaction", "event"]
    at: dt.datetime
    interaction: InteractionOut | None = None
    action: str | None = None
    actor: str | None = None
    source: str | None = None
    changes: dict[str, Any] | None = None


def interaction_out(i: Interaction) -> dict[str, Any]:
    return {
        "id": i.pk,
        "customer": {"id": i.customer.pk, "name": i.customer.name},
        "channel": i.channel,
        "direction": i.direction,
        "occurred_at": i.occurred_at,
        "duration_minutes": i.duration_minutes,
        "summary": i.summary,
        "outcome": i.outcome,
        "next_step": i.next_step,
        "next_step_due": i.next_step_due,
        "contacts": [{"id": c.pk, "name": c.name} for c in i.contacts.all()],
        "participants": [{"id": u.pk, "name": str(u)} for u in i.participants.all()],
        "created_by": {"id": i.created_by.pk, "name": str(i.created_by)} if i.created_by else None,
        "created_at": i.created_at,
    }


def _contacts(customer_id: int, ids: list[int]) -> list[Contact]:
    contacts = list(Contact.objects.filter(customer_id=customer_id, pk__in=ids))
    if len(contacts) != len(set(ids)):
        raise NotFound("联系人", "contact")
    return contacts


def _aware(when: dt.datetime | None, field: str = "occurred_at") -> dt.datetime | None:
    """In UTC: PostgreSQL refuses UTC offsets beyond ±15:59, which Python (and ISO 8601 input) allow."""
    from django.utils import timezone

    if when is None:
        return None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed("时间超出范围", f"{field} is out of range", field=field) from None


@router.get("/interactions", response={200: InteractionPage, **ERRORS}, summary="List or search interactions")
def list_interactions(
    request: HttpRequest,
    customer_id: int | None = None,
    q: Annotated[str, Field(max_length=100)] = "",
    cursor: Annotated[str, Field(max_length=500)] | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    page = selectors.interaction_list(
        user=actor(request), customer_id=customer_id, q=q, cursor=cursor, size=limit
    )
    return {"items": [interaction_out(i) for i in page.items], "next_cursor": page.next_cursor}


@router.post("/interactions", response={201: InteractionOut, **ERRORS}, summary="Log an interaction")
def create_interaction(request: HttpRequest, payload: InteractionIn) -> Status[dict[str, Any]]:
    user = actor(request)
    customer = customer_get_for_user(user=user, customer_id=payload.customer_id)
    participants = list(User.objects.filter(pk__in=payload.participant_ids, is_active=True))
    if len(participants) != len(set(payload.participant_ids)):
        raise NotFound("用户", "user")
    data = payload.model_dump(exclude={"customer_id", "contact_ids", "participant_ids"})
    data["occurred_at"] = _aware(data["occurred_at"])
    if data["occurred_at"] is None:
        data.pop("occurred_at")
    interaction = services.interaction_log(
        actor=user,
        source=Source.API,
        customer=customer,
        contacts=_contacts(customer.pk, payload.contact_ids),
        participants=participants,
        **data,
    )
    return Status(
        201, interaction_out(selectors.interaction_get_for_user(user=user, interaction_id=interaction.pk))
    )


@router.get(
    "/interactions/{interaction_id}", response={200: InteractionOut, **ERRORS}, summary="One interaction"
)
def get_interaction(request: HttpRequest, interaction_id: int) -> dict[str, Any]:
    return interaction_out(
        selectors.interaction_get_for_user(user=actor(request), interaction_id=interaction_id)
    )


@router.patch(
    "/interactions/{interaction_id}",
    response={200: InteractionOut, **ERRORS},
    summary="Correct an interaction",
)
def update_interaction(
    request: HttpRequest, interaction_id: int, payload: InteractionPatch
) -> dict[str, Any]:
    user = actor(request)
    interaction = selectors.interaction_get_for_user(user=user, interaction_id=interaction_id)
    data = payload.model_dump(exclude_unset=True, exclude={"contact_ids"})
    for key in ("channel", "direction", "occurred_at", "summary"):
        if key in data and data[key] is None:
            data.pop(key)
    for key in ("outcome", "next_step"):
        if key in data and data[key] is None:
            data[key] = ""
    if "occurred_at" in data:
        data["occurred_at"] = _aware(data["occurred_at"])
    contacts = (
        None if payload.contact_ids is None else _contacts(interaction.customer_id, payload.contact_ids)
    )
    services.interaction_update(
        actor=user, source=Source.API, interaction=interaction, contacts=contacts, **data
    )
    return interaction_out(selectors.interaction_get_for_user(user=user, interaction_id=interaction_id))


@router.delete(
    "/interactions/{interaction_id}", response={204: None, **ERRORS}, summary="Delete an interaction"
)
def delete_interaction(request: HttpRequest, interaction_id: int) -> Status[None]:
    user = actor(request)
    interaction = selectors.interaction_get_for_user(user=user, interaction_id=interaction_id)
    services.interaction_delete(actor=user, source=Source.API, interaction=interaction)
    return Status(204, None)


@router.get(
    "/customers/{customer_id}/timeline",
    response={200: list[TimelineEntryOut], **ERRORS},
    summary="The customer's shared timeline: interactions and recorded changes",
    tags=["customers"],
)
def customer_timeline(
    request: HttpRequest,
    customer_id: int,
    before: dt.datetime | None = None,
    limit: Annotated[int, Field(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    customer = customer_get_for_user(user=actor(request), customer_id=customer_id)
    entries = selectors.customer_timeline(customer, limit=limit, before=_aware(before, "before"))
    out: list[dict[str, Any]] = []
    for e in entries:
        if e.interaction is not None:
            e.interaction.customer = customer
            out.append({"kind": "interaction", "at": e.at, "interaction": interaction_out(e.interaction)})
        elif e.event is not None:
            out.append(
                {
                    "kind": "event",
                    "at": e.at,
                    "action": e.event.action,
                    "actor": str(e.event.actor) if e.event.actor else None,
                    "source": e.event.source,
                    "changes": e.event.changes,
                }
            )
    return out
