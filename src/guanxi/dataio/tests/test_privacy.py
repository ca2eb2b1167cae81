from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.apps import apps
from django.db import models

from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Contact
from guanxi.customers.selectors import contact_list
from guanxi.customers.services import contact_update
from guanxi.dataio.models import ErasureTombstone
from guanxi.dataio.privacy import person_erase, person_export
from guanxi.testing.factories import make_contact, make_customer, make_interaction

IDENTIFIERS = ("张伟", "13900139000", "zhangwei@example.com")


def database_mentions(text: str) -> list[str]:
    """Every text column of every table that contains ``text``."""
    found = []
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        for f in fields:
            lookup = f"{f.name}__contains"
            try:
                if model._default_manager.filter(**{lookup: text}).exists():
                    found.append(f"{model._meta.label}.{f.name}")
            except Exception:
                if any(
                    text in json.dumps(v, ensure_ascii=False)
                    for v in model._default_manager.values_list(f.name, flat=True)
                ):
                    found.append(f"{model._meta.label}.{f.name}")
    return found


def test_person_export_holds_profile_interactions_and_history(world):
    contact = world.customer.contacts.get()
    contact_update(actor=world.owner, source=Source.UI, contact=contact, hobbies="高尔夫")
    data = person_export(actor=world.owner, target=contact)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {
        "person.json",
        "customers.contact.csv",
        "customers.contactpoint.csv",
        "audit.auditevent.csv",
    } <= names
    person = json.loads(archive.read("person.json"))
    assert person["customers.contact"][0]["name"] == "张伟"
    assert {p["value"] for p in person["customers.contactpoint"]} == {
        "+8613900139000",
        "zhangwei@example.com",
    }
    assert any(e["action"] == "contact.update" for e in person["audit.auditevent"])
    assert person["engagement.interaction_contacts"]
    assert archive.read("customers.contact.csv").startswith("\ufeff".encode())
    assert AuditEvent.objects.filter(action="person.export").exists()


def test_outsider_cannot_export_or_erase(world):
    contact = world.customer.contacts.get()
    for user in (world.outsider, world.teammate):
        with pytest.raises(PermissionDenied):
            person_export(actor=user, target=contact)
        with pytest.raises(PermissionDenied):
            person_erase(actor=user, target=contact)


def test_erasure_leaves_no_trace_of_name_phone_or_email(world):
    contact = world.customer.contacts.get()
    make_interaction(world.customer, summary="和张伟通电话 13900139000，他下周来访", contacts=[contact])
    contact_update(actor=world.owner, source=Source.UI, contact=contact, title="采购总监")
    assert database_mentions("张伟")
    tombstone = person_erase(actor=world.owner, target=contact, reason="PIPL-2026-001")
    for ident in IDENTIFIERS:
        assert database_mentions(ident) == [], ident
        assert contact_list(user=world.owner, q=ident).items == []
    assert ErasureTombstone.objects.get() == tombstone
    contact.refresh_from_db()
    assert contact.name.startswith("已删除") and contact.points.count() == 0
    event = AuditEvent.objects.get(action="person.erase")
    assert event.changes == {"tombstone": [None, tombstone.pk]}
    # the company and the rest of its history stay
    assert world.customer.interactions.count() == 2


def test_erasing_a_person_customer(world):
    person = make_customer(world.owner, name="欧阳娜娜", kind="person", phone="13811112222")
    make_contact(person, name="欧阳娜娜", phones=["13811112222"])
    person_erase(actor=world.owner, target=person)
    assert database_mentions("欧阳娜娜") == [] and database_mentions("13811112222") == []
    assert Contact.objects.filter(customer=person).count() == 1
