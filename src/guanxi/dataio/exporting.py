"""Exports (导出): customers, contacts, interactions, orders as xlsx, CSV, vCard 3.0 or JSON.

Rows are read in keyset-ordered chunks of ids the user can see (the visibility rule of
``customers.selectors``), so memory stays flat at any size; xlsx is streamed into its zip by
``xlsxstream``. Every cell is written as text — phone numbers keep their leading zeros and
"+" — and a cell starting with ``= + - @`` (or a tab / carriage return) is neutralised (CWE-1236):
in xlsx with Excel's quote-prefix flag, in CSV with a leading apostrophe. The customer export has
one row per contact with the customer's columns repeated, the same shape the importer reads, so an
export imports back into the same records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db.models import Choices, QuerySet
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.core.errors import ValidationFailed
from guanxi.core.labels import choice_label
from guanxi.customers.models import (
    Contact,
    ContactPoint,
    ContactPointKind,
    Customer,
    CustomerKind,
    CustomerSource,
    CustomerStatus,
    Gender,
    RelationshipType,
)
from guanxi.dataio import xlsxstream

FORMATS = ("xlsx", "csv", "vcf", "json")
KINDS = ("customers", "contacts", "interactions", "orders")
CHUNK = 2000
_DANGEROUS = xlsxstream.DANGEROUS

CUSTOMER_COLUMNS = [
    ("客户名称", "name"),
    ("简称", "short_name"),
    ("客户类型", "kind"),
    ("行业", "industry"),
    ("省", "province"),
    ("市", "city"),
    ("区", "district"),
    ("地址", "address"),
    ("公司电话", "phone"),
    ("公司邮箱", "email"),
    ("网站", "website"),
    ("状态", "status"),
    ("关系类型", "relationship_type"),
    ("来源", "lead_source"),
    ("备注", "notes"),
    ("标签", "tags"),
    ("负责人", "owner"),
]
CONTACT_COLUMNS = [
    ("联系人", "name"),
    ("职务", "title"),
    ("部门", "department"),
    ("手机/电话", "phones"),
    ("邮箱", "emails"),
    ("微信", "wechat_id"),
    ("性别", "gender"),
    ("生日", "birthday"),
    ("联系人备注", "notes"),
]


def neutralise(value: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    return "'" + value if value.startswith(_DANGEROUS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return str(value)


# --- what is exported ----------------------------------------------------------------------------


@dataclass
class ExportSpec:
    kind: str
    q: str = ""
    filters: dict[str, Any] | None = None
    customer_ids: list[int] | None = None
    id_max: int | None = None  # the first customers up to this id (the benchmark's "first 100k")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "q": self.q,
            **(self.filters or {}),
            **({"customer_ids": self.customer_ids[:100]} if self.customer_ids else {}),
        }


FILTERABLE = ("owner_id", "team_id", "relationship_type", "status", "province", "city", "industry", "tag")


def customers_for_export(user: User, spec: ExportSpec) -> QuerySet[Customer]:
    """The customers ``user`` can see, narrowed like the customer list (search words and filters)."""
    from guanxi.customers.selectors import customer_queryset_for_user
    from guanxi.search.documents import parse_query
    from guanxi.search.query import filter_matching

    qs = customer_queryset_for_user(user)
    filters = {k: v for k, v in (spec.filters or {}).items() if v not in ("", None)}
    unknown = set(filters) - set(FILTERABLE)
    if unknown:
        raise ValidationFailed(
            f"未知筛选条件：{', '.join(sorted(unknown))}",
            f"unknown filters: {', '.join(sorted(unknown))}",
            field="filters",
        )
    tag = filters.pop("tag", None)
    if filters:
        qs = qs.filter(**filters)
    if tag:
        qs = qs.filter(tags__name=tag)
    if spec.customer_ids:
        qs = qs.filter(pk__in=spec.customer_ids)
    if spec.id_max is not None:
        qs = qs.filter(pk__lte=spec.id_max)
    if spec.q.strip():
        terms = parse_query(spec.q)
        qs = filter_matching(qs, terms) if terms else qs.none()
    return qs


def _chunks(qs: QuerySet[Any]) -> Iterator[list[int]]:
    last = 0
    ids_qs = qs.order_by("pk").values_list("pk", flat=True)
    while True:
        ids = list(ids_qs.filter(pk__gt=last)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _labels(choices: type[Choices]) -> dict[str, str]:
    """Code → label for a whole export (``choice_label`` per cell asks for the language each time)."""
    return {str(value): choice_label(choices, value) for value in choices.values}


# Rows are read as tuples, never model instances: per 2,000 customers one query each for the
# customers, their tags, contacts and contact points (instances + prefetch were half the export).
_CUSTOMER_FIELDS = (
    "pk",
    "name",
    "short_name",
    "kind",
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
    "owner__username",
)
_CONTACT_FIELDS = ("name", "title", "department", "wechat_id", "gender", "birthday", "notes")


def _tags_by_customer(ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    through = Customer.tags.through.objects.filter(customer_id__in=ids)
    for customer_id, name in through.values_list("customer_id", "tag__name"):
        names.setdefault(customer_id, []).append(name)
    return {customer_id: "，".join(sorted(tags)) for customer_id, tags in names.items()}


def _contacts_by_customer(
    contacts: QuerySet[Contact], points: QuerySet[ContactPoint]
) -> dict[int, list[list[str]]]:
    """Contact cells (``CONTACT_COLUMNS``) per customer id, in the order of ``contacts``.

    ``contacts`` and ``points`` are already narrowed to the chunk's customers.
    """
    phones: dict[int, list[str]] = {}
    emails: dict[int, list[str]] = {}
    for contact_id, kind, raw in points.order_by("position", "id").values_list("contact_id", "kind", "raw"):
        if kind == ContactPointKind.PHONE:
            phones.setdefault(contact_id, []).append(raw)
        elif kind == ContactPointKind.EMAIL:
            emails.setdefault(contact_id, []).append(raw)
    genders = _labels(Gender)
    out: dict[int, list[list[str]]] = {}
    for (
        contact_id,
        customer_id,
        name,
        title,
        department,
        wechat_id,
        gender,
        birthday,
        notes,
    ) in contacts.values_list("pk", "customer_id", *_CONTACT_FIELDS):
        out.setdefault(customer_id, []).append(
            [
                name,
                title,
                department,
                "，".join(phones.get(contact_id, ())),
                "，".join(emails.get(contact_id, ())),
                wechat_id,
                genders.get(gender, gender) if gender else "",
                _text(birthday),
                notes,
            ]
        )
    return out


def customer_rows(user: User, spec: ExportSpec) -> tuple[list[str], Iterator[list[str]]]:
    headers = [h for h, _ in CUSTOMER_COLUMNS] + [h for h, _ in CONTACT_COLUMNS]
    qs = customers_for_export(user, spec)
    kinds, statuses = _labels(CustomerKind), _labels(CustomerStatus)
    relationships, sources = _labels(RelationshipType), _labels(CustomerSource)
    no_contact = [""] * len(CONTACT_COLUMNS)

    def rows() -> Iterator[list[str]]:
        for ids in _chunks(qs):
            customers = Customer.objects.filter(pk__in=ids).order_by("pk").values_list(*_CUSTOMER_FIELDS)
            tags = _tags_by_customer(ids)
            contacts = _contacts_by_customer(
                Contact.objects.filter(customer_id__in=ids).order_by("-is_key", "sort_key", "id"),
                ContactPoint.objects.filter(contact__customer_id__in=ids),
            )
            for (
                pk,
                name,
                short_name,
                kind,
                industry,
                province,
                city,
                district,
                address,
                phone,
                email,
                website,
                status,
                relationship_type,
                lead_source,
                notes,
                owner,
            ) in customers:
                base = [
                    name,
                    short_name,
                    kinds.get(kind, kind),
                    industry,
                    province,
                    city,
                    district,
                    address,
                    phone,
                    email,
                    website,
                    statuses.get(status, status),
                    relationships.get(relationship_type, relationship_type),
                    sources.get(lead_source, lead_source) if lead_source else "",
                    notes,
                    tags.get(pk, ""),
                    owner or "",
                ]
                for cells in contacts.get(pk) or (no_contact,):
                    yield base + cells

    return headers, rows()


def contact_rows(user: User, spec: ExportSpec) -> tuple[list[str], Iterator[list[str]]]:
    headers = ["客户名称"] + [h for h, _ in CONTACT_COLUMNS]
    qs = customers_for_export(user, spec)

    def rows() -> Iterator[list[str]]:
        for ids in _chunks(qs):
            names = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "name"))
            contacts = _contacts_by_customer(
                Contact.objects.filter(customer_id__in=ids).order_by("customer_id", "id"),
                ContactPoint.objects.filter(contact__customer_id__in=ids),
            )
            for customer_id, cells_list in contacts.items():
                for cells in cells_list:
                    yield [names[customer_id], *cells]

    return headers, rows()


def interaction_rows(user: User, spec: ExportSpec) -> tuple[list[str], Iterator[list[str]]]:
    from guanxi.engagement.models import Channel, Interaction

    headers = ["客户名称", "时间", "渠道", "内容摘要", "结果", "下一步", "下一步日期", "记录人"]
    qs = customers_for_export(user, spec)
    channels = _labels(Channel)

    def rows() -> Iterator[list[str]]:
        for ids in _chunks(qs):
            items = (
                Interaction.objects.filter(customer_id__in=ids)
                .order_by("customer_id", "occurred_at", "id")
                .values_list(
                    "customer__name",
                    "occurred_at",
                    "channel",
                    "summary",
                    "outcome",
                    "next_step",
                    "next_step_due",
                    "created_by__username",
                )
            )
            for customer, occurred_at, channel, summary, outcome, next_step, due, author in items:
                yield [
                    customer,
                    _text(occurred_at),
                    channels.get(channel, channel),
                    summary,
                    outcome,
                    next_step,
                    _text(due),
                    author or "",
                ]

    return headers, rows()


def order_rows(user: User, spec: ExportSpec) -> tuple[list[str], Iterator[list[str]]]:
    from guanxi.sales.models import OrderLine, OrderStatus

    headers = [
        "客户名称",
        "订单号",
        "下单日期",
        "订单状态",
        "备注",
        "产品编码",
        "产品名称",
        "数量",
        "单价",
        "金额",
    ]
    qs = customers_for_export(user, spec)
    statuses = _labels(OrderStatus)

    def rows() -> Iterator[list[str]]:
        for ids in _chunks(qs):
            lines = (
                OrderLine.objects.filter(order__customer_id__in=ids)
                .order_by("order__customer_id", "order__ordered_on", "order_id", "id")
                .values_list(
                    "order__customer__name",
                    "order__number",
                    "order__ordered_on",
                    "order__status",
                    "order__notes",
                    "product__code",
                    "product__name",
                    "quantity",
                    "unit_price",
                    "amount",
                )
            )
            for customer, number, ordered_on, status, notes, code, product, quantity, price, amount in lines:
                yield [
                    customer,
                    number,
                    _text(ordered_on),
                    statuses.get(status, status),
                    notes,
                    code,
                    product,
                    _text(quantity),
                    _text(price),
                    _text(amount),
                ]

    return headers, rows()


ROWS: dict[str, Callable[[User, ExportSpec], tuple[list[str], Iterator[list[str]]]]] = {
    "customers": customer_rows,
    "contacts": contact_rows,
    "interactions": interaction_rows,
    "orders": order_rows,
}


def count_for_export(user: User, spec: ExportSpec) -> int:
    return customers_for_export(user, spec).count()


# --- writers -------------------------------------------------------------------------------------


def check(kind: str, file_format: str) -> None:
    if kind not in KINDS:
        raise ValidationFailed(f"未知导出类型：{kind}", f"unknown export kind: {kind}", field="kind")
    if file_format not in FORMATS:
        raise ValidationFailed(
            f"未知导出格式：{file_format}", f"unknown export format: {file_format}", field="format"
        )
    if file_format == "vcf" and kind not in ("customers", "contacts"):
        raise ValidationFailed("vCard 只能导出联系人", "vCard exports contacts only", field="format")


def write_xlsx(
    target: str | Path | IO[bytes], sheet_name: str, headers: list[str], rows: Iterable[list[str]]
) -> int:
    return xlsxstream.write_sheet(target, sheet_name=sheet_name, headers=headers, rows=rows)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_chunks(headers: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 with BOM (so Excel on Windows opens Chinese correctly), CRLF, formulas neutralised."""
    writer = csv.writer(_Echo())
    yield "\ufeff".encode() + writer.writerow(headers).encode()
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow([neutralise(v) for v in row]))
        if len(buffer) >= 500:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def json_chunks(headers: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    yield b"[\n"
    first = True
    for row in rows:
        item = json.dumps(dict(zip(headers, row, strict=False)), ensure_ascii=False)
        yield (("" if first else ",\n") + item).encode()
        first = False
    yield b"\n]\n"


def vcard_chunks(headers: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """vCard 3.0, one card per contact (a customer without contacts: one card for the customer)."""
    import vobject

    index = {h: i for i, h in enumerate(headers)}
    for row in rows:

        def get(header: str, row: list[str] = row) -> str:
            i = index.get(header)
            return row[i] if i is not None and i < len(row) else ""

        name = get("联系人") or get("客户名称")
        if not name:
            continue
        card = vobject.vCard()
        card.add("fn").value = name
        card.add("n").value = vobject.vcard.Name(
            family=name[:1] if _is_cjk(name) else "", given=name[1:] if _is_cjk(name) else name
        )
        company = get("客户名称") if get("联系人") else ""
        if company:
            card.add("org").value = [company, get("部门")] if get("部门") else [company]
        if get("职务"):
            card.add("title").value = get("职务")
        for phone in filter(None, get("手机/电话").split("，")):
            tel = card.add("tel")
            tel.value = phone
            tel.type_param = "CELL" if phone.lstrip("+").startswith(("1", "861")) else "WORK"
        for address in filter(None, get("邮箱").split("，")):
            email = card.add("email")
            email.value = address
            email.type_param = "INTERNET"
        if get("生日"):
            card.add("bday").value = get("生日")
        if get("联系人备注"):
            card.add("note").value = get("联系人备注")
        yield card.serialize().encode()


def _is_cjk(text: str) -> bool:
    return bool(text) and "\u4e00" <= text[0] <= "\u9fff"


def export_to(
    target: IO[bytes] | str | Path, *, user: User, kind: str, file_format: str, spec: ExportSpec | None = None
) -> int:
    """Write an export to a file (or binary stream); returns the number of rows written."""
    check(kind, file_format)
    spec = spec or ExportSpec(kind=kind)
    headers, rows = ROWS[kind](user, spec)
    counted = _Counter(rows)
    if file_format == "xlsx":
        return write_xlsx(target, kind, headers, counted)
    chunks = {"csv": csv_chunks, "json": json_chunks, "vcf": vcard_chunks}[file_format](headers, counted)
    if isinstance(target, str | Path):
        with open(target, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
    else:
        for chunk in chunks:
            target.write(chunk)
    return counted.count


class _Counter:
    def __init__(self, rows: Iterable[list[str]]) -> None:
        self.rows = iter(rows)
        self.count = 0

    def __iter__(self) -> Iterator[list[str]]:
        for row in self.rows:
            self.count += 1
            yield row


def stream(*, user: User, kind: str, file_format: str, spec: ExportSpec) -> Iterator[bytes]:
    """Chunks for a StreamingHttpResponse (csv, json, vcf; xlsx is written to a temporary file)."""
    check(kind, file_format)
    headers, rows = ROWS[kind](user, spec)
    if file_format == "xlsx":
        raise ValidationFailed("xlsx 不能流式生成", "xlsx is not streamed")
    return {"csv": csv_chunks, "json": json_chunks, "vcf": vcard_chunks}[file_format](headers, rows)


CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "vcf": "text/vcard; charset=utf-8",
}


def file_name(kind: str, file_format: str) -> str:
    return f"guanxi-{kind}-{timezone.localdate():%Y%m%d}.{file_format}"
