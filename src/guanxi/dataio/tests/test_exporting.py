from __future__ import annotations

import csv
import io
import json

import pytest
import vobject
from python_calamine import CalamineWorkbook

from guanxi.audit.models import AuditEvent, Source
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.services import customer_delete, customer_share
from guanxi.dataio import exporting, services
from guanxi.dataio.exporting import ExportSpec
from guanxi.dataio.models import DataExport, ImportStatus
from guanxi.testing.factories import make_contact, make_customer


@pytest.fixture
def book(world):
    tricky = make_customer(
        world.owner,
        name='=HYPERLINK("http://x")公司',
        province="北京",
        city="北京",
        phone="010-88886666",
        notes="+1 好评",
        tags=["@重点", "华北"],
    )
    make_contact(
        tricky,
        name="李娜",
        phones=["0755-26543210", "+86 139 0013 9009"],
        emails=["li.na@example.cn"],
        title="-总监",
    )
    make_customer(world.outsider, name="别人的客户有限公司")
    return tricky


def snapshot(customers) -> list[tuple]:
    out = []
    for c in customers.order_by("name"):
        contacts = sorted(
            (ct.name, ct.title, tuple(sorted(p.raw for p in ct.points.all())), ct.wechat_id)
            for ct in c.contacts.all()
        )
        out.append(
            (
                c.name,
                c.kind,
                c.province,
                c.city,
                c.phone,
                c.notes,
                c.status,
                c.relationship_type,
                tuple(sorted(t.name for t in c.tags.all())),
                tuple(contacts),
            )
        )
    return out


def export_bytes(user, kind: str, fmt: str, spec: ExportSpec | None = None) -> bytes:
    buffer = io.BytesIO()
    exporting.export_to(buffer, user=user, kind=kind, file_format=fmt, spec=spec or ExportSpec(kind=kind))
    return buffer.getvalue()


def test_xlsx_keeps_phones_as_text_and_never_writes_formulas(world, book):
    data = export_bytes(world.owner, "customers", "xlsx")
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    header = rows[0]
    tricky = next(r for r in rows if str(r[0]).startswith("=HYPERLINK"))
    assert tricky[header.index("公司电话")] == "010-88886666"
    assert tricky[header.index("手机/电话")] == "0755-26543210，+86 139 0013 9009"
    import zipfile

    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    assert b'quotePrefix="1"' in zipfile.ZipFile(io.BytesIO(data)).read("xl/styles.xml")


def test_csv_has_bom_and_neutralised_cells(world, book):
    data = export_bytes(world.owner, "customers", "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    tricky = next(r for r in rows if "HYPERLINK" in r[0])
    assert tricky[0].startswith("'=")
    assert tricky[rows[0].index("备注")] == "'+1 好评"
    assert tricky[rows[0].index("职务")] == "'-总监"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_records(world, book, fmt):
    mine = Customer.objects.filter(owner=world.owner)
    before = snapshot(mine)
    data = export_bytes(world.owner, "customers", fmt)
    for customer in list(mine):
        customer_delete(actor=world.manager, source=Source.UI, customer=customer)
    assert not Customer.objects.filter(owner=world.owner).exists()
    job = services.import_preview(actor=world.owner, data=data, file_name=f"export.{fmt}")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert snapshot(Customer.objects.filter(owner=world.owner)) == before


def test_vcard_export_is_valid_30_and_imports_back(world, book):
    data = export_bytes(world.owner, "contacts", "vcf")
    cards = list(vobject.readComponents(data.decode()))
    assert {c.fn.value for c in cards} == {"张伟", "李娜"}
    lina = next(c for c in cards if c.fn.value == "李娜")
    assert lina.version.value == "3.0"
    assert sorted(t.value for t in lina.tel_list) == ["+86 139 0013 9009", "0755-26543210"]
    assert lina.email.value == "li.na@example.cn"
    assert lina.org.value[0].startswith("=HYPERLINK")
    Contact.objects.all().delete()
    job = services.import_preview(actor=world.owner, data=data, file_name="contacts.vcf")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert set(ContactPoint.objects.filter(contact__name="李娜").values_list("raw", flat=True)) == {
        "0755-26543210",
        "+86 139 0013 9009",
        "li.na@example.cn",
    }


def test_json_export(world, book):
    items = json.loads(export_bytes(world.owner, "customers", "json"))
    assert {i["客户名称"] for i in items} == {"华为技术有限公司", book.name}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", {"华为技术有限公司", "TRICKY"}),
        ("teammate", {"华为技术有限公司"}),  # shared with him below
        ("outsider", {"别人的客户有限公司"}),
        ("manager", {"华为技术有限公司", "TRICKY"}),
        ("admin", {"华为技术有限公司", "TRICKY", "别人的客户有限公司"}),
    ],
)
def test_exports_respect_visibility(world, book, persona, expected):
    customer_share(actor=world.owner, source=Source.UI, customer=world.customer, user=world.teammate)
    user = getattr(world, persona)
    names = {i["客户名称"] for i in json.loads(export_bytes(user, "customers", "json"))}
    assert names == {book.name if n == "TRICKY" else n for n in expected}
    interactions = json.loads(export_bytes(user, "interactions", "json"))
    assert all(i["客户名称"] in names for i in interactions)


def test_filtered_export_is_the_current_list(world, book):
    spec = ExportSpec(kind="customers", q="华为", filters={"province": "广东"})
    names = {i["客户名称"] for i in json.loads(export_bytes(world.owner, "customers", "json", spec))}
    assert names == {"华为技术有限公司"}


def test_export_is_logged(world, book):
    services.export_log(
        actor=world.owner,
        source=Source.UI,
        kind="customers",
        file_format="csv",
        filters={"q": ""},
        row_count=3,
    )
    assert DataExport.objects.get().row_count == 3
    assert AuditEvent.objects.filter(action="data.export", actor=world.owner).exists()
