"""Merging duplicate customers and contacts (合并), and undoing a merge.

Everything that points at the merged-away record moves to the survivor — found generically from
Django's relation metadata (every foreign key to Customer / Contact in any installed app, including
hidden ones and the rows of many-to-many tables), so packages added later are covered without
touching this module. A row that cannot move because the survivor already has its twin (the same
tag, the same interaction participant, a one-to-one standing) is dropped and kept, serialised, in the
``MergeRecord``. The merged-away record itself is deleted from its table and kept whole in the
record too; undo re-creates it with its old id, moves the same rows back, re-creates the dropped
ones and restores the survivor's fields. The survivor's derived columns (last interaction, order
totals, search document) are recomputed.
"""

from __future__ import annotations

import json
from typing import Any

from django.core import serializers
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, snapshot
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Contact, ContactPoint, Customer, CustomerKind
from guanxi.customers.services import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    contact_search_doc,
    customer_scope,
    customer_search_doc,
    row_scope,
)
from guanxi.dataio.models import MergeRecord
from guanxi.search.pinyin import sort_key


def _relations(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    """Every foreign key (and one-to-one) in any app that points at ``model``."""
    fks: list[models.ForeignKey[Any, Any]] = []
    for rel in model._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            field = getattr(rel, "field", None)
            if isinstance(field, models.ForeignKey):
                fks.append(field)
    return fks


def _key(fk: models.Field[Any, Any]) -> str:
    return f"{fk.model._meta.label}.{fk.name}"


def _fk_from_key(key: str) -> models.ForeignKey[Any, Any]:
    from django.apps import apps

    label, name = key.rsplit(".", 1)
    field = apps.get_model(label)._meta.get_field(name)
    assert isinstance(field, models.ForeignKey)
    return field


def _serialise(obj: models.Model) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(serializers.serialize("json", [obj]))[0]
    return data


def _move(
    model: type[models.Model], loser_id: int, survivor_id: int
) -> tuple[dict[str, list[int]], list[Any]]:
    moved: dict[str, list[int]] = {}
    dropped: list[Any] = []
    for fk in _relations(model):
        related = fk.model
        ids = list(related._default_manager.filter(**{fk.attname: loser_id}).values_list("pk", flat=True))
        if not ids:
            continue
        try:
            with transaction.atomic():
                related._default_manager.filter(pk__in=ids).update(**{fk.attname: survivor_id})
            moved[_key(fk)] = ids
            continue
        except IntegrityError:
            pass
        # Some rows collide with the survivor's own (unique together / one-to-one): move row by row.
        done = []
        for pk in ids:
            try:
                with transaction.atomic():
                    related._default_manager.filter(pk=pk).update(**{fk.attname: survivor_id})
                done.append(pk)
            except IntegrityError:
                obj = related._default_manager.get(pk=pk)
                dropped.append(_serialise(obj))
                obj.delete()
        moved[_key(fk)] = done
    return moved, dropped


def _may_change(actor: User, customer: Customer) -> bool:
    return bool(
        actor.is_admin
        or customer.owner_id == actor.pk
        or (actor.is_manager and customer.team_id in managed_team_ids(actor))
    )


def _refresh_customer(customer: Customer) -> None:
    """Derived columns after rows moved in or out."""
    from guanxi.engagement.models import Interaction
    from guanxi.sales.services import refresh_customer_order_figures

    customer.last_interaction_at = Interaction.objects.filter(customer_id=customer.pk).aggregate(
        m=Max("occurred_at")
    )["m"]
    customer.search_doc = customer_search_doc(customer)
    customer.search_scope = customer_scope(customer)
    customer.sort_key = sort_key(customer.name, person=customer.kind == CustomerKind.PERSON)
    customer.save()
    refresh_customer_order_figures(customer.pk)
    scope = customer.search_scope
    for fk in _relations(Customer):
        if fk.name == "customer" and any(f.name == "search_scope" for f in fk.model._meta.concrete_fields):
            fk.model._default_manager.filter(customer_id=customer.pk).exclude(search_scope=scope).update(
                search_scope=scope
            )


def _refresh_contact(contact: Contact) -> None:
    from guanxi.engagement.models import Interaction

    contact.last_interaction_at = Interaction.objects.filter(contacts=contact).aggregate(
        m=Max("occurred_at")
    )["m"]
    contact.search_doc = contact_search_doc(contact, contact.points.all())
    contact.sort_key = sort_key(contact.name, person=True)
    contact.search_scope = row_scope(contact.customer)
    contact.save()


def _choose(
    survivor: models.Model, merged: models.Model, fields: list[str], choices: dict[str, str]
) -> dict[str, Any]:
    """Apply the surviving value per field: "merged" takes the other record's value; unspecified
    fields keep the survivor's, filled from the merged record where the survivor's is empty."""
    unknown = set(choices) - set(fields)
    if unknown or any(v not in ("survivor", "merged") for v in choices.values()):
        raise ValidationFailed(
            f"字段选择无效：{', '.join(sorted(unknown)) or '取值只能是 survivor / merged'}",
            f"invalid field choices: {', '.join(sorted(unknown)) or 'values must be survivor or merged'}",
            field="fields",
            code="invalid_choice",
        )
    before = snapshot(survivor, fields)
    for name in fields:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        if choices.get(name) == "merged" or (
            name not in choices and mine in ("", None) and theirs not in ("", None)
        ):
            setattr(survivor, name, theirs)
    return before


@transaction.atomic
def customer_merge(
    *, actor: User, source: Source, survivor: Customer, merged: Customer, fields: dict[str, str] | None = None
) -> MergeRecord:
    if survivor.pk == merged.pk:
        raise ValidationFailed(
            "不能把客户合并到自己", "cannot merge a customer into itself", code="same_record"
        )
    if not (_may_change(actor, survivor) and _may_change(actor, merged)):
        raise PermissionDenied(
            "只有两位客户的负责人、其经理或管理员可以合并",
            "only the owner of both customers, their manager or an administrator may merge them",
            code="merge_forbidden",
        )
    survivor = Customer.objects.select_for_update().get(pk=survivor.pk)
    merged = Customer.objects.select_for_update().get(pk=merged.pk)
    audit_fields = [*CUSTOMER_FIELDS, "owner", "team"]
    before = _choose(survivor, merged, CUSTOMER_FIELDS, fields or {})
    merged_snapshot = _serialise(merged)
    # Its tags are rows of the many-to-many table: moved (or dropped) and restored like any other.
    merged_snapshot["fields"].pop("tags", None)
    moved, dropped = _move(Customer, merged.pk, survivor.pk)
    merged_id, merged_name = merged.pk, merged.name
    Customer.objects.filter(pk=merged_id).delete()
    _refresh_customer(survivor)
    after = snapshot(survivor, audit_fields)
    return _recorded(
        actor=actor,
        source=source,
        survivor=survivor,
        customer_id=survivor.pk,
        merged=(merged_id, merged_name, merged_snapshot),
        before=before,
        after=after,
        moved=moved,
        dropped=dropped,
    )


def _recorded(
    *,
    actor: User,
    source: Source,
    survivor: Customer | Contact,
    customer_id: int,
    merged: tuple[int, str, dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
    moved: Any,
    dropped: Any,
    also_customer_id: int | None = None,
) -> MergeRecord:
    """The merge's undo record and its audit event on the survivor (what changed, what was merged)."""
    merged_id, merged_name, merged_snapshot = merged
    kind = "customer" if isinstance(survivor, Customer) else "contact"
    record = MergeRecord.objects.create(
        object_type=kind,
        survivor_id=survivor.pk,
        merged_id=merged_id,
        merged_repr=merged_name[:200],
        snapshot=merged_snapshot,
        survivor_before=before,
        moved=moved,
        dropped=dropped,
        created_by=actor,
    )
    changes: dict[str, list[Any]] = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    changes["_merge"] = [None, record.pk]
    changes["merged"] = [merged_name, None]
    audit_record(
        actor=actor,
        source=source,
        action=f"{kind}.merge",
        obj=survivor,
        customer_id=customer_id,
        changes=changes,
    )
    return record


@transaction.atomic
def contact_merge(
    *, actor: User, source: Source, survivor: Contact, merged: Contact, fields: dict[str, str] | None = None
) -> MergeRecord:
    if survivor.pk == merged.pk:
        raise ValidationFailed(
            "不能把联系人合并到自己", "cannot merge a contact into itself", code="same_record"
        )
    if not (_may_change(actor, survivor.customer) and _may_change(actor, merged.customer)):
        raise PermissionDenied(
            "无权合并这两位联系人", "you may not merge these contacts", code="merge_forbidden"
        )
    survivor = Contact.objects.select_for_update().select_related("customer").get(pk=survivor.pk)
    merged = Contact.objects.select_for_update().get(pk=merged.pk)
    before = _choose(survivor, merged, CONTACT_FIELDS, fields or {})
    merged_snapshot = _serialise(merged)
    moved, dropped = _move(Contact, merged.pk, survivor.pk)
    # The same number twice on one person is noise: keep the survivor's, drop (and remember) the copy.
    seen: set[tuple[str, str]] = set()
    for point in ContactPoint.objects.filter(contact_id=survivor.pk).order_by("position", "id"):
        key = (point.kind, point.value)
        if key in seen:
            copy = _serialise(point)
            copy["fields"]["contact"] = merged.pk  # it came from the merged contact; undo returns it there
            dropped.append(copy)
            point.delete()
        seen.add(key)
    merged_id, merged_name, merged_customer = merged.pk, merged.name, merged.customer_id
    Contact.objects.filter(pk=merged_id).delete()
    _refresh_contact(survivor)
    after = snapshot(survivor, CONTACT_FIELDS)
    record = _recorded(
        actor=actor,
        source=source,
        survivor=survivor,
        customer_id=survivor.customer_id,
        merged=(merged_id, merged_name, merged_snapshot),
        before=before,
        after=after,
        moved=moved,
        dropped=dropped,
        # A person merged across two customers: the event is on both timelines.
        also_customer_id=merged_customer if merged_customer != survivor.customer_id else None,
    )
    return record


@transaction.atomic
def merge_undo(*, actor: User, source: Source, record: MergeRecord) -> models.Model:
    """Re-create the merged-away record and move its rows back. Returns the restored record."""
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    if record.undone_at is not None:
        raise Conflict("该合并已撤销", "this merge has already been undone", code="already_undone")
    model: type[Customer] | type[Contact] = Customer if record.object_type == "customer" else Contact
    survivor = model.objects.select_for_update().filter(pk=record.survivor_id).first()
    if survivor is None:
        raise NotFound("保留的记录", "surviving record")
    owner_check = survivor if isinstance(survivor, Customer) else survivor.customer
    if not _may_change(actor, owner_check):
        raise PermissionDenied("无权撤销该合并", "you may not undo this merge", code="merge_forbidden")
    snap = dict(record.snapshot)
    restored_obj = next(serializers.deserialize("json", json.dumps([snap]), ignorenonexistent=True))
    restored_obj.save()
    restored = restored_obj.object
    for key, ids in record.moved.items():
        fk = _fk_from_key(key)
        fk.model._default_manager.filter(pk__in=ids, **{fk.attname: record.survivor_id}).update(
            **{fk.attname: record.merged_id}
        )
    for item in record.dropped:
        for obj in serializers.deserialize("json", json.dumps([item]), ignorenonexistent=True):
            try:
                with transaction.atomic():
                    obj.save()
            except IntegrityError:
                continue  # its twin is gone or changed since; nothing to restore it beside
    fields = CUSTOMER_FIELDS if isinstance(survivor, Customer) else CONTACT_FIELDS
    for name in fields:
        if name in record.survivor_before:
            field = survivor._meta.get_field(name)
            assert isinstance(field, models.Field)
            setattr(survivor, name, field.to_python(record.survivor_before[name]))
    if isinstance(survivor, Customer):
        _refresh_customer(survivor)
        assert isinstance(restored, Customer)
        _refresh_customer(restored)
        customer_id = survivor.pk
    else:
        assert isinstance(survivor, Contact) and isinstance(restored, Contact)
        _refresh_contact(survivor)
        _refresh_contact(restored)
        customer_id = survivor.customer_id
    record.undone_at = timezone.now()
    record.save(update_fields=["undone_at"])
    audit_record(
        actor=actor,
        source=source,
        action="merge.undo",
        obj=restored,
        customer_id=customer_id,
        changes={"_merge": [record.pk, None], "restored": [None, str(restored)]},
    )
    if isinstance(restored, Customer):
        audit_record(
            actor=actor,
            source=source,
            action="merge.undo",
            obj=restored,
            customer_id=restored.pk,
            changes={"_merge": [record.pk, None], "restored": [None, str(restored)]},
        )
    return restored
