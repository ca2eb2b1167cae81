"""The streamed xlsx writer, and the tuple-reading export rows against the model-instance reading."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.db.models import Prefetch
from python_calamine import CalamineWorkbook

from guanxi.audit.models import Source
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
from guanxi.dataio import exporting, xlsxstream
from guanxi.dataio.exporting import ExportSpec
from guanxi.dataio.importing.readers import read_file
from guanxi.engagement.models import Channel, Interaction
from guanxi.sales.models import OrderLine, OrderStatus
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import ProductFactory, make_contact, make_customer, make_interaction

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
HEADERS = ["客户名称", "公司电话", "备注"]


def write(rows, headers=HEADERS, **kwargs) -> bytes:
    buffer = io.BytesIO()
    xlsxstream.write_sheet(buffer, sheet_name=kwargs.pop("sheet_name", "客户"), headers=headers, rows=rows)
    return buffer.getvalue()


def read(data: bytes) -> list[list[str]]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def xml_part(data: bytes, name: str) -> ElementTree.Element:
    """A part of the workbook, parsed by the standard library (which refuses malformed XML)."""
    return ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(name))  # noqa: S314 - our own output


def sheet_cells(data: bytes) -> dict[str, tuple[str, str]]:
    """Cell reference → (style index, text)."""
    root = xml_part(data, "xl/worksheets/sheet1.xml")
    return {
        c.get("r"): (c.get("s"), "".join(t.text or "" for t in c.iterfind(".//m:t", NS)))
        for c in root.iterfind(".//m:c", NS)
    }


def cell_style(data: bytes, index: str) -> ElementTree.Element:
    return xml_part(data, "xl/styles.xml").findall("m:cellXfs/m:xf", NS)[int(index)]


def test_text_round_trips_exactly_through_the_importers_reader():
    rows = [
        ["深圳市华为技术有限公司", "+86 755 2878 0808", "多行\n备注"],
        ["北京小米", "010-88886666", "<b>\"引号\"</b> & '单引号'"],
        ["007 零开头", "0755-26543210", "  前后空格  "],
        ["_x0041_ 不是转义", "13900139000", "回车\r换行\r\n"],
        ["空单元格在后", "", ""],
    ]
    data = write(rows)
    sheet = read_file(data, file_name="export.xlsx").sheet()
    assert sheet.headers == HEADERS
    assert [row[: len(HEADERS)] for row in sheet.rows] == rows
    assert read(data) == [HEADERS, *rows]


def test_characters_xml_forbids_are_dropped_and_the_sheet_stays_well_formed():
    data = write([["a\x00b\x01c\x0b\x1f\ud800d\ufffe", "\x07", "tab\tok"]])
    cells = sheet_cells(data)  # ElementTree refuses malformed XML
    assert cells["A2"][1] == "abcd"
    assert "B2" not in cells  # nothing left of it: an empty cell, as before
    assert read(data)[1] == ["abcd", "", "tab\tok"]


@pytest.mark.parametrize("value", ["=1+1", "+86 139", "-总监", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_could_run_carries_the_quote_prefix(value):
    data = write([[value, "plain", "=x&<y>"]])
    cells = sheet_cells(data)
    assert cell_style(data, cells["A2"][0]).get("quotePrefix") == "1"
    assert cell_style(data, cells["C2"][0]).get("quotePrefix") == "1"
    assert cell_style(data, cells["B2"][0]).get("quotePrefix") is None
    assert read(data)[1] == [value, "plain", "=x&<y>"]
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_every_cell_is_text_the_header_bold_and_frozen():
    data = write([["华为", "13900139000", "1.5"]])
    cells = sheet_cells(data)
    assert {cell_style(data, style).get("numFmtId") for style, _ in cells.values()} == {"49"}
    header_font = int(cell_style(data, cells["A1"][0]).get("fontId"))
    assert (
        xml_part(data, "xl/styles.xml").findall("m:fonts/m:font", NS)[header_font].find("m:b", NS) is not None
    )
    pane = xml_part(data, "xl/worksheets/sheet1.xml").find("m:sheetViews/m:sheetView/m:pane", NS)
    assert pane is not None
    assert (pane.get("state"), pane.get("ySplit"), pane.get("topLeftCell")) == ("frozen", "1", "A2")
    assert read(data)[1] == ["华为", "13900139000", "1.5"]  # not numbers


def test_sheet_name_is_cleaned_cut_and_escaped():
    data = write([["a", "b", "c"]], sheet_name="客户 & <合作伙伴>: [华东/华北] 2024 年度全部导出结果")
    names = CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names
    assert names == ["客户 & <合作伙伴>_ _华东_华北_ 2024 年度全部导出结果"[:31]]
    assert len(names[0]) == 31
    assert xlsxstream.sheet_name_clean("'汇总'") == "汇总"


def test_a_cell_over_excels_limit_is_cut():
    data = write([["x" * 40_000, "ok", ""]])
    assert read(data)[1][:2] == ["x" * xlsxstream.MAX_CELL_CHARS, "ok"]


def test_rows_past_the_sheet_limit_go_on_in_new_sheets_with_the_header(monkeypatch):
    monkeypatch.setattr(xlsxstream, "SHEET_ROWS", 5)
    rows = [[f"客户{i}", f"0755-{i:04d}", "=备注" if i % 4 == 0 else ""] for i in range(12)]
    buffer = io.BytesIO()
    count = xlsxstream.write_sheet(buffer, sheet_name="客户", headers=HEADERS, rows=iter(rows))
    data = buffer.getvalue()
    assert count == 12

    parsed = read_file(data, file_name="export.xlsx")
    assert [s.name for s in parsed.sheets] == ["客户", "客户 (2)", "客户 (3)"]
    assert [len(s.rows) for s in parsed.sheets] == [5, 5, 2]
    assert all(s.headers == HEADERS and s.first_row == 2 for s in parsed.sheets)
    assert [row[: len(HEADERS)] for s in parsed.sheets for row in s.rows] == rows

    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert workbook.sheet_names == ["客户", "客户 (2)", "客户 (3)"]
    sheets = [workbook.get_sheet_by_index(i).to_python() for i in range(3)]
    assert [sheet[0] for sheet in sheets] == [HEADERS] * 3
    assert [r for sheet in sheets for r in sheet[1:]] == rows

    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert names.count("xl/worksheets/sheet3.xml") == 1 and "xl/worksheets/sheet4.xml" not in names
    types = xml_part(data, "[Content_Types].xml")
    parts = {o.get("PartName") for o in types}
    assert {f"/xl/worksheets/sheet{n}.xml" for n in (1, 2, 3)} <= parts
    rels = {r.get("Id"): r.get("Target") for r in xml_part(data, "xl/_rels/workbook.xml.rels")}
    assert rels == {
        "rId1": "worksheets/sheet1.xml",
        "rId2": "worksheets/sheet2.xml",
        "rId3": "worksheets/sheet3.xml",
        "rId4": "styles.xml",
    }
    for n in (1, 2, 3):
        root = xml_part(data, f"xl/worksheets/sheet{n}.xml")
        view = root.find("m:sheetViews/m:sheetView", NS)
        assert view is not None
        assert view.get("tabSelected") == ("1" if n == 1 else None)  # one tab selected, not a group
        pane = view.find("m:pane", NS)
        assert pane is not None and (pane.get("state"), pane.get("ySplit")) == ("frozen", "1")
        cells = {c.get("r"): c.get("s") for c in root.iterfind(".//m:c", NS)}
        assert cell_style(data, cells["A1"]).get("fontId") == "1"  # bold
        assert cells["A2"] is not None and "A7" not in cells  # rows numbered from 2 in each sheet
        # "=备注" keeps its quote prefix in every sheet it lands in
        quoted = [r for r, style in cells.items() if cell_style(data, style).get("quotePrefix") == "1"]
        assert all(r.startswith("C") for r in quoted)
    assert sum(1 for c in xml_part(data, "xl/worksheets/sheet3.xml").iterfind(".//m:row", NS)) == 3


def test_a_full_last_sheet_begins_no_empty_one_and_no_rows_write_the_header(monkeypatch):
    monkeypatch.setattr(xlsxstream, "SHEET_ROWS", 5)
    data = write([[str(i), "", ""] for i in range(10)])
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names == ["客户", "客户 (2)"]
    buffer = io.BytesIO()
    assert xlsxstream.write_sheet(buffer, sheet_name="客户", headers=HEADERS, rows=iter([])) == 0
    assert CalamineWorkbook.from_filelike(io.BytesIO(buffer.getvalue())).sheet_names == ["客户"]
    assert read(buffer.getvalue()) == [HEADERS]


def test_continued_sheet_names_fit_excels_31_characters_and_stay_unique(monkeypatch):
    monkeypatch.setattr(xlsxstream, "SHEET_ROWS", 1)
    long = "客户 & <合作伙伴>: [华东/华北] 2024 年度全部导出结果"
    names = CalamineWorkbook.from_filelike(io.BytesIO(write([["a"]] * 11, sheet_name=long))).sheet_names
    first = xlsxstream.sheet_name_clean(long)
    assert names[0] == first and len(first) == 31
    assert names[1] == first[:27] + " (2)" and names[9] == first[:26] + " (10)"
    assert all(len(n) <= 31 for n in names) and len(set(names)) == 11
    # a 31-character name ending in " (2)" would meet its own continuation: the number moves on
    clash = "甲" * 27 + " (2)"
    names = CalamineWorkbook.from_filelike(io.BytesIO(write([["a"]] * 3, sheet_name=clash))).sheet_names
    assert names == [clash, "甲" * 27 + " (3)", "甲" * 27 + " (4)"]


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        return len(data)


def test_writes_to_a_stream_that_cannot_seek():
    target = _Unseekable()
    xlsxstream.write_sheet(target, sheet_name="s", headers=HEADERS, rows=iter([["甲", "+1", "乙"]]))
    assert read(b"".join(target.chunks)) == [HEADERS, ["甲", "+1", "乙"]]


# --- the rows: tuples read per chunk give what model instances with prefetch gave -----------------


def rows_from_instances(ids: list[int]) -> list[list[str]]:
    """The customer export as the model-instance reading wrote it before tuples replaced it."""
    out = []
    customers = (
        Customer.objects.filter(pk__in=ids)
        .order_by("pk")
        .prefetch_related(
            "tags",
            Prefetch(
                "contacts",
                queryset=Contact.objects.order_by("-is_key", "sort_key", "id").prefetch_related(
                    Prefetch("points", queryset=ContactPoint.objects.order_by("position", "id"))
                ),
            ),
        )
    )
    for c in customers:
        base = [
            c.name,
            c.short_name,
            choice_label(CustomerKind, c.kind),
            c.industry,
            c.province,
            c.city,
            c.district,
            c.address,
            c.phone,
            c.email,
            c.website,
            choice_label(CustomerStatus, c.status),
            choice_label(RelationshipType, c.relationship_type),
            choice_label(CustomerSource, c.lead_source) if c.lead_source else "",
            c.notes,
            "，".join(sorted(t.name for t in c.tags.all())),
            c.owner.username,
        ]
        contacts = list(c.contacts.all())
        if not contacts:
            out.append(base + [""] * len(exporting.CONTACT_COLUMNS))
        out.extend(base + contact_cells(contact) for contact in contacts)
    return out


def contact_cells(contact: Contact) -> list[str]:
    points = list(contact.points.all())
    return [
        contact.name,
        contact.title,
        contact.department,
        "，".join(p.raw for p in points if p.kind == ContactPointKind.PHONE),
        "，".join(p.raw for p in points if p.kind == ContactPointKind.EMAIL),
        contact.wechat_id,
        choice_label(Gender, contact.gender) if contact.gender else "",
        str(contact.birthday) if contact.birthday else "",
        contact.notes,
    ]


@pytest.fixture
def many(world):
    """Customers across several chunks: key contacts, contacts sorted by name, none at all."""
    for i in range(7):
        customer = make_customer(
            world.owner if i % 2 else world.manager,
            name=f"客户{i}有限公司",
            lead_source="exhibition" if i % 3 else "",
            status="active",
            tags=["华东", f"标签{i}", "重点"] if i % 2 else [],
            notes=f"=备注{i}",
        )
        if i % 3 == 0:
            continue  # a customer without contacts: one row, contact cells empty
        make_contact(customer, name="王五", phones=["0755-26543210"], gender="m", notes="+1")
        make_contact(
            customer,
            name="赵六",
            is_key=True,
            phones=["+86 139 0013 9009", "010-88886666"],
            emails=["zl@example.cn"],
            birthday=dt.date(1980, 2, 29),
        )
        make_contact(customer, name="阿明", emails=["a@example.cn", "b@example.cn"], wechat_id="wx_a")
    return world


def test_customer_rows_are_those_the_model_instances_gave(many, monkeypatch):
    monkeypatch.setattr(exporting, "CHUNK", 3)
    headers, rows = exporting.customer_rows(many.admin, ExportSpec(kind="customers"))
    rows = list(rows)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    assert rows == rows_from_instances(ids)
    assert len(headers) == len(rows[0]) == 26
    assert any(r[0] == "客户3有限公司" and r[17:] == [""] * 9 for r in rows)


def test_contact_interaction_and_order_rows_are_those_the_model_instances_gave(many, monkeypatch):
    monkeypatch.setattr(exporting, "CHUNK", 3)
    customers = list(Customer.objects.order_by("pk"))
    product = ProductFactory()
    for customer in customers[:3]:
        make_interaction(customer, summary=f"拜访{customer.name}", next_step="-报价")
        order_create(
            actor=many.admin,
            source=Source.SYSTEM,
            customer=customer,
            lines=[LineInput(product=product, quantity=Decimal("2.5"), unit_price=Decimal("10"))],
        )
    spec = ExportSpec(kind="x")

    contacts = Contact.objects.select_related("customer").order_by("customer_id", "id")
    expected = [[c.customer.name, *contact_cells(c)] for c in contacts]
    assert list(exporting.contact_rows(many.admin, spec)[1]) == expected

    interactions = Interaction.objects.select_related("customer", "created_by").order_by(
        "customer_id", "occurred_at", "id"
    )
    expected = [
        [
            i.customer.name,
            exporting._text(i.occurred_at),
            choice_label(Channel, i.channel),
            i.summary,
            i.outcome,
            i.next_step,
            exporting._text(i.next_step_due),
            i.created_by.username if i.created_by else "",
        ]
        for i in interactions
    ]
    assert list(exporting.interaction_rows(many.admin, spec)[1]) == expected

    lines = OrderLine.objects.select_related("order", "order__customer", "product").order_by(
        "order__customer_id", "order__ordered_on", "order_id", "id"
    )
    expected = [
        [
            line.order.customer.name,
            line.order.number,
            str(line.order.ordered_on),
            choice_label(OrderStatus, line.order.status),
            line.order.notes,
            line.product.code,
            line.product.name,
            str(line.quantity),
            str(line.unit_price),
            str(line.amount),
        ]
        for line in lines
    ]
    assert len(expected) == 3
    assert list(exporting.order_rows(many.admin, spec)[1]) == expected


def test_xlsx_export_reads_back_cell_for_cell(many):
    buffer = io.BytesIO()
    count = exporting.export_to(buffer, user=many.admin, kind="customers", file_format="xlsx")
    headers, rows = exporting.customer_rows(many.admin, ExportSpec(kind="customers"))
    expected = list(rows)
    sheet = read_file(buffer.getvalue(), file_name="export.xlsx").sheet()
    assert count == len(expected) == len(sheet.rows)
    assert sheet.headers == headers
    assert [row + [""] * (len(headers) - len(row)) for row in sheet.rows] == expected


def test_an_xlsx_export_past_the_sheet_limit_writes_and_counts_every_row(many, monkeypatch):
    monkeypatch.setattr(xlsxstream, "SHEET_ROWS", 5)
    buffer = io.BytesIO()
    count = exporting.export_to(buffer, user=many.admin, kind="customers", file_format="xlsx")
    headers, rows = exporting.customer_rows(many.admin, ExportSpec(kind="customers"))
    expected = list(rows)
    sheets = read_file(buffer.getvalue(), file_name="export.xlsx").sheets
    assert len(expected) > 10
    assert count == len(expected) == sum(len(s.rows) for s in sheets)
    assert [s.name for s in sheets] == ["customers", *(f"customers ({n})" for n in range(2, len(sheets) + 1))]
    assert all(s.headers == headers for s in sheets)
    got = [row + [""] * (len(headers) - len(row)) for s in sheets for row in s.rows]
    assert got == expected
