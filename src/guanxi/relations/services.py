"""Every write of relationship data: validated, in one transaction, audited on the customer(s) concerned.

The callers resolve the objects the user named through the selectors (404 outside their scope);
the services check again that every *other* object a write touches — the far end of a link, the
referrer — is visible to the actor, so no path (UI, API, CLI) can tie visible data to invisible data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, require
from guanxi.customers.models import Contact, Customer, RelationshipType
from guanxi.customers.selectors import contact_queryset_for_user, customer_queryset_for_user
from guanxi.relations.models import (
    SYMMETRIC_LINKS,
    Basis,
    ContactStanding,
    DecisionRole,
    DecisionRoleKind,
    LinkKind,
    PersonLink,
    Playbook,
    Referral,
    ReferrerKind,
    Stance,
    Warmth,
)

# --- Decision chain ------------------------------------------------------------------------------


def _check_roles(roles: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for role in roles:
        require(
            role in DecisionRoleKind.values,
            f"未知决策角色：{role}（可选：{'、'.join(DecisionRoleKind.values)}）",
            f"unknown decision role: {role} (one of {', '.join(DecisionRoleKind.values)})",
            field="roles",
            code="unknown_role",
        )
        if role not in cleaned:
            cleaned.append(role)
    return cleaned


@transaction.atomic
def contact_decision_set(
    *,
    actor: User | None,
    source: Source,
    contact: Contact,
    roles: Iterable[str] | None = None,
    stance: str | None = None,
    warmth: int | None = None,
) -> tuple[list[str], str, int]:
    """Set a contact's decision roles (replacing them), stance and warmth; ``None`` leaves one as is."""
    new_roles = _check_roles(roles) if roles is not None else None
    if stance is not None:
        require(
            stance in Stance.values,
            f"未知立场：{stance}",
            f"unknown stance: {stance} (one of {', '.join(Stance.values)})",
            field="stance",
            code="unknown_stance",
        )
    if warmth is not None:
        require(
            isinstance(warmth, int) and not isinstance(warmth, bool) and 0 <= warmth <= 5,
            "关系温度应在0到5之间",
            "warmth must be between 0 and 5",
            field="warmth",
            code="invalid_warmth",
        )
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before_roles = list(
        DecisionRole.objects.filter(contact=contact).order_by("id").values_list("role", flat=True)
    )
    standing = ContactStanding.objects.filter(contact=contact).first()
    before_stance = standing.stance if standing else Stance.UNKNOWN
    before_warmth = standing.warmth if standing else Warmth.UNKNOWN
    changes: dict[str, list[Any]] = {}
    after_roles = before_roles
    if new_roles is not None and sorted(new_roles) != sorted(before_roles):
        DecisionRole.objects.filter(contact=contact).exclude(role__in=new_roles).delete()
        DecisionRole.objects.bulk_create(
            [
                DecisionRole(customer_id=contact.customer_id, contact=contact, role=r)
                for r in new_roles
                if r not in before_roles
            ]
        )
        after_roles = [r for r in before_roles if r in new_roles] + [
            r for r in new_roles if r not in before_roles
        ]
        changes["decision_roles"] = [before_roles, after_roles]
    after_stance = stance if stance is not None else before_stance
    after_warmth = warmth if warmth is not None else before_warmth
    if after_stance != before_stance:
        changes["stance"] = [before_stance, after_stance]
    if after_warmth != before_warmth:
        changes["warmth"] = [before_warmth, after_warmth]
    if "stance" in changes or "warmth" in changes:
        if standing is None:
            standing = ContactStanding(customer_id=contact.customer_id, contact=contact)
        standing.stance, standing.warmth = after_stance, after_warmth
        standing.save()
    if changes:
        audit_record(
            actor=actor,
            source=source,
            action="contact.decision",
            obj=contact,
            customer_id=contact.customer_id,
            changes=changes,
        )
    return after_roles, after_stance, after_warmth


# --- Links between people ------------------------------------------------------------------------


def _visible_contacts(actor: User, ids: list[int]) -> dict[int, Contact]:
    found = {c.pk: c for c in contact_queryset_for_user(actor).filter(pk__in=ids).select_related("customer")}
    for contact_id in ids:
        if contact_id not in found:
            raise NotFound("联系人", "contact")
    return found


def _check_strength(strength: int) -> None:
    require(
        isinstance(strength, int) and not isinstance(strength, bool) and 1 <= strength <= 5,
        "强度应在1到5之间",
        "strength must be between 1 and 5",
        field="strength",
        code="invalid_strength",
    )


def _link_audit(
    actor: User | None, source: Source, action: str, link: PersonLink, changes: dict[str, Any]
) -> None:
    for customer_id in dict.fromkeys([link.from_customer_id, link.to_customer_id]):
        audit_record(
            actor=actor, source=source, action=action, obj=link, customer_id=customer_id, changes=changes
        )


@transaction.atomic
def person_link_create(
    *,
    actor: User,
    source: Source,
    from_contact_id: int,
    to_contact_id: int,
    kind: str,
    strength: int = 3,
    note: str = "",
) -> PersonLink:
    """Link two people. Both must be visible to the actor (their customers may differ)."""
    require(
        kind in LinkKind.values,
        f"未知关系类型：{kind}",
        f"unknown link kind: {kind} (one of {', '.join(LinkKind.values)})",
        field="kind",
        code="unknown_link_kind",
    )
    require(
        from_contact_id != to_contact_id,
        "不能把一个人和他自己关联",
        "a person cannot be linked to themselves",
        field="to_contact_id",
        code="self_link",
    )
    _check_strength(strength)
    note = (note or "").strip()
    require(len(note) <= 200, "备注不超过200字", "note: at most 200 characters", field="note")
    contacts = _visible_contacts(actor, [from_contact_id, to_contact_id])
    if kind in SYMMETRIC_LINKS and from_contact_id > to_contact_id:
        from_contact_id, to_contact_id = to_contact_id, from_contact_id
    a, b = contacts[from_contact_id], contacts[to_contact_id]
    if PersonLink.objects.filter(from_contact=a, to_contact=b, kind=kind).exists():
        raise Conflict("这条关系已经存在", "this link already exists", code="duplicate_link")
    link = PersonLink(
        from_contact=a,
        to_contact=b,
        from_customer_id=a.customer_id,
        to_customer_id=b.customer_id,
        kind=kind,
        strength=strength,
        note=note,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:  # a concurrent request created the same link
        raise Conflict("这条关系已经存在", "this link already exists", code="duplicate_link") from None
    changes = {
        "from": [None, a.name],
        "to": [None, b.name],
        "kind": [None, kind],
        "strength": [None, strength],
    }
    _link_audit(actor, source, "link.create", link, changes)
    return link


@transaction.atomic
def person_link_update(
    *, actor: User, source: Source, link: PersonLink, strength: int | None = None, note: str | None = None
) -> PersonLink:
    link = PersonLink.objects.select_for_update().select_related("from_contact", "to_contact").get(pk=link.pk)
    changes: dict[str, list[Any]] = {}
    if strength is not None:
        _check_strength(strength)
        if strength != link.strength:
            changes["strength"] = [link.strength, strength]
            link.strength = strength
    if note is not None:
        note = note.strip()
        require(len(note) <= 200, "备注不超过200字", "note: at most 200 characters", field="note")
        if note != link.note:
            changes["note"] = [link.note, note]
            link.note = note
    if changes:
        link.save(update_fields=["strength", "note"])
        _link_audit(actor, source, "link.update", link, changes)
    return link


@transaction.atomic
def person_link_delete(*, actor: User, source: Source, link: PersonLink) -> None:
    changes = {
        "from": [link.from_contact.name, None],
        "to": [link.to_contact.name, None],
        "kind": [link.kind, None],
    }
    pk = link.pk
    link.delete()
    link.pk = pk
    _link_audit(actor, source, "link.delete", link, changes)


# --- Referrals -----------------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    contact_id: int | None = None,
    referrer_customer_id: int | None = None,
    referrer_contact_id: int | None = None,
    referrer_user_id: int | None = None,
    referrer_name: str = "",
    referred_on: dt.date | None = None,
    note: str = "",
) -> Referral:
    """Record who introduced ``customer`` (or one of its people): exactly one referrer — a visible
    customer, a contact at a visible customer, one of our users, or an outside partner by name."""
    referrer_name = (referrer_name or "").strip()
    given = [
        x is not None and x != ""
        for x in (referrer_customer_id, referrer_contact_id, referrer_user_id, referrer_name)
    ]
    require(
        sum(given) == 1,
        "请指定且只指定一个介绍人（客户、联系人、同事或外部伙伴）",
        "give exactly one referrer: a customer, a contact, a user or an outside partner's name",
        field="referrer",
        code="one_referrer",
    )
    require(len(referrer_name) <= 100, "外部介绍人不超过100字", "referrer name: at most 100 characters")
    note = (note or "").strip()
    require(len(note) <= 500, "备注不超过500字", "note: at most 500 characters", field="note")
    today = timezone.localdate()
    referred_on = referred_on or today
    require(
        referred_on <= today,
        "介绍日期不能在未来",
        "the referral date cannot be in the future",
        field="referred_on",
        code="future_date",
    )
    referral = Referral(customer=customer, referred_on=referred_on, note=note, created_by=actor)
    if contact_id is not None:
        contact = Contact.objects.filter(pk=contact_id, customer=customer).first()
        require(
            contact is not None,
            "被介绍的联系人不属于该客户",
            "the referred contact does not belong to this customer",
            field="contact_id",
            code="contact_not_of_customer",
        )
        referral.contact = contact
    if referrer_contact_id is not None:
        referrer_contact = _visible_contacts(actor, [referrer_contact_id])[referrer_contact_id]
        referral.referrer_kind = ReferrerKind.CONTACT
        referral.referrer_contact = referrer_contact
        referral.referrer_customer = referrer_contact.customer
    elif referrer_customer_id is not None:
        referrer_customer = customer_queryset_for_user(actor).filter(pk=referrer_customer_id).first()
        if referrer_customer is None:
            raise NotFound("介绍人客户", "referrer customer")
        referral.referrer_kind = ReferrerKind.CUSTOMER
        referral.referrer_customer = referrer_customer
    elif referrer_user_id is not None:
        user = User.objects.filter(pk=referrer_user_id, is_active=True).first()
        if user is None:
            raise NotFound("用户", "user")
        referral.referrer_kind = ReferrerKind.USER
        referral.referrer_user = user
    else:
        referral.referrer_kind = ReferrerKind.EXTERNAL
        referral.referrer_name = referrer_name
    require(
        referral.referrer_customer_id != customer.pk,
        "客户不能介绍自己",
        "a customer cannot refer itself",
        field="referrer",
        code="self_referral",
    )
    same: dict[str, Any] = {
        "contact_id": referral.contact_id,
        "referrer_kind": referral.referrer_kind,
        "referrer_customer_id": referral.referrer_customer_id,
        "referrer_contact_id": referral.referrer_contact_id,
        "referrer_user_id": referral.referrer_user_id,
        "referrer_name": referral.referrer_name,
    }
    duplicate = Referral.objects.filter(customer=customer, **same).exists()
    if duplicate:
        raise Conflict("这条转介绍已经记录过", "this referral is already recorded", code="duplicate_referral")
    referral.save()
    changes = {
        "referrer": [None, referral.referrer_label],
        "customer": [None, customer.name],
        "referred_on": [None, referred_on.isoformat()],
    }
    if referral.contact is not None:
        changes["contact"] = [None, referral.contact.name]
    for customer_id in dict.fromkeys([customer.pk, referral.referrer_customer_id]):
        if customer_id is not None:
            audit_record(
                actor=actor,
                source=source,
                action="referral.create",
                obj=referral,
                customer_id=customer_id,
                changes=changes,
            )
    return referral


@transaction.atomic
def referral_update(
    *,
    actor: User,
    source: Source,
    referral: Referral,
    referred_on: dt.date | None = None,
    note: str | None = None,
) -> Referral:
    changes: dict[str, list[Any]] = {}
    if referred_on is not None:
        require(
            referred_on <= timezone.localdate(),
            "介绍日期不能在未来",
            "the referral date cannot be in the future",
            field="referred_on",
            code="future_date",
        )
        if referred_on != referral.referred_on:
            changes["referred_on"] = [referral.referred_on.isoformat(), referred_on.isoformat()]
            referral.referred_on = referred_on
    if note is not None:
        note = note.strip()
        require(len(note) <= 500, "备注不超过500字", "note: at most 500 characters", field="note")
        if note != referral.note:
            changes["note"] = [referral.note, note]
            referral.note = note
    if changes:
        referral.save(update_fields=["referred_on", "note"])
        for customer_id in dict.fromkeys([referral.customer_id, referral.referrer_customer_id]):
            if customer_id is not None:
                audit_record(
                    actor=actor,
                    source=source,
                    action="referral.update",
                    obj=referral,
                    customer_id=customer_id,
                    changes=changes,
                )
    return referral


@transaction.atomic
def referral_delete(*, actor: User, source: Source, referral: Referral) -> None:
    changes = {"referrer": [referral.referrer_label, None], "customer": [referral.customer.name, None]}
    pk = referral.pk
    customers = [referral.customer_id, referral.referrer_customer_id]
    referral.delete()
    referral.pk = pk
    for customer_id in dict.fromkeys(customers):
        if customer_id is not None:
            audit_record(
                actor=actor,
                source=source,
                action="referral.delete",
                obj=referral,
                customer_id=customer_id,
                changes=changes,
            )


# --- Playbooks -----------------------------------------------------------------------------------

PLAYBOOK_TEXT_FIELDS = ("summary_zh", "summary_en", "actions_zh", "actions_en", "checks_zh", "checks_en")
PLAYBOOK_FIELDS = ("basis", "cadence_days", *PLAYBOOK_TEXT_FIELDS)


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(
            "只有管理员可以修改维护手册", "only an administrator may edit playbooks", code="admin_only"
        )


def _check_playbook(data: dict[str, Any]) -> None:
    unknown = set(data) - set(PLAYBOOK_FIELDS)
    require(
        not unknown,
        f"未知字段：{', '.join(sorted(unknown))}",
        f"unknown fields: {', '.join(sorted(unknown))}",
        code="unknown_field",
    )
    if "basis" in data:
        require(
            data["basis"] in Basis.values,
            f"未知维系基础：{data['basis']}",
            f"unknown basis: {data['basis']} (one of {', '.join(Basis.values)})",
            field="basis",
            code="unknown_basis",
        )
    if "cadence_days" in data:
        days = data["cadence_days"]
        require(
            isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= 365,
            "联系周期应在1到365天之间",
            "cadence must be between 1 and 365 days",
            field="cadence_days",
            code="invalid_cadence",
        )
    for name in PLAYBOOK_TEXT_FIELDS:
        if name in data:
            text = data[name]
            require(
                isinstance(text, str) and bool(text.strip()),
                f"{name} 不能为空",
                f"{name} may not be empty",
                field=name,
                code="required",
            )
            require(len(text) <= 5000, f"{name} 过长", f"{name}: at most 5000 characters", field=name)


@transaction.atomic
def playbook_update(*, actor: User | None, source: Source, playbook: Playbook, **data: Any) -> Playbook:
    """Edit a playbook (administrators only; ``actor=None`` is the command line run by the operator)."""
    _require_admin(actor)
    _check_playbook(data)
    playbook = Playbook.objects.select_for_update().get(pk=playbook.pk)
    changes: dict[str, list[Any]] = {}
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        if getattr(playbook, name) != value:
            changes[name] = [getattr(playbook, name), value]
            setattr(playbook, name, value)
    if changes:
        playbook.updated_by = actor
        playbook.save()
        audit_record(actor=actor, source=source, action="playbook.update", obj=playbook, changes=changes)
    return playbook


@transaction.atomic
def playbooks_import(*, actor: User | None, source: Source, items: list[dict[str, Any]]) -> int:
    """Update playbooks from a list of {relationship_type, ...fields}; all or nothing. Returns changes."""
    _require_admin(actor)
    require(isinstance(items, list), "需要一个列表", "expected a list of playbooks", code="invalid_format")
    changed = 0
    for item in items:
        require(
            isinstance(item, dict),
            "每一项应是一个对象",
            "each playbook must be an object",
            code="invalid_format",
        )
        data = dict(item)
        rtype = data.pop("relationship_type", None)
        require(
            rtype in RelationshipType.values,
            f"未知关系类型：{rtype}",
            f"unknown relationship type: {rtype}",
            field="relationship_type",
            code="unknown_relationship_type",
        )
        for ignored in ("updated_at", "updated_by", "id"):
            data.pop(ignored, None)
        playbook = Playbook.objects.filter(relationship_type=rtype).first()
        if playbook is None:
            _check_playbook(data)
            missing = set(PLAYBOOK_FIELDS) - set(data)
            require(
                not missing,
                f"缺少字段：{', '.join(sorted(missing))}",
                f"missing fields: {', '.join(sorted(missing))}",
                code="missing_field",
            )
            playbook = Playbook.objects.create(relationship_type=rtype, updated_by=actor, **data)
            audit_record(actor=actor, source=source, action="playbook.update", obj=playbook, changes={})
            changed += 1
            continue
        before = playbook.updated_at
        playbook = playbook_update(actor=actor, source=source, playbook=playbook, **data)
        changed += playbook.updated_at != before
    return changed


# --- Profile review ------------------------------------------------------------------------------


@transaction.atomic
def customer_profile_review(
    *, actor: User, source: Source, customer: Customer, reviewed_on: dt.date | None = None
) -> Customer:
    """The owner (or anyone who can see the customer) confirms the profile is current (档案复核)."""
    today = timezone.localdate()
    reviewed_on = reviewed_on or today
    require(
        reviewed_on <= today,
        "复核日期不能在未来",
        "the review date cannot be in the future",
        field="reviewed_on",
        code="future_date",
    )
    require(
        reviewed_on >= timezone.localdate(customer.created_at) - dt.timedelta(days=1),
        "复核日期不能早于客户创建日期",
        "the review date cannot be before the customer was created",
        field="reviewed_on",
        code="before_created",
    )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = customer.profile_reviewed_on
    if before != reviewed_on:
        customer.profile_reviewed_on = reviewed_on
        customer.save(update_fields=["profile_reviewed_on"])
        audit_record(
            actor=actor,
            source=source,
            action="customer.review",
            obj=customer,
            customer_id=customer.pk,
            changes={
                "profile_reviewed_on": [before.isoformat() if before else None, reviewed_on.isoformat()]
            },
        )
    return customer
