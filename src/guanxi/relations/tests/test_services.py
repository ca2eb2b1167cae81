"""Writes: bad input is rejected with a clear message in both languages, and every change is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.audit.selectors import field_history
from guanxi.core.errors import Conflict, GuanxiError, NotFound, PermissionDenied, ValidationFailed
from guanxi.relations import services
from guanxi.relations.models import DecisionRole, PersonLink, Playbook, Referral
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(world):
    zhang = world.customer.contacts.get(name="张伟")
    boss = make_contact(world.customer, name="李总", title="总经理")
    elsewhere = make_customer(world.outsider, name="陈冲的客户")
    hidden = make_contact(elsewhere, name="隐藏的人")
    return zhang, boss, hidden


def _assert_bilingual(exc: GuanxiError, code: str) -> None:
    assert exc.code == code
    assert exc.message_zh and exc.message_en and exc.message_zh != exc.message_en


def test_decision_roles_stance_and_warmth_are_set_and_audited_on_the_contact(world, people):
    _, boss, _ = people
    roles, stance, warmth = services.contact_decision_set(
        actor=world.owner,
        source=Source.UI,
        contact=boss,
        roles=["decision_maker", "sponsor"],
        stance="supporter",
        warmth=4,
    )
    assert (roles, stance, warmth) == (["decision_maker", "sponsor"], "supporter", 4)
    roles, _, _ = services.contact_decision_set(
        actor=world.owner, source=Source.API, contact=boss, roles=["sponsor", "influencer"]
    )
    assert roles == ["sponsor", "influencer"]
    assert set(DecisionRole.objects.filter(contact=boss).values_list("role", flat=True)) == {
        "sponsor",
        "influencer",
    }
    history = field_history(object_type="contact", object_id=boss.pk)
    by_field = {(c.field, c.source) for c in history}
    assert ("decision_roles", "api") in by_field and ("stance", "ui") in by_field
    latest = next(c for c in history if c.field == "decision_roles")
    assert latest.label == "决策角色"
    assert latest.after_display == "内部支持者、影响者"
    assert latest.actor == str(world.owner)
    assert AuditEvent.objects.filter(action="contact.decision", customer_id=world.customer.pk).count() == 2


def test_unknown_role_stance_and_warmth_are_rejected(world, people):
    _, boss, _ = people
    with pytest.raises(ValidationFailed) as exc:
        services.contact_decision_set(actor=world.owner, source=Source.UI, contact=boss, roles=["boss"])
    _assert_bilingual(exc.value, "unknown_role")
    assert "boss" in exc.value.message_en
    with pytest.raises(ValidationFailed) as exc:
        services.contact_decision_set(actor=world.owner, source=Source.UI, contact=boss, stance="hostile")
    _assert_bilingual(exc.value, "unknown_stance")
    with pytest.raises(ValidationFailed) as exc:
        services.contact_decision_set(actor=world.owner, source=Source.UI, contact=boss, warmth=9)
    _assert_bilingual(exc.value, "invalid_warmth")
    assert not DecisionRole.objects.exists()


def test_self_link_is_rejected(world, people):
    zhang, _, _ = people
    with pytest.raises(ValidationFailed) as exc:
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=zhang.pk,
            to_contact_id=zhang.pk,
            kind="friend",
        )
    _assert_bilingual(exc.value, "self_link")


def test_unknown_link_kind_and_bad_strength_are_rejected(world, people):
    zhang, boss, _ = people
    with pytest.raises(ValidationFailed) as exc:
        services.person_link_create(
            actor=world.owner, source=Source.UI, from_contact_id=zhang.pk, to_contact_id=boss.pk, kind="enemy"
        )
    _assert_bilingual(exc.value, "unknown_link_kind")
    with pytest.raises(ValidationFailed) as exc:
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=zhang.pk,
            to_contact_id=boss.pk,
            kind="friend",
            strength=0,
        )
    _assert_bilingual(exc.value, "invalid_strength")


def test_link_to_a_person_at_an_invisible_customer_is_rejected(world, people):
    zhang, _, hidden = people
    with pytest.raises(NotFound) as exc:
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=zhang.pk,
            to_contact_id=hidden.pk,
            kind="friend",
        )
    assert exc.value.message_en == "contact not found"
    assert exc.value.message_zh == "联系人不存在或无权访问"
    assert not PersonLink.objects.exists()


def test_symmetric_links_are_stored_once_and_duplicates_conflict(world, people):
    zhang, boss, _ = people
    link = services.person_link_create(
        actor=world.owner, source=Source.UI, from_contact_id=boss.pk, to_contact_id=zhang.pk, kind="friend"
    )
    assert (link.from_contact_id, link.to_contact_id) == (min(zhang.pk, boss.pk), max(zhang.pk, boss.pk))
    with pytest.raises(Conflict):
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=zhang.pk,
            to_contact_id=boss.pk,
            kind="friend",
        )
    # "reports to" has a direction: both ways are different links
    services.person_link_create(
        actor=world.owner,
        source=Source.UI,
        from_contact_id=zhang.pk,
        to_contact_id=boss.pk,
        kind="reports_to",
    )
    assert AuditEvent.objects.filter(action="link.create", customer_id=world.customer.pk).count() == 2


def test_cross_customer_link_is_audited_on_both_customers(world, people):
    zhang, _, _ = people
    other = make_customer(world.owner, name="阿里巴巴")
    wang = make_contact(other, name="王总")
    link = services.person_link_create(
        actor=world.owner,
        source=Source.UI,
        from_contact_id=zhang.pk,
        to_contact_id=wang.pk,
        kind="former_colleague",
    )
    assert set(AuditEvent.objects.filter(action="link.create").values_list("customer_id", flat=True)) == {
        world.customer.pk,
        other.pk,
    }
    services.person_link_delete(actor=world.owner, source=Source.UI, link=link)
    assert AuditEvent.objects.filter(action="link.delete").count() == 2


def test_referral_needs_exactly_one_visible_referrer_and_not_itself(world, people):
    zhang, _, hidden = people
    customer = world.customer
    other = make_customer(world.owner, name="腾达")
    with pytest.raises(ValidationFailed) as exc:
        services.referral_create(actor=world.owner, source=Source.UI, customer=other)
    _assert_bilingual(exc.value, "one_referrer")
    with pytest.raises(ValidationFailed):
        services.referral_create(
            actor=world.owner,
            source=Source.UI,
            customer=other,
            referrer_customer_id=customer.pk,
            referrer_name="老周",
        )
    with pytest.raises(ValidationFailed) as exc:
        services.referral_create(
            actor=world.owner, source=Source.UI, customer=customer, referrer_contact_id=zhang.pk
        )
    _assert_bilingual(exc.value, "self_referral")
    with pytest.raises(NotFound):
        services.referral_create(
            actor=world.owner, source=Source.UI, customer=other, referrer_contact_id=hidden.pk
        )
    with pytest.raises(NotFound):
        services.referral_create(
            actor=world.owner, source=Source.UI, customer=other, referrer_customer_id=hidden.customer_id
        )
    with pytest.raises(ValidationFailed) as exc:
        services.referral_create(
            actor=world.owner,
            source=Source.UI,
            customer=other,
            referrer_name="老周",
            referred_on=timezone.localdate() + dt.timedelta(days=2),
        )
    _assert_bilingual(exc.value, "future_date")
    assert not Referral.objects.exists()
    referral = services.referral_create(
        actor=world.owner, source=Source.UI, customer=other, referrer_contact_id=zhang.pk, note="老朋友"
    )
    assert referral.referrer_customer_id == customer.pk and referral.referrer_kind == "contact"
    assert set(AuditEvent.objects.filter(action="referral.create").values_list("customer_id", flat=True)) == {
        customer.pk,
        other.pk,
    }
    with pytest.raises(Conflict):
        services.referral_create(
            actor=world.owner, source=Source.UI, customer=other, referrer_contact_id=zhang.pk
        )


def test_only_an_administrator_edits_playbooks(world):
    playbook = Playbook.objects.get(relationship_type="channel")
    for user in (world.owner, world.manager):
        with pytest.raises(PermissionDenied) as exc:
            services.playbook_update(actor=user, source=Source.UI, playbook=playbook, cadence_days=7)
        _assert_bilingual(exc.value, "admin_only")
    updated = services.playbook_update(
        actor=world.admin,
        source=Source.UI,
        playbook=playbook,
        cadence_days=7,
        actions_en="Visit monthly\nCheck margin",
    )
    assert updated.cadence_days == 7
    assert updated.lines("actions", "en") == ["Visit monthly", "Check margin"]
    event = AuditEvent.objects.get(action="playbook.update")
    assert event.changes["cadence_days"] == [14, 7]
    with pytest.raises(ValidationFailed) as exc:
        services.playbook_update(actor=world.admin, source=Source.UI, playbook=playbook, cadence_days=0)
    _assert_bilingual(exc.value, "invalid_cadence")
    with pytest.raises(ValidationFailed):
        services.playbook_update(actor=world.admin, source=Source.UI, playbook=playbook, summary_zh="  ")
    with pytest.raises(ValidationFailed):
        services.playbook_update(actor=world.admin, source=Source.UI, playbook=playbook, basis="money")


def test_playbooks_ship_with_the_four_defaults_in_both_languages(db):
    books = {p.relationship_type: p for p in Playbook.objects.all()}
    assert {t: p.basis for t, p in books.items()} == {
        "upstream": "loyalty",
        "partner": "feeling",
        "channel": "profit",
        "end": "reason",
    }
    for p in books.values():
        assert p.lines("actions", "zh") and p.lines("actions", "en") and p.lines("checks", "en")
    assert "margin" in books["channel"].checks_en and "利润" in books["channel"].checks_zh
    assert "between projects" in books["partner"].summary_en


def test_playbooks_import_is_all_or_nothing(world):
    with pytest.raises(ValidationFailed):
        services.playbooks_import(
            actor=None,
            source=Source.CLI,
            items=[{"relationship_type": "end", "cadence_days": 60}, {"relationship_type": "nope"}],
        )
    assert Playbook.objects.get(relationship_type="end").cadence_days == 30
    assert (
        services.playbooks_import(
            actor=None, source=Source.CLI, items=[{"relationship_type": "end", "cadence_days": 60}]
        )
        == 1
    )
    with pytest.raises(PermissionDenied):
        services.playbooks_import(actor=world.owner, source=Source.UI, items=[])


def test_profile_review_is_audited_and_refuses_future_dates(world):
    customer = world.customer
    services.customer_profile_review(actor=world.owner, source=Source.UI, customer=customer)
    customer.refresh_from_db()
    assert customer.profile_reviewed_on == timezone.localdate()
    change = field_history(object_type="customer", object_id=customer.pk, field="profile_reviewed_on")[0]
    assert change.label == "档案复核日期" and change.source_label == "界面"
    with pytest.raises(ValidationFailed) as exc:
        services.customer_profile_review(
            actor=world.owner,
            source=Source.UI,
            customer=customer,
            reviewed_on=timezone.localdate() + dt.timedelta(days=1),
        )
    _assert_bilingual(exc.value, "future_date")
