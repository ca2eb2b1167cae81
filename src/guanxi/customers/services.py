"""Every write to customers and contacts: validated, in one transaction, audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction

from guanxi.accounts.models import Team, User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record, diff, snapshot
from guanxi.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    from_django_validation,
    require,
)
from guanxi.customers.models import (
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerShare,
    Tag,
)
from guanxi.customers.phones import normalise_phone
from guanxi.search import documents
from guanxi.search.pinyin import sort_key

CUSTOMER_FIELDS = [
    "kind",
    "name",
    "short_name",
    "business_scope",
    "industry",
    "province",
    "city",
    "district",
    "address",
    "latitude",
    "longitude",
    "size",
    "phone",
    "email",
    "website",
    "financial_notes",
    "credit_rating",
    "lead_source",
    "relationship_type",
    "status",
    "founded_on",
    "notes",
    "cadence_days",
]
CUSTOMER_AUDIT_FIELDS = [*CUSTOMER_FIELDS, "owner", "team"]
CONTACT_FIELDS = [
    "name",
    "gender",
    "title",
    "department",
    "wechat_id",
    "birthday",
    "birthday_is_lunar",
    "birthday_lunar_leap_month",
    "background",
    "hobbies",
    "preferences",
    "personality",
    "communication_style",
    "preferred_channel",
    "home_location",
    "work_location",
    "notes",
    "is_key",
    "language",
    "cadence_days",
]
MAX_TAGS = 30


def customer_search_doc(customer: Customer) -> str:
    return documents.build(
        names=[customer.name, customer.short_name]
        if customer.kind == CustomerKind.COMPANY
        else [customer.short_name],
        person_names=[customer.name] if customer.kind == CustomerKind.PERSON else [],
        phones=[customer.phone] if customer.phone else [],
        emails=[customer.email] if customer.email else [],
        texts=[customer.province, customer.city, customer.district],
    )


def contact_search_doc(contact: Contact, points: Iterable[ContactPoint]) -> str:
    points = list(points)
    return documents.build(
        person_names=[contact.name],
        phones=[p.raw for p in points if p.kind == ContactPointKind.PHONE]
        + [p.value for p in points if p.kind == ContactPointKind.PHONE],
        emails=[p.value for p in points if p.kind == ContactPointKind.EMAIL],
        texts=[contact.wechat_id, contact.title, contact.department],
    )


def _check_unknown(fields: dict[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    require(
        not unknown,
        f"未知字段：{', '.join(sorted(unknown))}",
        f"unknown fields: {', '.join(sorted(unknown))}",
    )


def _full_clean(obj: Customer | Contact, exclude: list[str]) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False)
    except DjangoValidationError as exc:
        raise from_django_validation(exc) from None


def _check_assignable(actor: User, owner: User, team: Team | None) -> None:
    """Who may own a customer: admins assign anyone, managers their teams' members, others only themselves."""
    if actor.is_admin or owner.pk == actor.pk:
        return
    if actor.is_manager:
        teams = managed_team_ids(actor)
        if owner.team_id in teams and (team is None or team.pk in teams):
            return
    raise PermissionDenied(
        "无权把客户分配给该用户",
        "you may not assign customers to this user",
        field="owner_id",
        code="owner_not_assignable",
    )


def _set_tags(customer: Customer, names: Iterable[str]) -> list[str]:
    cleaned = sorted({n.strip() for n in names if n and n.strip()})
    require(len(cleaned) <= MAX_TAGS, f"标签最多 {MAX_TAGS} 个", f"at most {MAX_TAGS} tags", field="tags")
    for n in cleaned:
        require(len(n) <= 40, "标签不超过40字", "a tag may have at most 40 characters", field="tags")
    tags = []
    for n in cleaned:
        tag, _ = Tag.objects.get_or_create(name=n)
        tags.append(tag)
    customer.tags.set(tags)
    return cleaned


@transaction.atomic
def customer_create(
    *,
    actor: User,
    source: Source,
    owner: User | None = None,
    team: Team | None = None,
    tags: Iterable[str] = (),
    **data: Any,
) -> Customer:
    _check_unknown(data, CUSTOMER_FIELDS)
    owner = owner or actor
    team = team if team is not None else owner.team
    _check_assignable(actor, owner, team)
    customer = Customer(owner=owner, team=team, **data)
    customer.name = (customer.name or "").strip()
    _full_clean(customer, exclude=["owner", "team", "search_doc", "sort_key"])
    customer.search_doc = customer_search_doc(customer)
    customer.search_scope = documents.scope(customer.owner_id, customer.team_id)
    customer.sort_key = sort_key(customer.name, person=customer.kind == CustomerKind.PERSON)
    customer.save()
    tag_names = _set_tags(customer, tags)
    changes = diff({}, snapshot(customer, CUSTOMER_AUDIT_FIELDS))
    if tag_names:
        changes["tags"] = [[], tag_names]
    audit_record(
        actor=actor,
        source=source,
        action="customer.create",
        obj=customer,
        customer_id=customer.pk,
        changes=changes,
    )
    return customer


def customer_scope(customer: Customer) -> str:
    """``documents.scope`` of a saved customer: its owner, its team and whoever it is shared with
    (one query)."""
    shares = list(CustomerShare.objects.filter(customer_id=customer.pk).values_list("user_id", "team_id"))
    return documents.scope(
        customer.owner_id,
        customer.team_id,
        shared_users=[user_id for user_id, _ in shares],
        shared_teams=[team_id for _, team_id in shares],
    )


def row_scope(customer: Customer) -> str:
    """The scope a new contact or interaction of ``customer`` is indexed under: its customer's."""
    return customer.search_scope or documents.scope(customer.owner_id, customer.team_id)


def _rescope_rows(customer: Customer) -> None:
    """A new owner, team or sharing: the customer's contacts and interactions are indexed under it too."""
    from guanxi.engagement.models import Interaction

    Contact.objects.filter(customer_id=customer.pk).update(search_scope=customer.search_scope)
    Interaction.objects.filter(customer_id=customer.pk).update(search_scope=customer.search_scope)


def share_changed(sender: Any, instance: CustomerShare, **kwargs: Any) -> None:
    """A share was saved or deleted: its rows' search keys (``u<user>`` / ``s<team>``,
    documents.scope) follow, in the same transaction (post_save / post_delete)."""
    found = (
        Customer.objects.filter(pk=instance.customer_id)
        .only("id", "owner_id", "team_id", "search_scope")
        .first()
    )
    if found is None:
        return  # the customer itself is being deleted
    scope = customer_scope(found)
    if scope != found.search_scope:
        found.search_scope = scope
        Customer.objects.filter(pk=found.pk).update(search_scope=scope)
        _rescope_rows(found)


# documents.scope in SQL for a customer shared with nobody, for the repair below: "o<owner>",
# and with a team " t<team>".
_SCOPE_SQL = "'o' || owner_id || CASE WHEN team_id IS NULL THEN '' ELSE ' t' || team_id END"
_NOT_SHARED_SQL = (
    "NOT EXISTS (SELECT 1 FROM customers_customershare s WHERE s.customer_id = customers_customer.id)"
)
_ROW_SCOPE_SQL = "(SELECT c.search_scope FROM customers_customer c WHERE c.id = {table}.customer_id)"


def search_scopes_repair() -> int:
    """Re-derive every row's search scope from its customer's owner, team and shares, where it differs.

    The services keep scopes current on every write; this catches writes made around them
    (manual SQL, restores) and a contact or note added while its customer was being reassigned.
    Set-based: one UPDATE per table, and the few shared customers' keys (which list their
    grantees, in order) in Python. Returns the number of rows repaired.
    """
    from guanxi.engagement.models import Interaction

    repaired: int = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE customers_customer SET search_scope = {_SCOPE_SQL} "  # noqa: S608 - fixed SQL
            f"WHERE {_NOT_SHARED_SQL} AND search_scope <> {_SCOPE_SQL}"
        )
        repaired += int(cursor.rowcount)
        repaired += _repair_shared_scopes()
        for model in (Contact, Interaction):
            table = model._meta.db_table
            expr = _ROW_SCOPE_SQL.format(table=table)
            cursor.execute(f"UPDATE {table} SET search_scope = {expr} WHERE search_scope <> {expr}")  # noqa: S608
            repaired += int(cursor.rowcount)
    return repaired


def _repair_shared_scopes() -> int:
    grantees: dict[int, tuple[list[int | None], list[int | None]]] = {}
    for customer_id, user_id, team_id in CustomerShare.objects.values_list(
        "customer_id", "user_id", "team_id"
    ):
        users, teams = grantees.setdefault(customer_id, ([], []))
        users.append(user_id)
        teams.append(team_id)
    stale = []
    ids = sorted(grantees)
    for i in range(0, len(ids), 2000):
        for customer in Customer.objects.filter(pk__in=ids[i : i + 2000]).only(
            "id", "owner_id", "team_id", "search_scope"
        ):
            users, teams = grantees[customer.pk]
            scope = documents.scope(
                customer.owner_id, customer.team_id, shared_users=users, shared_teams=teams
            )
            if scope != customer.search_scope:
                customer.search_scope = scope
                stale.append(customer)
    Customer.objects.bulk_update(stale, ["search_scope"], batch_size=1000)
    return len(stale)


@transaction.atomic
def customer_update(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    owner: User | None = None,
    team: Team | None = None,
    tags: Iterable[str] | None = None,
    **data: Any,
) -> Customer:
    _check_unknown(data, CUSTOMER_FIELDS)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = snapshot(customer, CUSTOMER_AUDIT_FIELDS)
    before_tags = sorted(customer.tags.values_list("name", flat=True))
    for name, value in data.items():
        setattr(customer, name, value)
    if "name" in data:
        customer.name = (customer.name or "").strip()
    if owner is not None and owner.pk != customer.owner_id:
        new_team = team if team is not None else owner.team
        _check_assignable(actor, owner, new_team)
        customer.owner = owner
        customer.team = new_team
    elif team is not None and team.pk != customer.team_id:
        _check_assignable(actor, customer.owner, team)
        customer.team = team
    _full_clean(customer, exclude=["owner", "team", "search_doc", "sort_key"])
    customer.search_doc = customer_search_doc(customer)
    old_scope = customer.search_scope
    customer.search_scope = customer_scope(customer)
    customer.sort_key = sort_key(customer.name, person=customer.kind == CustomerKind.PERSON)
    customer.save()
    if customer.search_scope != old_scope:
        _rescope_rows(customer)
    changes = diff(before, snapshot(customer, CUSTOMER_AUDIT_FIELDS))
    if tags is not None:
        after_tags = _set_tags(customer, tags)
        if after_tags != before_tags:
            changes["tags"] = [before_tags, after_tags]
    if changes:
        audit_record(
            actor=actor,
            source=source,
            action="customer.update",
            obj=customer,
            customer_id=customer.pk,
            changes=changes,
        )
    return customer


@transaction.atomic
def customer_share(
    *, actor: User, source: Source, customer: Customer, user: User | None = None, team: Team | None = None
) -> CustomerShare:
    require(
        (user is None) != (team is None),
        "请选择一个用户或一个团队",
        "share with exactly one user or one team",
    )
    if not (
        actor.is_admin
        or customer.owner_id == actor.pk
        or (actor.is_manager and customer.team_id in managed_team_ids(actor))
    ):
        raise PermissionDenied(
            "只有负责人或其经理可以共享客户",
            "only the owner or their manager may share a customer",
            code="share_forbidden",
        )
    share, created = CustomerShare.objects.get_or_create(
        customer=customer, user=user, team=team, defaults={"created_by": actor}
    )
    if created:
        audit_record(
            actor=actor,
            source=source,
            action="customer.share",
            obj=customer,
            customer_id=customer.pk,
            changes={"shared_with": [None, str(user or team)]},
        )
    return share


@transaction.atomic
def customer_unshare(*, actor: User, source: Source, customer: Customer, share_id: int) -> None:
    share = (
        CustomerShare.objects.filter(pk=share_id, customer=customer).select_related("user", "team").first()
    )
    if share is None:
        raise NotFound("共享", "share")
    if not (
        actor.is_admin
        or customer.owner_id == actor.pk
        or (actor.is_manager and customer.team_id in managed_team_ids(actor))
    ):
        raise PermissionDenied(
            "只有负责人或其经理可以取消共享",
            "only the owner or their manager may unshare",
            code="share_forbidden",
        )
    label = str(share.user or share.team)
    share.delete()
    audit_record(
        actor=actor,
        source=source,
        action="customer.unshare",
        obj=customer,
        customer_id=customer.pk,
        changes={"shared_with": [label, None]},
    )


def _normalise_points(phones: Iterable[str], emails: Iterable[str]) -> list[ContactPoint]:
    points: list[ContactPoint] = []
    for raw in phones:
        raw = (raw or "").strip()
        if not raw:
            continue
        require(len(raw) <= 120, "电话号码过长", "phone number too long", field="phones")
        phone = normalise_phone(raw)
        require(
            bool(phone.value),
            f"无法识别的电话号码：{raw}",
            f"not a phone number: {raw}",
            field="phones",
            code="invalid_phone",
        )
        points.append(
            ContactPoint(
                kind=ContactPointKind.PHONE,
                raw=raw,
                value=phone.value,
                label=phone.label,
                is_ambiguous=phone.ambiguous,
            )
        )
    for raw in emails:
        raw = (raw or "").strip()
        if not raw:
            continue
        try:
            validate_email(raw)
        except DjangoValidationError:
            raise ValidationFailed(
                f"邮箱格式错误：{raw}", f"invalid e-mail address: {raw}", field="emails", code="invalid_email"
            ) from None
        points.append(ContactPoint(kind=ContactPointKind.EMAIL, raw=raw, value=raw.lower(), label=""))
    for i, point in enumerate(points):
        point.position = i
    return points


def _points_repr(points: Iterable[ContactPoint]) -> dict[str, list[str]]:
    points = list(points)
    return {
        "phones": [p.raw for p in points if p.kind == ContactPointKind.PHONE],
        "emails": [p.raw for p in points if p.kind == ContactPointKind.EMAIL],
    }


@transaction.atomic
def contact_create(
    *,
    actor: User,
    source: Source,
    customer: Customer,
    phones: Iterable[str] = (),
    emails: Iterable[str] = (),
    **data: Any,
) -> Contact:
    _check_unknown(data, CONTACT_FIELDS)
    contact = Contact(customer=customer, **data)
    contact.name = (contact.name or "").strip()
    _full_clean(contact, exclude=["customer", "search_doc", "sort_key"])
    points = _normalise_points(phones, emails)
    contact.sort_key = sort_key(contact.name, person=True)
    contact.search_doc = contact_search_doc(contact, points)
    contact.search_scope = row_scope(customer)
    contact.save()
    for point in points:
        point.contact = contact
    ContactPoint.objects.bulk_create(points)
    changes = diff({}, snapshot(contact, CONTACT_FIELDS))
    changes.update({k: [[], v] for k, v in _points_repr(points).items() if v})
    audit_record(
        actor=actor,
        source=source,
        action="contact.create",
        obj=contact,
        customer_id=customer.pk,
        changes=changes,
    )
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: User,
    source: Source,
    contact: Contact,
    phones: Iterable[str] | None = None,
    emails: Iterable[str] | None = None,
    **data: Any,
) -> Contact:
    _check_unknown(data, CONTACT_FIELDS)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    before = snapshot(contact, CONTACT_FIELDS)
    old_points = list(contact.points.all())
    for name, value in data.items():
        setattr(contact, name, value)
    contact.name = (contact.name or "").strip()
    _full_clean(contact, exclude=["customer", "search_doc", "sort_key"])
    points = old_points
    if phones is not None or emails is not None:
        old = _points_repr(old_points)
        points = _normalise_points(
            phones if phones is not None else old["phones"], emails if emails is not None else old["emails"]
        )
    contact.sort_key = sort_key(contact.name, person=True)
    contact.search_doc = contact_search_doc(contact, points)
    contact.save()
    changes = diff(before, snapshot(contact, CONTACT_FIELDS))
    if points is not old_points:
        contact.points.all().delete()
        for point in points:
            point.contact = contact
        ContactPoint.objects.bulk_create(points)
        old_r, new_r = _points_repr(old_points), _points_repr(points)
        changes.update({k: [old_r[k], new_r[k]] for k in new_r if old_r[k] != new_r[k]})
    if changes:
        audit_record(
            actor=actor,
            source=source,
            action="contact.update",
            obj=contact,
            customer_id=contact.customer_id,
            changes=changes,
        )
    return contact


@transaction.atomic
def contact_delete(*, actor: User, source: Source, contact: Contact) -> None:
    before = snapshot(contact, CONTACT_FIELDS)
    customer_id, pk, name = contact.customer_id, contact.pk, str(contact)
    contact.delete()
    contact.pk = pk
    contact.name = name
    audit_record(
        actor=actor,
        source=source,
        action="contact.delete",
        obj=contact,
        customer_id=customer_id,
        changes={k: [v, None] for k, v in before.items() if v not in (None, "", False)},
    )


@transaction.atomic
def customer_delete(*, actor: User, source: Source, customer: Customer) -> None:
    """Delete a customer with its contacts and interactions.

    Only an administrator or the owner's manager may delete, and never a customer with orders
    (revenue history must survive): set its status to archived instead.
    """
    if not (actor.is_admin or (actor.is_manager and customer.team_id in managed_team_ids(actor))):
        raise PermissionDenied(
            "只有管理员或经理可以删除客户，请改为归档",
            "only an administrator or manager may delete a customer; archive it instead",
            code="delete_forbidden",
        )
    if customer.orders.exists():
        raise Conflict(
            "客户有订单，不能删除，请改为归档",
            "the customer has orders and cannot be deleted; archive it instead",
            code="has_orders",
        )
    before = snapshot(customer, CUSTOMER_AUDIT_FIELDS)
    pk, name = customer.pk, customer.name
    customer.delete()
    customer.pk = pk
    customer.name = name
    audit_record(
        actor=actor,
        source=source,
        action="customer.delete",
        obj=customer,
        changes={k: [v, None] for k, v in before.items() if v not in (None, "", False)},
    )
