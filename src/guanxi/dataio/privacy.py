"""Personal-data requests (个人信息请求, PIPL art. 45/47, GDPR art. 15/17): export everything held
about one person, or erase them.

A *person* is a contact (联系人) or a customer that is a single person (个人客户; erasing one erases
its contacts too). What is "about" them is found generically: every row of any app that points at
the contact or customer by a foreign key, plus the audit events whose object or customer they are,
so packages added later are covered without touching this module.

Erasure anonymises instead of deleting where the business must keep the row (an order, an
interaction with a company): each text column of those rows has the person's identifiers — name,
phone numbers in every form, e-mail addresses, WeChat id — replaced, the same in the audit events'
before/after values and in pending background jobs' arguments; their phone/e-mail rows and dates
are deleted; search documents are rebuilt (the FTS triggers drop the old tokens). What remains is a
tombstone (ErasureTombstone) that says an erasure happened, when and by whom — nothing else.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable
from typing import Any

from django.core import serializers
from django.db import models, transaction

from guanxi.accounts.models import User
from guanxi.audit.models import AuditEvent, Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Contact, ContactPoint, ContactPointKind, Customer, CustomerKind
from guanxi.dataio.merge import _may_change, _relations
from guanxi.dataio.models import ErasureTombstone

REDACTED = "[已删除]"


def _rows_about(target: models.Model) -> list[tuple[type[models.Model], models.QuerySet[Any]]]:
    out = []
    for fk in _relations(type(target)):
        qs = fk.model._default_manager.filter(**{fk.attname: target.pk})
        out.append((fk.model, qs))
    return out


def _audit_about(contact_ids: list[int], customer_id: int | None) -> models.QuerySet[AuditEvent]:
    q = models.Q(object_type="contact", object_id__in=contact_ids)
    if customer_id is not None:
        q |= models.Q(customer_id=customer_id) | models.Q(object_type="customer", object_id=customer_id)
    return AuditEvent.objects.filter(q)


def _subject(target: Customer | Contact) -> tuple[Customer | None, list[Contact]]:
    if isinstance(target, Customer):
        return target, list(target.contacts.all())
    return None, [target]


def _check(actor: User, target: Customer | Contact) -> None:
    customer = target if isinstance(target, Customer) else target.customer
    if not _may_change(actor, customer):
        raise PermissionDenied(
            "只有负责人、其经理或管理员可以处理个人信息请求",
            "only the owner, their manager or an administrator may handle a personal-data request",
            code="privacy_forbidden",
        )


# --- export --------------------------------------------------------------------------------------


def person_export(*, actor: User, target: Customer | Contact) -> bytes:
    """A zip with ``person.json`` (everything, nested by table) and one CSV per table."""
    _check(actor, target)
    customer, contacts = _subject(target)
    tables: dict[str, list[dict[str, Any]]] = {}

    def add(objs: Iterable[models.Model]) -> None:
        for item in json.loads(serializers.serialize("json", list(objs))):
            fields = item["fields"]
            fields.pop("search_doc", None)
            fields.pop("search_scope", None)
            fields.pop("sort_key", None)
            tables.setdefault(item["model"], []).append({"id": item["pk"], **fields})

    if customer is not None:
        add([customer])
        for _model, qs in _rows_about(customer):
            add(qs)
    for contact in contacts:
        add([contact])
        for _model, qs in _rows_about(contact):
            add(qs)
    add(
        _audit_about([c.pk for c in contacts], customer.pk if customer else None).order_by("created_at", "id")
    )
    for rows in tables.values():
        unique = {r["id"]: r for r in rows}
        rows[:] = list(unique.values())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(tables, ensure_ascii=False, indent=2, default=str))
        for table, rows in tables.items():
            out = io.StringIO()
            columns = sorted({k for r in rows for k in r}, key=lambda k: (k != "id", k))
            writer = csv.writer(out)
            writer.writerow(columns)
            for r in rows:
                writer.writerow([_csv(r.get(k)) for k in columns])
            archive.writestr(f"{table}.csv", "\ufeff" + out.getvalue())
    with transaction.atomic():
        audit_record(
            actor=actor,
            source=Source.SYSTEM,
            action="person.export",
            obj=target,
            customer_id=customer.pk if customer else target.customer_id,  # type: ignore[union-attr]
            changes={"tables": [None, sorted(tables)]},
        )
    return buffer.getvalue()


def _csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


# --- erasure -------------------------------------------------------------------------------------


def _identifiers(customer: Customer | None, contacts: list[Contact]) -> list[str]:
    found: set[str] = set()
    people = [c.name for c in contacts]
    if customer is not None:
        people += [customer.name, customer.short_name, customer.phone, customer.email]
    for contact in contacts:
        found.add(contact.wechat_id)
        for point in contact.points.all():
            found.add(point.raw)
            found.add(point.value)
            if point.kind == ContactPointKind.PHONE:
                digits = re.sub(r"\D", "", point.value)
                found.add(digits)
                if digits.startswith("86") and len(digits) > 11:
                    found.add(digits[2:])
    found.update(people)
    # Longest first, so "张伟伟" is replaced before "张伟"; very short strings would hit unrelated text.
    return sorted({s.strip() for s in found if s and len(s.strip()) >= 2}, key=len, reverse=True)


def _scrub(value: Any, identifiers: list[str]) -> Any:
    if isinstance(value, str):
        for ident in identifiers:
            if ident in value:
                value = value.replace(ident, REDACTED)
        return value
    if isinstance(value, list):
        return [_scrub(v, identifiers) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, identifiers) for k, v in value.items()}
    return value


def _scrub_rows(qs: models.QuerySet[Any], identifiers: list[str]) -> int:
    model = qs.model
    fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and f.name not in ("search_doc", "search_scope", "sort_key")
        and not f.choices
    ]
    changed = 0
    for obj in qs.iterator(chunk_size=500):
        dirty = []
        for f in fields:
            old = getattr(obj, f.attname)
            new = _scrub(old, identifiers)
            if new != old:
                if isinstance(f, models.CharField) and isinstance(new, str) and f.max_length:
                    new = new[: f.max_length]
                setattr(obj, f.attname, new)
                dirty.append(f.attname)
        if dirty:
            model._default_manager.filter(pk=obj.pk).update(**{name: getattr(obj, name) for name in dirty})
            changed += 1
    return changed


@transaction.atomic
def person_erase(*, actor: User, target: Customer | Contact, reason: str = "") -> ErasureTombstone:
    from django_tasks_db.models import DBTaskResult

    from guanxi.customers.services import contact_search_doc, customer_search_doc
    from guanxi.engagement.models import Interaction
    from guanxi.engagement.services import interaction_search_doc

    _check(actor, target)
    if isinstance(target, Customer) and target.kind != CustomerKind.PERSON:
        raise PermissionDenied(
            "企业客户不是个人；请删除其联系人的个人信息",
            "a company is not a person: erase its contacts instead",
            code="not_a_person",
        )
    customer, contacts = _subject(target)
    contacts = list(Contact.objects.filter(pk__in=[c.pk for c in contacts]).prefetch_related("points"))
    identifiers = _identifiers(customer, contacts)
    counts: dict[str, int] = {}

    def bump(label: str, n: int) -> None:
        if n:
            counts[label] = counts.get(label, 0) + n

    # Rows pointing at the person: text scrubbed (orders, interactions, tasks, reminders, links …).
    for subject in [*contacts, *([customer] if customer else [])]:
        for model, qs in _rows_about(subject):
            if model is ContactPoint:
                bump(model._meta.label, qs.delete()[0])
                continue
            bump(model._meta.label, _scrub_rows(qs, identifiers))
    owner_customer_id = customer.pk if customer else contacts[0].customer_id
    # Interactions of the company mention the person in their summaries.
    interactions = Interaction.objects.filter(customer_id=owner_customer_id)
    bump("engagement.Interaction", _scrub_rows(interactions, identifiers))
    for interaction in interactions:
        doc = interaction_search_doc(interaction)
        if doc != interaction.search_doc:
            Interaction.objects.filter(pk=interaction.pk).update(search_doc=doc)
    bump(
        "audit.AuditEvent",
        _scrub_rows(_audit_about([c.pk for c in contacts], owner_customer_id), identifiers),
    )
    pending = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"])
    bump("django_tasks_db.DBTaskResult", _scrub_rows(pending, identifiers))

    for contact in contacts:
        for f in (
            "title",
            "department",
            "wechat_id",
            "background",
            "hobbies",
            "preferences",
            "communication_style",
            "home_location",
            "work_location",
            "notes",
            "gender",
            "personality",
            "preferred_channel",
        ):
            setattr(contact, f, "")
        contact.name = f"已删除 #{contact.pk}"
        contact.birthday = None
        contact.birthday_is_lunar = False
        contact.birthday_lunar_leap_month = False
        contact.search_doc = contact_search_doc(contact, [])
        contact.sort_key = "~"
        contact.save()
        bump("customers.Contact", 1)
    if customer is not None:
        customer.name = f"已删除客户 #{customer.pk}"
        for f in (
            "short_name",
            "address",
            "phone",
            "email",
            "website",
            "notes",
            "business_scope",
            "financial_notes",
            "district",
        ):
            setattr(customer, f, "")
        customer.latitude = customer.longitude = None
        customer.search_doc = customer_search_doc(customer)
        customer.sort_key = "~"
        customer.save()
        bump("customers.Customer", 1)
    tombstone = ErasureTombstone.objects.create(
        object_type="customer" if isinstance(target, Customer) else "contact",
        object_id=target.pk,
        erased_by=actor,
        reason=reason[:200],
        counts=counts,
    )
    audit_record(
        actor=actor,
        source=Source.SYSTEM,
        action="person.erase",
        obj=tombstone,
        customer_id=owner_customer_id,
        changes={"tombstone": [None, tombstone.pk]},
    )
    return tombstone
