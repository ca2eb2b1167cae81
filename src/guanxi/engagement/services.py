"""Logging and editing interactions; keeps the customer's "last interaction" column current."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField, F, Max, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import ValidationFailed, require
from guanxi.customers.models import Contact, Customer
from guanxi.customers.services import row_scope
from guanxi.engagement.models import Channel, Direction, Interaction
from guanxi.search import documents

INTERACTION_FIELDS = [
    "channel",
    "direction",
    "occurred_at",
    "duration_minutes",
    "summary",
    "outcome",
    "next_step",
    "next_step_due",
]
# Logging something that happens more than a day ahead is a plan, not a contact.
FUTURE_TOLERANCE = dt.timedelta(days=1)


def interaction_search_doc(interaction: Interaction) -> str:
    return documents.build(texts=[interaction.summary, interaction.outcome, interaction.next_step])


def _validate(data: dict[str, Any]) -> None:
    unknown = set(data) - set(INTERACTION_FIELDS)
    require(
        not unknown,
        f"未知字段：{', '.join(sorted(unknown))}",
        f"unknown fields: {', '.join(sorted(unknown))}",
    )
    if "channel" in data:
        require(
            data["channel"] in Channel.values,
            f"未知渠道：{data['channel']}",
            f"unknown channel: {data['channel']}",
            field="channel",
        )
    if "direction" in data:
        require(data["direction"] in Direction.values, "方向无效", "invalid direction", field="direction")
    if "summary" in data:
        require(
            bool((data["summary"] or "").strip()), "请填写内容摘要", "summary is required", field="summary"
        )
        require(len(data["summary"]) <= 20000, "内容摘要过长", "summary too long", field="summary")
    if "occurred_at" in data:
        when = data["occurred_at"]
        require(
            isinstance(when, dt.datetime) and timezone.is_aware(when),
            "时间无效",
            "occurred_at must be a datetime with time zone",
            field="occurred_at",
        )
        # Kept in UTC: PostgreSQL refuses UTC offsets beyond ±15:59 (Python allows ±23:59), and an
        # instant outside years 1–9999 in UTC cannot be stored at all.
        try:
            data["occurred_at"] = when = when.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationFailed(
                "时间超出范围", "occurred_at is out of range", field="occurred_at"
            ) from None
        require(
            when <= timezone.now() + FUTURE_TOLERANCE,
            "联系时间不能在未来",
            "occurred_at cannot be in the future",
            field="occurred_at",
        )
    if data.get("duration_minutes") is not None:
        require(
            0 <= data["duration_minutes"] <= 24 * 60,
            "时长应在0到1440分钟之间",
            "duration must be 0–1440 minutes",
            field="duration_minutes",
        )


def _check_contacts(customer: Customer, contacts: Iterable[Contact]) -> list[Contact]:
    contacts = list(contacts)
    for c in contacts:
        require(
            c.customer_id == customer.pk,
            "联系人不属于该客户",
            "contact does not belong to this customer",
            field="contact_ids",
        )
    return contacts


def _refresh_last_interaction(customer_id: int) -> None:
    latest = Interaction.objects.filter(customer_id=customer_id).aggregate(m=Max("occurred_at"))["m"]
    Customer.objects.filter(pk=customer_id).update(last_interaction_at=latest)


def _refresh_contacts_last_interaction(contact_ids: Iterable[int]) -> None:
    """Recompute Contact.last_interaction_at (the key-contact cadence) after an edit or delete."""
    for contact_id in set(contact_ids):
        latest = Interaction.objects.filter(contacts=contact_id).aggregate(m=Max("occurred_at"))["m"]
        Contact.objects.filter(pk=contact_id).update(last_interaction_at=latest)


@transaction.atomic
def interaction_log(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    contacts: Iterable[Contact] = (),
    participants: Iterable[User] = (),
    **data: Any,
) -> Interaction:
    data.setdefault("occurred_at", timezone.now())
    data.setdefault("direction", Direction.OUTBOUND)
    require("channel" in data, "请选择渠道", "channel is required", field="channel")
    require("summary" in data, "请填写内容摘要", "summary is required", field="summary")
    _validate(data)
    contact_list = _check_contacts(customer, contacts)
    interaction = Interaction(customer=customer, created_by=actor, **data)
    interaction.summary = interaction.summary.strip()
    interaction.search_doc = interaction_search_doc(interaction)
    interaction.search_scope = row_scope(customer)
    interaction.save()
    if contact_list:
        interaction.contacts.set(contact_list)
    people = {actor.pk: actor, **{u.pk: u for u in participants}}
    interaction.participants.set(list(people.values()))
    # Only ever moves forward here: a back-dated entry must not hide a more recent contact.
    when = Value(interaction.occurred_at, output_field=DateTimeField())
    Customer.objects.filter(pk=customer.pk).update(
        last_interaction_at=Greatest(Coalesce(F("last_interaction_at"), when), when)
    )
    customer.refresh_from_db(fields=["last_interaction_at"])
    if contact_list:
        Contact.objects.filter(pk__in=[c.pk for c in contact_list]).update(
            last_interaction_at=Greatest(Coalesce(F("last_interaction_at"), when), when)
        )
    changes = diff({}, snapshot(interaction, INTERACTION_FIELDS))
    if contact_list:
        changes["contacts"] = [[], [c.name for c in contact_list]]
    audit_record(
        actor=actor,
        source=source,
        action="interaction.create",
        obj=interaction,
        customer_id=customer.pk,
        changes=changes,
    )
    return interaction


@transaction.atomic
def interaction_update(
    *,
    actor: User,
    source: Source,
    interaction: Interaction,
    contacts: Iterable[Contact] | None = None,
    **data: Any,
) -> Interaction:
    _validate(data)
    interaction = Interaction.objects.select_for_update().select_related("customer").get(pk=interaction.pk)
    before = snapshot(interaction, INTERACTION_FIELDS)
    for name, value in data.items():
        setattr(interaction, name, value)
    interaction.search_doc = interaction_search_doc(interaction)
    interaction.save()
    changes = diff(before, snapshot(interaction, INTERACTION_FIELDS))
    old_contact_ids = {c.pk for c in interaction.contacts.all()}
    if contacts is not None:
        old = sorted(c.name for c in interaction.contacts.all())
        new_list = _check_contacts(interaction.customer, contacts)
        interaction.contacts.set(new_list)
        if sorted(c.name for c in new_list) != old:
            changes["contacts"] = [old, sorted(c.name for c in new_list)]
    if "occurred_at" in changes:
        _refresh_last_interaction(interaction.customer_id)
    if "occurred_at" in changes or "contacts" in changes:
        _refresh_contacts_last_interaction(old_contact_ids | {c.pk for c in interaction.contacts.all()})
    if changes:
        audit_record(
            actor=actor,
            source=source,
            action="interaction.update",
            obj=interaction,
            customer_id=interaction.customer_id,
            changes=changes,
        )
    return interaction


@transaction.atomic
def interaction_delete(*, actor: User, source: Source, interaction: Interaction) -> None:
    before = snapshot(interaction, INTERACTION_FIELDS)
    customer_id, pk = interaction.customer_id, interaction.pk
    label = str(interaction)
    contact_ids = [c.pk for c in interaction.contacts.all()]
    interaction.delete()
    interaction.pk = pk
    _refresh_last_interaction(customer_id)
    _refresh_contacts_last_interaction(contact_ids)
    audit_record(
        actor=actor,
        source=source,
        action="interaction.delete",
        obj=interaction,
        customer_id=customer_id,
        changes={k: [v, None] for k, v in before.items() if v not in (None, "")} | {"_label": [label, None]},
    )
