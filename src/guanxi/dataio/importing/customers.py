"""Importing customers with their contacts, set-based.

``prepare`` turns rows into customer drafts (validated, phones normalised, search documents and
sort keys computed — pure CPU, no database); ``match`` finds which drafts are already in the
database (by normalised phone, e-mail, WeChat id and exact name, among the customers the importer
can see); ``write`` inserts everything with bulk statements in the caller's transaction and
records one audit event per customer (source "import", carrying the import's number, so each
customer's history says "created by import #N") plus per-row provenance in ``ImportRow``.
Rows of the file naming the same customer (same name and region) become one customer with several
contacts: those rows are reported as merged into the first.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import AUDIT_ROW_FIELDS, AuditEvent, Source
from guanxi.core import forked
from guanxi.customers.models import (
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    Tag,
)
from guanxi.dataio.importing import bulkinsert, values
from guanxi.dataio.importing.documents import contact_doc, customer_doc, fast_normalise_phone
from guanxi.dataio.importing.mapping import ALIASES
from guanxi.dataio.importing.readers import Sheet, column_letter
from guanxi.dataio.importing.report import Outcome, Report
from guanxi.search import documents as search_documents

CUSTOMER_TEXT = [
    "name",
    "short_name",
    "industry",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "website",
    "notes",
]
CONTACT_TEXT = ["name", "title", "department", "wechat_id", "notes"]
_CUSTOMER_MAX = values.max_lengths(Customer)
_CONTACT_MAX = values.max_lengths(Contact)
MAX_TAGS = 30
# The columns an import can fill, written for every new row (with the model's default when empty).
_CUSTOMER_COLUMNS = [
    "kind",
    "name",
    "short_name",
    "industry",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "email",
    "website",
    "status",
    "relationship_type",
    "lead_source",
    "notes",
]
_CUSTOMER_DEFAULTS = {name: Customer._meta.get_field(name).get_default() for name in _CUSTOMER_COLUMNS}  # type: ignore[union-attr]
_CONTACT_COLUMNS = ["name", "title", "department", "wechat_id", "gender", "birthday", "notes"]
_INSERTERS: dict[tuple[str, tuple[str, ...]], bulkinsert.Inserter] = {}


def _inserter(model: type[Any], fields: list[str]) -> bulkinsert.Inserter:
    key = (model._meta.label + connection.vendor, tuple(fields))
    if key not in _INSERTERS:
        _INSERTERS[key] = bulkinsert.Inserter(model, fields)
    return _INSERTERS[key]


@dataclass
class ContactDraft:
    row: int
    fields: dict[str, Any]
    phones: list[tuple[str, str, str, bool]] = field(default_factory=list)  # raw, value, label, ambiguous
    emails: list[tuple[str, str]] = field(default_factory=list)  # raw, lower-case value
    doc: str = ""
    sort_key: str = ""

    def match_keys(self) -> set[str]:
        return {p[1] for p in self.phones if p[1]} | {e[1] for e in self.emails}


@dataclass
class CustomerDraft:
    row: int
    fields: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    contacts: list[ContactDraft] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    existing_id: int | None = None
    match_reason: str = ""
    doc: str = ""
    sort_key: str = ""

    @property
    def target(self) -> int:
        """The customer this draft became or matched (set by ``match`` or by the insert)."""
        assert self.existing_id is not None
        return self.existing_id

    @property
    def person(self) -> bool:
        return bool(self.fields.get("kind") == CustomerKind.PERSON)


def _group_key(fields: dict[str, Any]) -> tuple[str, str, str]:
    name = unicodedata.normalize("NFKC", fields["name"]).replace(" ", "").lower()
    return name, fields.get("province", ""), fields.get("city", "")


def prepare(
    sheet: Sheet,
    mapping: dict[str, str],
    report: Report,
    progress: Callable[[int], None] | None = None,
) -> list[CustomerDraft]:
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(sheet.headers):
        key = mapping.get(header)
        if header and key:
            columns.setdefault(key, []).append(index)
    name_header = next((sheet.headers[i] for i in columns.get("customer.name", [])), "")
    person_by_default = "contact.name" not in columns and any(
        name_header.strip().lower() == alias.lower() for alias in ALIASES["contact.name"]
    )
    drafts: dict[tuple[str, str, str], CustomerDraft] = {}
    order: list[CustomerDraft] = []
    for offset, cells in enumerate(sheet.rows):
        row = sheet.first_row + offset
        if progress and offset % 2000 == 0:
            progress(offset)
        if not any(c.strip() for c in cells):
            continue
        errors: list[dict[str, Any]] = []
        customer: dict[str, Any] = {}
        contact: dict[str, Any] = {}
        tags: set[str] = set()
        phones: list[tuple[str, str, str, bool]] = []
        emails: list[tuple[str, str]] = []
        flags: list[str] = []

        for key, indexes in columns.items():
            for index in indexes:
                raw = cells[index] if index < len(cells) else ""
                if not raw.strip():
                    continue
                try:
                    raw = values.cell(raw, text_formulas=sheet.text_formulas)
                    _apply(key, raw, customer, contact, tags, phones, emails, flags)
                except values.CellError as exc:
                    errors.append(
                        {
                            "row": row,
                            "column": column_letter(index),
                            "header": sheet.headers[index],
                            "message": exc.message,
                        }
                    )
        if not customer.get("name") and contact.get("name"):
            customer["name"] = contact["name"]
            customer.setdefault("kind", CustomerKind.PERSON)
        if not customer.get("name"):
            errors.append(
                {
                    "row": row,
                    "column": column_letter(columns["customer.name"][0])
                    if columns.get("customer.name")
                    else "",
                    "message": "客户名称必填 / customer name is required",
                }
            )
        if len(tags) > MAX_TAGS:
            errors.append({"row": row, "message": f"标签最多 {MAX_TAGS} 个 / at most {MAX_TAGS} tags"})
        if errors:
            report.reject(row, errors)
            continue
        customer.setdefault("kind", CustomerKind.PERSON if person_by_default else CustomerKind.COMPANY)
        if (
            customer["kind"] == CustomerKind.PERSON
            and not contact.get("name")
            and (phones or emails or contact)
        ):
            contact["name"] = customer["name"]
        if not contact.get("name") and (phones or emails):
            # A company row with numbers but no person: the first ones become the company's.
            if phones and not customer.get("phone"):
                customer["phone"] = phones[0][0][:40]
            if emails and not customer.get("email"):
                customer["email"] = emails[0][0]
            phones, emails = [], []
        group = _group_key(customer)
        draft = drafts.get(group)
        if draft is None:
            draft = drafts[group] = CustomerDraft(row=row, fields=customer, tags=tags, rows=[row])
            order.append(draft)
            report.outcome(Outcome(row=row, action="create", name=customer["name"], flags=flags))
        else:
            for name, value in customer.items():
                draft.fields.setdefault(name, value)
            draft.tags |= tags
            draft.rows.append(row)
            report.outcome(
                Outcome(
                    row=row,
                    action="merge",
                    name=customer["name"],
                    merged_into_row=draft.row,
                    flags=flags,
                    reason=f"与第 {draft.row} 行是同一客户 / same customer as row {draft.row}",
                )
            )
        if contact.get("name"):
            new = ContactDraft(row=row, fields=contact, phones=phones, emails=emails)
            twin = next(
                (
                    c
                    for c in draft.contacts
                    if c.fields["name"] == contact["name"] or (c.match_keys() & new.match_keys())
                ),
                None,
            )
            if twin is None:
                draft.contacts.append(new)
            else:
                known = twin.match_keys()
                twin.phones += [p for p in phones if p[1] not in known]
                twin.emails += [e for e in emails if e[1] not in known]
                for name, value in contact.items():
                    twin.fields.setdefault(name, value)
    _documents(order)
    if progress:
        progress(len(sheet.rows))
    return order


# Below this many customers a second process costs more (fork, pickling the result) than it saves.
PARALLEL_MIN = 5000


def _documents(drafts: list[CustomerDraft]) -> None:
    """Fill each draft's and contact's search document and sort key — two thirds of ``prepare``'s
    time (pinyin, tokens). Split across two cores when there are enough: the later half in a forked
    child (``core.forked``), the earlier half here; 100k customers ~6 s → ~3.5 s on two cores."""
    if len(drafts) < PARALLEL_MIN:
        _assign(drafts, [_draft_documents(d) for d in drafts])
        return
    half = len(drafts) // 2
    mine, theirs = drafts[:half], drafts[half:]
    computed = forked.split(
        lambda: [_draft_documents(d) for d in theirs],
        lambda: _assign(mine, [_draft_documents(d) for d in mine]),
    )
    if computed is None or len(computed) != len(theirs):
        computed = [_draft_documents(d) for d in theirs]  # no second core, or the child failed
    _assign(theirs, computed)


def _assign(drafts: list[CustomerDraft], computed: list[tuple[str, str, list[tuple[str, str]]]]) -> None:
    for draft, (doc, sort_key, contacts) in zip(drafts, computed, strict=True):
        draft.doc, draft.sort_key = doc, sort_key
        for contact, (cdoc, csort_key) in zip(draft.contacts, contacts, strict=True):
            contact.doc, contact.sort_key = cdoc, csort_key


def _draft_documents(draft: CustomerDraft) -> tuple[str, str, list[tuple[str, str]]]:
    """(doc, sort key, [(doc, sort key) per contact]) of one customer draft."""
    f = draft.fields
    doc, sort_key = customer_doc(
        name=f["name"],
        short_name=f.get("short_name", ""),
        person=draft.person,
        phone=f.get("phone", ""),
        email=f.get("email", ""),
        province=f.get("province", ""),
        city=f.get("city", ""),
        district=f.get("district", ""),
    )
    contacts = [
        contact_doc(
            name=c.fields["name"],
            phones_raw=[p[0] for p in c.phones],
            phone_values=[p[1] for p in c.phones],
            emails=[e[1] for e in c.emails],
            wechat_id=c.fields.get("wechat_id", ""),
            title=c.fields.get("title", ""),
            department=c.fields.get("department", ""),
        )
        for c in draft.contacts
    ]
    return doc, sort_key, contacts


def _apply(
    key: str,
    raw: str,
    customer: dict[str, Any],
    contact: dict[str, Any],
    tags: set[str],
    phones: list[tuple[str, str, str, bool]],
    emails: list[tuple[str, str]],
    flags: list[str],
) -> None:
    entity, name = key.split(".", 1)
    if key == "contact.phones":
        for part in values.split_list(raw):
            value, label, ambiguous = fast_normalise_phone(part)
            if not value:
                raise values.CellError(f"无法识别的电话号码「{part}」", f"not a phone number: {part!r}")
            if len(part) > 120:
                raise values.CellError("电话号码过长", "phone number too long")
            if ambiguous:
                flags.append(f"号码含义不确定，已保留原文：{part} / ambiguous number kept as written: {part}")
            if value not in {p[1] for p in phones}:
                phones.append((part, value, label, ambiguous))
    elif key == "contact.emails":
        for part in values.split_list(raw):
            address = values.email(part)
            if address.lower() not in {e[1] for e in emails}:
                emails.append((address, address.lower()))
    elif key == "customer.email":
        customer["email"] = values.email(raw)
    elif key == "customer.tags":
        for tag in values.split_list(raw):
            if len(tag) > 40:
                raise values.CellError("标签不超过40字", "a tag may have at most 40 characters")
            tags.add(tag)
    elif key in ("customer.kind", "customer.status", "customer.relationship_type", "customer.lead_source"):
        customer[name] = values.choice(name, raw)
    elif key == "contact.gender":
        contact["gender"] = values.choice("gender", raw)
    elif key == "contact.birthday":
        contact["birthday"] = values.date(raw)
    elif entity == "customer":
        customer[name] = values.text(raw, max_length=_CUSTOMER_MAX.get(name))
    else:
        contact[name] = values.text(raw, max_length=_CONTACT_MAX.get(name))


# --- matching against the database --------------------------------------------------------------


def _any_of(values: list[str]) -> RawSQL:
    """``IN`` these values through one query parameter (a JSON array on SQLite, an array on
    PostgreSQL) instead of one per value: Django prepares each bound value in Python (~4 µs) and
    SQLite takes at most 999 per statement — 100k rows' keys were ~1,400 queries and 1.5 s."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", (values,))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(values),))


def match(drafts: list[CustomerDraft], *, user: User, report: Report) -> None:
    """Attach each draft to the visible customer it duplicates, if any (name, phone, e-mail, WeChat)."""
    from guanxi.customers.selectors import customer_queryset_for_user

    if not drafts:
        return
    visible = customer_queryset_for_user(user)
    restrict = not user.is_admin
    by_sort: dict[str, list[CustomerDraft]] = {}
    for draft in drafts:
        by_sort.setdefault(draft.sort_key, []).append(draft)
    qs = Customer.objects.filter(sort_key__in=_any_of(list(by_sort)))
    if restrict:
        qs = qs.filter(pk__in=visible.values("pk"))
    for pk, skey, province, city in qs.values_list("pk", "sort_key", "province", "city"):
        for draft in by_sort.get(skey, []):
            f = draft.fields
            if (
                draft.existing_id is None
                and (not f.get("province") or not province or f["province"] == province)
                and (not f.get("city") or not city or f["city"] == city)
            ):
                draft.existing_id = pk
                draft.match_reason = "同名客户 / same name"
    by_point: dict[str, list[CustomerDraft]] = {}
    by_wechat: dict[str, list[CustomerDraft]] = {}
    for draft in drafts:
        if draft.existing_id is not None:
            continue
        for contact in draft.contacts:
            for key in contact.match_keys():
                by_point.setdefault(key, []).append(draft)
            if contact.fields.get("wechat_id"):
                by_wechat.setdefault(contact.fields["wechat_id"], []).append(draft)
    if by_point:
        points = ContactPoint.objects.filter(value__in=_any_of(list(by_point)))
        if restrict:
            points = points.filter(contact__customer__in=visible.values("pk"))
        for value, customer_id in points.values_list("value", "contact__customer_id"):
            for draft in by_point.get(value, []):
                if draft.existing_id is None:
                    draft.existing_id = customer_id
                    draft.match_reason = f"相同电话/邮箱 {value} / same phone or e-mail"
    if by_wechat:
        people = Contact.objects.filter(wechat_id__in=_any_of(list(by_wechat)))
        if restrict:
            people = people.filter(customer__in=visible.values("pk"))
        for wechat, customer_id in people.values_list("wechat_id", "customer_id"):
            for draft in by_wechat.get(wechat, []):
                if draft.existing_id is None:
                    draft.existing_id = customer_id
                    draft.match_reason = f"相同微信 {wechat} / same WeChat id"
    for draft in drafts:
        if draft.existing_id is not None:
            report.matched(draft.row, draft.existing_id, draft.match_reason)


# --- writing -------------------------------------------------------------------------------------

BATCH = 1000


def write(
    drafts: list[CustomerDraft],
    *,
    actor: User,
    owner: User,
    job_id: int,
    on_duplicate: str,
    report: Report,
) -> dict[str, int]:
    """Insert the drafts (the caller holds the transaction). Returns counts per action.

    Every id is reserved up front, so once the existing customers are dealt with, the rows of the
    contacts, their numbers, the audit events and the provenance are built from the drafts alone
    (``_build_rows``): on SQLite, a thread builds them while the customers' search index is filled
    — one long statement during which the driver lets go of the interpreter (``Inserter.insert``).
    100k customers' other rows were ~2 s of Python after that fill."""
    now = timezone.now()
    team_id = owner.team_id
    scope = search_documents.scope(owner.pk, team_id)
    new = [d for d in drafts if d.existing_id is None or on_duplicate == "create"]
    existing = [d for d in drafts if d.existing_id is not None and on_duplicate == "update"]
    skipped = [d for d in drafts if d.existing_id is not None and on_duplicate == "skip"]
    for draft in skipped:
        report.set_action(draft.rows, "skip")
    stamp = bulkinsert.db_datetime(now)
    for draft, pk in zip(new, bulkinsert.reserve_ids(Customer, len(new)), strict=True):
        draft.existing_id = pk
    _link_tags(new, existing)
    audits, updated = _update_existing(existing, now=now, job_id=job_id, report=report)

    scopes: dict[int, str] = {}
    if existing:
        scopes = dict(
            Customer.objects.filter(pk__in=[d.existing_id for d in existing]).values_list(
                "pk", "search_scope"
            )
        )
    contacts = [(d, c) for d in new + existing for c in d.contacts]
    ids = _Ids(
        contacts=bulkinsert.reserve_ids(Contact, len(contacts)),
        points=bulkinsert.reserve_ids(ContactPoint, sum(len(c.phones) + len(c.emails) for _, c in contacts)),
        audits=bulkinsert.reserve_ids(AuditEvent, len(audits) + len(new)),
        import_rows=bulkinsert.reserve_ids(
            _import_row_model(), sum(len(d.rows) for d in new + existing) + len(contacts) if job_id else 0
        ),
    )

    def build() -> _Rows:
        return _build_rows(
            new,
            existing,
            contacts,
            ids,
            audits=audits,
            scope=scope,
            scopes=scopes,
            stamp=stamp,
            owner=owner,
            actor=actor,
            job_id=job_id,
            to_json=to_json,
            to_date=to_date,
        )

    # Resolved here: the thread must not touch the connection.
    to_json, to_date = bulkinsert.json_adapter(), connection.ops.adapt_datefield_value
    rows = _insert_customers(new, owner=owner, team_id=team_id, scope=scope, stamp=stamp, beside=build)
    _inserter(
        Contact,
        [
            "id",
            "customer",
            "search_doc",
            "sort_key",
            "search_scope",
            "created_at",
            "updated_at",
            *_CONTACT_COLUMNS,
        ],
    ).insert(rows.contacts)
    _inserter(
        ContactPoint, ["id", "contact", "kind", "raw", "value", "label", "is_ambiguous", "position"]
    ).insert(rows.points)
    _inserter(AuditEvent, AUDIT_ROW_FIELDS).insert(rows.audits)
    if job_id:
        _inserter(
            _import_row_model(), ["id", "job", "row_number", "action", "object_type", "object_id"]
        ).insert(rows.import_rows)
    for draft in new:
        report.set_action(draft.rows, "create", customer_id=draft.existing_id, keep_merge=True)
    return {
        "customers_created": len(new),
        "customers_updated": updated,
        "customers_skipped": len(skipped) + len(existing) - updated,
        "contacts_created": len(rows.contacts),
        "phones_and_emails": len(rows.points),
    }


@dataclass
class _Ids:
    """Ids reserved for the rows ``write`` inserts after the customers, in the order they are built."""

    contacts: list[int]
    points: list[int]
    audits: list[int]
    import_rows: list[int]


@dataclass
class _Rows:
    contacts: list[tuple[Any, ...]]
    points: list[tuple[Any, ...]]
    audits: list[tuple[Any, ...]]
    import_rows: list[tuple[Any, ...]]


def _import_row_model() -> type[Any]:
    from guanxi.dataio.models import ImportRow

    return ImportRow


def _insert_customers(
    new: list[CustomerDraft],
    *,
    owner: User,
    team_id: int | None,
    scope: str,
    stamp: Any,
    beside: Callable[[], _Rows],
) -> _Rows:
    """Insert the new customers; returns what ``beside`` built (``Inserter.insert``)."""
    defaults = _CUSTOMER_DEFAULTS
    rows = [
        (
            draft.existing_id,
            owner.pk,
            team_id,
            draft.doc,
            scope,
            draft.sort_key,
            stamp,
            stamp,
            *[draft.fields.get(name, defaults[name]) for name in _CUSTOMER_COLUMNS],
        )
        for draft in new
    ]
    built = _inserter(
        Customer,
        [
            "id",
            "owner",
            "team",
            "search_doc",
            "search_scope",
            "sort_key",
            "created_at",
            "updated_at",
            *_CUSTOMER_COLUMNS,
        ],
    ).insert(rows, beside=beside)
    assert built is not None
    return built


def _link_tags(new: list[CustomerDraft], existing: list[CustomerDraft]) -> None:
    """Tags, by name, created once; an existing customer only gets the tags it lacks. (The new
    customers' rows come later in the transaction: their ids are reserved, and the database checks
    the links' keys at the commit.)"""
    if existing:
        had: dict[int, set[str]] = {}
        for cid, tag in Customer.tags.through.objects.filter(
            customer_id__in=[d.existing_id for d in existing]
        ).values_list("customer_id", "tag__name"):
            had.setdefault(cid, set()).add(tag)
        for draft in existing:
            draft.tags -= had.get(draft.target, set())
    tag_names = sorted({t for d in new + existing for t in d.tags})
    if not tag_names:
        return
    Tag.objects.bulk_create([Tag(name=n) for n in tag_names], ignore_conflicts=True, batch_size=BATCH)
    tag_ids = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "pk"))
    through = Customer.tags.through
    present = set(
        through.objects.filter(customer_id__in=[d.existing_id for d in existing]).values_list(
            "customer_id", "tag_id"
        )
    )
    pairs = [
        (d.target, tag_ids[t])
        for d in new + existing
        for t in sorted(d.tags)
        if (d.existing_id, tag_ids[t]) not in present
    ]
    link_ids = bulkinsert.reserve_ids(through, len(pairs))
    _inserter(through, ["id", "customer", "tag"]).insert(
        [(pk, c, t) for pk, (c, t) in zip(link_ids, pairs, strict=True)]
    )


def _update_existing(
    existing: list[CustomerDraft], *, now: Any, job_id: int, report: Report
) -> tuple[list[tuple[str, int, str, dict[str, Any]]], int]:
    """Existing customers: fill in what they lack, never overwrite what someone typed; their
    drafts keep only the contacts they do not have yet. Returns their audit events (action,
    customer id, name, changes) and how many customers changed."""
    from guanxi.customers.services import customer_search_doc

    audits: list[tuple[str, int, str, dict[str, Any]]] = []
    if not existing:
        return audits, 0
    updated_customers = []
    current = Customer.objects.in_bulk([d.existing_id for d in existing])
    known_contacts: dict[int, set[str]] = {}
    for cid, name in Contact.objects.filter(customer_id__in=list(current)).values_list("customer_id", "name"):
        known_contacts.setdefault(cid, set()).add(name)
    for cid, value in ContactPoint.objects.filter(contact__customer_id__in=list(current)).values_list(
        "contact__customer_id", "value"
    ):
        known_contacts.setdefault(cid, set()).add(value)
    changed_fields: set[str] = set()
    for draft in existing:
        customer = current[draft.target]
        changes: dict[str, list[Any]] = {}
        for name, value in draft.fields.items():
            if name in ("name", "kind"):
                continue
            if getattr(customer, name) in ("", None) and value not in ("", None):
                setattr(customer, name, value)
                changes[name] = [None, values.plain(value)]
                changed_fields.add(name)
        known = known_contacts.get(customer.pk, set())
        draft.contacts = [
            c for c in draft.contacts if c.fields["name"] not in known and not (c.match_keys() & known)
        ]
        if draft.contacts:
            changes["contacts"] = [[], [c.fields["name"] for c in draft.contacts]]
        if draft.tags:
            changes["tags"] = [[], sorted(draft.tags)]
        if changes:
            customer.search_doc = customer_search_doc(customer)
            customer.updated_at = now
            updated_customers.append(customer)
            changes["_import"] = [None, job_id]
            audits.append(("customer.update", customer.pk, customer.name, changes))
            report.set_action(draft.rows, "update", customer_id=customer.pk)
        else:
            report.set_action(
                draft.rows, "skip", customer_id=customer.pk, reason="已存在，无新信息 / already there"
            )
    if updated_customers:
        Customer.objects.bulk_update(
            updated_customers, [*sorted(changed_fields), "search_doc", "updated_at"], batch_size=BATCH
        )
    return audits, len(updated_customers)


def _build_rows(
    new: list[CustomerDraft],
    existing: list[CustomerDraft],
    contacts: list[tuple[CustomerDraft, ContactDraft]],
    ids: _Ids,
    *,
    audits: list[tuple[str, int, str, dict[str, Any]]],
    scope: str,
    scopes: dict[int, str],
    stamp: Any,
    owner: User,
    actor: User,
    job_id: int,
    to_json: Callable[[Any], Any],
    to_date: Callable[[Any], Any],
) -> _Rows:
    """The rows of the contacts, their numbers, the audit events and the provenance, from the
    drafts and the reserved ids alone: pure Python, no database (``write`` may run it on a thread)."""
    contact_rows: list[tuple[Any, ...]] = []
    point_rows: list[tuple[Any, ...]] = []
    point_ids = iter(ids.points)
    names_by_draft: dict[int, list[str]] = {}
    for (draft, c), pk in zip(contacts, ids.contacts, strict=True):
        f = c.fields
        contact_rows.append(
            (
                pk,
                draft.target,
                c.doc,
                c.sort_key,
                scopes.get(draft.target, scope),
                stamp,
                stamp,
                *[to_date(f.get(n)) if n == "birthday" else f.get(n, "") for n in _CONTACT_COLUMNS],
            )
        )
        names_by_draft.setdefault(id(draft), []).append(f["name"])
        position = 0
        for raw, value, label, ambiguous in c.phones:
            point_rows.append(
                (next(point_ids), pk, ContactPointKind.PHONE.value, raw, value, label, ambiguous, position)
            )
            position += 1
        for raw, value in c.emails:
            point_rows.append(
                (next(point_ids), pk, ContactPointKind.EMAIL.value, raw, value, "", False, position)
            )
            position += 1
    events = list(audits)
    owner_change = [None, {"id": owner.pk, "repr": str(owner)[:100]}]
    for draft in new:
        changes = {k: [None, values.plain(v)] for k, v in draft.fields.items() if v not in ("", None)}
        changes["owner"] = owner_change
        if draft.tags:
            changes["tags"] = [[], sorted(draft.tags)]
        if names_by_draft.get(id(draft)):
            changes["contacts"] = [[], names_by_draft[id(draft)]]
        changes["_import"] = [None, job_id]
        events.append(("customer.create", draft.target, draft.fields["name"], changes))
    source = Source.IMPORT.value
    audit_rows = [
        (pk, stamp, actor.pk, source, action, "customer", cid, name[:200], cid, to_json(changes))
        for pk, (action, cid, name, changes) in zip(ids.audits, events, strict=True)
    ]
    provenance: list[tuple[Any, ...]] = []
    if job_id:
        for draft in new:
            provenance += [
                (job_id, r, "created" if r == draft.row else "merged", "customer", draft.target)
                for r in draft.rows
            ]
        for draft in existing:
            provenance += [(job_id, r, "updated", "customer", draft.target) for r in draft.rows]
        provenance += [
            (job_id, c.row, "created", "contact", pk)
            for (_, c), pk in zip(contacts, ids.contacts, strict=True)
        ]
    import_rows = [(pk, *row) for pk, row in zip(ids.import_rows, provenance, strict=True)]
    return _Rows(contacts=contact_rows, points=point_rows, audits=audit_rows, import_rows=import_rows)
