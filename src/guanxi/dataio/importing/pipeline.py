"""One import, start to end: read → map → validate and de-duplicate → (dry run: stop) → write, all
in one transaction. A rejected row stops a real import (nothing is written) unless the user chose to
skip invalid rows; a killed process leaves nothing behind because nothing is committed until the end.

Customers (with contacts) are written set-based (``importing.customers``). Contacts, interactions,
orders and products are fewer and carry more rules, so each row goes through its domain service in a
savepoint of the same transaction; a dry run of those runs for real and rolls back.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.accounts.models import User
from guanxi.audit.models import Source
from guanxi.audit.services import audit_record
from guanxi.core import forked
from guanxi.core.checkpoint import checkpoint_later
from guanxi.core.errors import GuanxiError, ValidationFailed
from guanxi.core.pagecache import page_cache
from guanxi.dataio.importing import customers as customer_import
from guanxi.dataio.importing import plans, values
from guanxi.dataio.importing.mapping import check_headers, guess_mapping, missing_required, source_key
from guanxi.dataio.importing.readers import FileRejected, ParsedFile, Sheet, column_letter, read_file
from guanxi.dataio.importing.report import Outcome, Report

SHEET_KINDS = {
    "products": ("产品", "商品", "products", "product"),
    "customers": ("客户", "客户资料", "customers", "customer", "accounts"),
    "contacts": ("联系人", "contacts", "contact"),
    "interactions": ("联系记录", "跟进记录", "拜访记录", "interactions", "activities"),
    "orders": ("订单", "订单明细", "orders", "order"),
}
KIND_ORDER = ["products", "customers", "contacts", "interactions", "orders"]
IMPORT_CACHE_MB = 256  # SQLite's page cache during an import's transaction (core.pagecache)


class ImportRejected(ValidationFailed):
    """Rows were rejected: nothing was written. ``details`` hold every row/column message."""

    code = "import_rejected"


class _DryRun(Exception):
    pass


@dataclass
class ImportOptions:
    kind: str = "customers"  # or "auto": one sheet per kind, recognised by sheet name
    mapping: dict[str, str] | None = None
    encoding: str = ""
    sheet: str = ""
    on_duplicate: str = "update"
    skip_invalid: bool = False
    dry_run: bool = True
    owner: User | None = None
    job_id: int = 0
    templates: dict[str, dict[str, str]] = field(default_factory=dict)  # source_key → mapping
    plan_path: Path | None = None  # where a preview keeps its plan and the import looks for it


def plan_sheets(parsed: ParsedFile, options: ImportOptions) -> list[tuple[str, Sheet]]:
    if options.kind != "auto":
        return [(options.kind, parsed.sheet(options.sheet))]
    found: dict[str, Sheet] = {}
    for sheet in parsed.sheets:
        name = sheet.name.strip().lower()
        for kind, names in SHEET_KINDS.items():
            if name in names and kind not in found:
                found[kind] = sheet
    if not found:
        return [("customers", parsed.sheets[0])]
    return [(kind, found[kind]) for kind in KIND_ORDER if kind in found]


def run_import(
    *,
    actor: User,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Preview (``dry_run``) or perform an import; returns the report. Raises FileRejected /
    ImportRejected (with row/column details) when nothing can or may be written.

    With ``options.plan_path`` a customers preview keeps what it prepared there and the import
    takes it back instead of preparing again, when nothing it depends on changed (``plans``)."""
    with _collector_paused():
        return _run(actor=actor, data=data, file_name=file_name, options=options, progress=progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """An import of 100k rows holds millions of small objects (drafts, outcomes, row tuples) and
    makes no reference cycles among them; the cyclic garbage collector would walk all of them
    again each time enough new ones were made — a third of the Python time. It is paused for the
    import (process-wide, for seconds) and runs again as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(
    *,
    actor: User,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, Any]:
    key = ""
    if options.plan_path is not None:
        key = plans.fingerprint(
            data, file_name=file_name, kind=options.kind, encoding=options.encoding, sheet=options.sheet
        )
    reused = None
    if options.plan_path is not None and not options.dry_run:
        reused = _reuse_plan(options.plan_path, key, options, progress)
    if reused is None:
        report, prepared = _prepare(data=data, file_name=file_name, options=options, progress=progress)
    else:
        report, prepared = reused
    owner = options.owner or actor
    if options.dry_run and all(kind == "customers" for kind, *_ in prepared):
        _preview_customers(prepared, key, report, actor=actor, plan_path=options.plan_path)
        return _finish(report, options)
    if report.rejected and not options.skip_invalid and not options.dry_run:
        raise _rejected(report)
    try:
        # A dry run of a workbook whose later sheets name the customers of its first writes those
        # customers too (and rolls everything back), so the preview of every sheet is exact.
        rehearse = any(kind != "customers" for kind, *_ in prepared)
        # One big transaction: SQLite keeps the touched index pages (FTS5 above all) in memory
        # instead of spilling them to the WAL again and again; the log of a big write is copied into
        # the database file after the commit, on a thread.
        with (
            page_cache(IMPORT_CACHE_MB),
            checkpoint_later() if not options.dry_run else nullcontext(),
            transaction.atomic(),
        ):
            for kind, sheet, mapping, drafts in prepared:
                if kind == "customers":
                    customer_import.match(drafts, user=actor, report=report)
                    if not options.dry_run or rehearse:
                        report.counts.update(
                            customer_import.write(
                                drafts,
                                actor=actor,
                                owner=owner,
                                job_id=options.job_id,
                                on_duplicate=options.on_duplicate,
                                report=report,
                            )
                        )
                else:
                    assert sheet is not None  # only customers plans are kept and reused
                    _service_rows(
                        kind, sheet, mapping, actor=actor, owner=owner, report=report, options=options
                    )
            if report.rejected and not options.skip_invalid and not options.dry_run:
                raise _rejected(report)
            if options.dry_run:
                raise _DryRun
            if options.job_id:
                from guanxi.dataio.models import ImportJob

                job = ImportJob.objects.get(pk=options.job_id)
                audit_record(
                    actor=actor,
                    source=Source.IMPORT,
                    action="import.commit",
                    obj=job,
                    changes={
                        "rows": [None, len(report.rows)],
                        "actions": [None, report.tally()],
                        "counts": [None, report.counts],
                    },
                )
    except _DryRun:
        pass
    return _finish(report, options)


def _preview_customers(
    prepared: list[tuple[str, Sheet | None, dict[str, str], Any]],
    key: str,
    report: Report,
    *,
    actor: User,
    plan_path: Path | None,
) -> None:
    """Match the drafts against the database and keep the plan for the import (``plans``).

    The plan is what was prepared before matching. With enough customers it is written by a forked
    child — a copy of this process as it is before the match — while this process matches: the
    plan of 100k customers (~2 s) costs the preview no time beyond the match's. Should the child
    fail, no plan is kept and the import prepares afresh."""

    def match() -> None:
        for _, _, _, drafts in prepared:
            customer_import.match(drafts, user=actor, report=report)

    if plan_path is None or not prepared:
        match()
        return

    def write_plan() -> bool:
        kept = [
            plans.Prepared(kind, sheet.name if sheet else "", mapping, drafts)
            for kind, sheet, mapping, drafts in prepared
        ]
        plans.save(plan_path, plans.dumps(key, report, kept))
        return True

    drafts = sum(len(d) for *_, d in prepared)
    if drafts >= customer_import.PARALLEL_MIN and forked.available():
        if forked.split(write_plan, match) is None:
            plans.discard_plan(plan_path)
        return
    write_plan()  # before the match changes the drafts and the report
    match()


def _prepare(
    *,
    data: bytes,
    file_name: str,
    options: ImportOptions,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[Report, list[tuple[str, Sheet | None, dict[str, str], Any]]]:
    """Read, map and prepare every sheet (no database): the report so far and what to write."""
    parsed = read_file(data, file_name=file_name, encoding=options.encoding)
    report = Report()
    report.file = {
        "name": file_name,
        "format": parsed.file_format,
        "encoding": parsed.encoding,
        "encoding_ambiguous": parsed.encoding_ambiguous,
        "encoding_candidates": parsed.encoding_candidates,
        "sheets": [s.name for s in parsed.sheets],
    }
    report.notes.extend(parsed.notes)
    _check_encoding(report.file, options)
    sheets = plan_sheets(parsed, options)
    left = [s.name for s in parsed.sheets if s.rows and all(s is not chosen for _, chosen in sheets)]
    if left:
        # Said, not silently dropped: an export longer than one sheet continues on "customers (2)"…
        report.notes.append(
            f"以下工作表未导入：{'、'.join(left)}。每次导入一个工作表（按类型命名的工作表除外），"
            f"请选择工作表后再次导入。 / Sheets not imported: {', '.join(left)}. One sheet is imported at a"
            " time (unless the sheets are named by kind): import the others by choosing their sheet."
        )
    report.file["plan"] = []
    prepared: list[tuple[str, Sheet | None, dict[str, str], Any]] = []
    for kind, sheet in sheets:
        key = source_key(sheet.headers)
        mapping = _mapping_for(kind, sheet.headers, key, options, len(sheets))
        check_headers(sheet, mapping, kind, require_all=not options.dry_run)
        missing = missing_required(mapping, kind)
        report.file["plan"].append(
            {
                "kind": kind,
                "sheet": sheet.name,
                "headers": sheet.headers,
                "mapping": mapping,
                "source_key": key,
                "rows": len(sheet.rows),
                "missing": missing,
            }
        )
        if missing:
            report.notes.append(
                f"请为必需字段选择一列：{', '.join(missing)} / map a column to: {', '.join(missing)}"
            )
            continue
        total = len(sheet.rows)

        def tick(done: int, _kind: str = kind, _total: int = total) -> None:
            if progress:
                progress(_kind, done, _total)

        if kind == "customers":
            drafts = customer_import.prepare(sheet, mapping, report, progress=tick)
            prepared.append((kind, sheet, mapping, drafts))
        else:
            prepared.append((kind, sheet, mapping, None))
    return report, prepared


def _check_encoding(file: dict[str, Any], options: ImportOptions) -> None:
    if file["encoding_ambiguous"] and not options.encoding and not options.dry_run:
        raise FileRejected(
            f"无法确定文件编码（可能是 {'、'.join(file['encoding_candidates'])}），请选择编码后再导入",
            f"the encoding is ambiguous ({', '.join(file['encoding_candidates'])}); "
            "choose one and import again",
            code="encoding_ambiguous",
        )


def _mapping_for(
    kind: str, headers: list[str], key: str, options: ImportOptions, sheets: int
) -> dict[str, str]:
    mapping = options.mapping if options.mapping is not None and sheets == 1 else None
    if mapping is None:
        mapping = options.templates.get(key) or guess_mapping(kind, headers)
    return mapping


def _reuse_plan(
    path: Path, key: str, options: ImportOptions, progress: Callable[[str, int, int], None] | None
) -> tuple[Report, list[tuple[str, Sheet | None, dict[str, str], Any]]] | None:
    """The preview's plan, checked as ``_prepare`` would check the file; None: prepare afresh."""
    stored = plans.load(path, key)
    if stored is None:
        return None
    report, prepared = stored
    sheets = report.file["plan"]
    for entry in sheets:
        mapping = _mapping_for(entry["kind"], entry["headers"], entry["source_key"], options, len(sheets))
        if mapping != entry["mapping"]:
            return None
    _check_encoding(report.file, options)
    for entry in sheets:
        # The rows passed every other header check in the preview; only "required" is stricter now.
        check_headers(
            Sheet(name=entry["sheet"], headers=entry["headers"], rows=[]), entry["mapping"], entry["kind"]
        )
        if progress:
            progress(entry["kind"], entry["rows"], entry["rows"])
    return report, [(p.kind, None, p.mapping, p.drafts) for p in prepared]


def _finish(report: Report, options: ImportOptions) -> dict[str, Any]:
    result = report.as_dict()
    result["dry_run"] = options.dry_run
    return result


def _rejected(report: Report) -> ImportRejected:
    first = report.errors[0] if report.errors else {}
    where = f"第 {first.get('row')} 行 {first.get('column', '')} 列".strip() if first else ""
    where_en = f"row {first.get('row')} column {first.get('column', '')}".strip() if first else ""
    return ImportRejected(
        f"{report.rejected} 行有错误，未导入任何数据（{where}：{first.get('message', '')}）",
        f"{report.rejected} rows have errors; nothing was imported ({where_en}: {first.get('message', '')})",
        details=report.errors[:1000],
    )


# --- row-by-row kinds through the domain services -----------------------------------------------


def _cells(
    sheet: Sheet, mapping: dict[str, str]
) -> list[tuple[int, dict[str, list[tuple[int, str]]], list[dict[str, Any]]]]:
    """Non-empty mapped cells per row, apostrophe-quoted text unquoted, with each formula cell of a
    CSV file as an error naming its row and column."""
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(sheet.headers):
        if header and mapping.get(header):
            columns.setdefault(mapping[header], []).append(index)
    out = []
    for offset, cells in enumerate(sheet.rows):
        if not any(c.strip() for c in cells):
            continue
        row_number = sheet.first_row + offset
        row: dict[str, list[tuple[int, str]]] = {}
        errors: list[dict[str, Any]] = []
        for key, indexes in columns.items():
            for index in indexes:
                value = cells[index].strip() if index < len(cells) else ""
                if not value:
                    continue
                try:
                    value = values.cell(value, text_formulas=sheet.text_formulas)
                except values.CellError as exc:
                    errors.append(
                        {
                            "row": row_number,
                            "column": column_letter(index),
                            "header": sheet.headers[index],
                            "message": exc.message,
                        }
                    )
                row.setdefault(key, []).append((index, value))
        out.append((row_number, row, errors))
    return out


def _first(row: dict[str, list[tuple[int, str]]], key: str) -> str:
    return row[key][0][1] if row.get(key) else ""


def _service_rows(
    kind: str,
    sheet: Sheet,
    mapping: dict[str, str],
    *,
    actor: User,
    owner: User,
    report: Report,
    options: ImportOptions,
) -> None:
    from guanxi.customers.selectors import customer_queryset_for_user

    visible = customer_queryset_for_user(actor)
    customer_cache: dict[str, Any] = {}

    def customer_named(name: str) -> Any:
        if name not in customer_cache:
            customer_cache[name] = visible.filter(name=name).order_by("id").first()
        return customer_cache[name]

    rows = _cells(sheet, mapping)
    if kind == "orders":
        _order_rows(rows, actor=actor, report=report, customer_named=customer_named, sheet=sheet)
        return
    for row_number, row, errors in rows:
        if errors:
            report.reject(row_number, errors)
            continue
        try:
            with transaction.atomic():
                name, obj_id = _one_row(kind, row, actor=actor, customer_named=customer_named)
            report.outcome(Outcome(row=row_number, action="create", name=name, customer_id=obj_id))
            if not options.dry_run and options.job_id:
                from guanxi.dataio.models import ImportRow

                ImportRow.objects.create(
                    job_id=options.job_id,
                    row_number=row_number,
                    action="created",
                    object_type=kind.rstrip("s"),
                    object_id=obj_id,
                )
        except (GuanxiError, values.CellError) as exc:
            report.reject(row_number, [_row_error(row_number, row, sheet, exc)])


def _row_error(
    row_number: int, row: dict[str, list[tuple[int, str]]], sheet: Sheet, exc: Exception
) -> dict[str, Any]:
    if isinstance(exc, values.CellError):
        return {"row": row_number, "message": exc.message}
    assert isinstance(exc, GuanxiError)
    column = ""
    if exc.field:
        for key, cells in row.items():
            if key.split(".", 1)[1] in (exc.field, exc.field.removesuffix("s")):
                column = column_letter(cells[0][0])
    return {
        "row": row_number,
        "column": column,
        "field": exc.field or "",
        "message": f"{exc.message_zh} / {exc.message_en}",
    }


def _need_customer(row: dict[str, list[tuple[int, str]]], customer_named: Callable[[str], Any]) -> Any:
    name = _first(row, "customer.name")
    customer = customer_named(name) if name else None
    if customer is None:
        raise values.CellError(f"找不到客户「{name}」", f"no customer named {name!r} that you can see")
    return customer


def _one_row(
    kind: str, row: dict[str, list[tuple[int, str]]], *, actor: User, customer_named: Callable[[str], Any]
) -> tuple[str, int]:
    if kind == "products":
        from guanxi.sales.services import product_create

        product = product_create(
            actor=actor,
            source=Source.IMPORT,
            code=_first(row, "product.code"),
            name=_first(row, "product.name"),
            category=_first(row, "product.category"),
            unit=_first(row, "product.unit") or "件",
            price=values.decimal(_first(row, "product.price"))
            if _first(row, "product.price")
            else Decimal(0),
        )
        return str(product), product.pk
    if kind == "contacts":
        from guanxi.customers.services import contact_create

        customer = _need_customer(row, customer_named)
        phones = [p for _, v in row.get("contact.phones", []) for p in values.split_list(v)]
        emails = [e for _, v in row.get("contact.emails", []) for e in values.split_list(v)]
        data: dict[str, Any] = {
            k.split(".", 1)[1]: _first(row, k)
            for k in (
                "contact.name",
                "contact.title",
                "contact.department",
                "contact.wechat_id",
                "contact.notes",
            )
            if _first(row, k)
        }
        if _first(row, "contact.gender"):
            data["gender"] = values.choice("gender", _first(row, "contact.gender"))
        if _first(row, "contact.birthday"):
            data["birthday"] = values.date(_first(row, "contact.birthday"))
        contact = contact_create(
            actor=actor, source=Source.IMPORT, customer=customer, phones=phones, emails=emails, **data
        )
        return contact.name, contact.pk
    if kind == "interactions":
        from guanxi.engagement.models import Channel
        from guanxi.engagement.services import interaction_log

        customer = _need_customer(row, customer_named)
        channel_text = _first(row, "interaction.channel") or "phone"
        channel = next(
            (
                v
                for v, label in Channel.choices
                if channel_text.lower() in (v, str(label).lower()) or str(label).startswith(channel_text)
            ),
            None,
        )
        if channel is None:
            raise values.CellError(f"未知渠道「{channel_text}」", f"unknown channel {channel_text!r}")
        when = _first(row, "interaction.occurred_at")
        occurred = values.datetime_value(when, timezone.get_current_timezone()) if when else timezone.now()
        interaction = interaction_log(
            actor=actor,
            source=Source.IMPORT,
            customer=customer,
            channel=channel,
            occurred_at=occurred,
            summary=_first(row, "interaction.summary"),
            outcome=_first(row, "interaction.outcome"),
            next_step=_first(row, "interaction.next_step"),
        )
        return customer.name, interaction.pk
    raise ValidationFailed(f"未知导入类型：{kind}", f"unknown import kind: {kind}", code="unknown_kind")


def _order_rows(
    rows: list[tuple[int, dict[str, list[tuple[int, str]]], list[dict[str, Any]]]],
    *,
    actor: User,
    report: Report,
    customer_named: Callable[[str], Any],
    sheet: Sheet,
) -> None:
    """Orders with lines: consecutive rows with the same order number are one order's lines."""
    from guanxi.sales.models import Product
    from guanxi.sales.services import LineInput, order_create

    groups: dict[str, list[tuple[int, dict[str, list[tuple[int, str]]]]]] = {}
    for row_number, row, errors in rows:
        if errors:
            report.reject(row_number, errors)
            continue
        groups.setdefault(_first(row, "order.number") or f"#row{row_number}", []).append((row_number, row))
    products = {p.code: p for p in Product.objects.all()}
    for number, group in groups.items():
        first_row, head = group[0]
        try:
            with transaction.atomic():
                customer = _need_customer(head, customer_named)
                lines = []
                for _row_number, row in group:
                    code = _first(row, "line.product")
                    product = products.get(code)
                    if product is None:
                        raise values.CellError(f"找不到产品编码「{code}」", f"no product with code {code!r}")
                    price = _first(row, "line.unit_price")
                    lines.append(
                        LineInput(
                            product=product,
                            quantity=values.decimal(_first(row, "line.quantity") or "1", positive=True),
                            unit_price=values.decimal(price) if price else None,
                        )
                    )
                day = _first(head, "order.ordered_on")
                status_text = _first(head, "order.status")
                from guanxi.sales.models import OrderStatus

                status = (
                    next((v for v, label in OrderStatus.choices if status_text in (v, str(label))), None)
                    if status_text
                    else OrderStatus.CONFIRMED
                )
                if status is None:
                    raise values.CellError(
                        f"未知订单状态「{status_text}」", f"unknown order status {status_text!r}"
                    )
                order = order_create(
                    actor=actor,
                    source=Source.IMPORT,
                    customer=customer,
                    lines=lines,
                    ordered_on=values.date(day) if day else dt.date.today(),  # noqa: DTZ011
                    number="" if number.startswith("#row") else number,
                    status=status,
                    notes=_first(head, "order.notes"),
                )
            for row_number, _ in group:
                report.outcome(
                    Outcome(
                        row=row_number,
                        action="create" if row_number == first_row else "merge",
                        name=order.number,
                        customer_id=customer.pk,
                        merged_into_row=None if row_number == first_row else first_row,
                    )
                )
        except (GuanxiError, values.CellError) as exc:
            for row_number, row in group:
                report.reject(row_number, [_row_error(row_number, row, sheet, exc)])
