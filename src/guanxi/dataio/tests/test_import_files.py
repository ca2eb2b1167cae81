"""The malformed-and-awkward file corpus, made here: each bad file is rejected with a row/column
message and changes nothing; each awkward one is read right."""

from __future__ import annotations

import io
import os
import random
import zipfile

import pytest
import xlsxwriter

from guanxi.audit.models import AuditEvent, Source
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.dataio import services
from guanxi.dataio.importing.readers import FileRejected
from guanxi.dataio.models import ImportJob, ImportRow, ImportStatus

HEADER = "客户名称,联系人,手机,邮箱,省,市\n"


def counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        ContactPoint.objects.count(),
        AuditEvent.objects.count(),
        ImportRow.objects.count(),
        ImportJob.objects.count(),
    )


def xlsx(rows: list[list[object]], *, formula: tuple[int, int, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("客户")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    if formula:
        sheet.write_formula(formula[0], formula[1], formula[2])
    workbook.close()
    return buffer.getvalue()


def do_import(user, data: bytes, name: str, **kw):
    job = services.import_preview(actor=user, data=data, file_name=name, **kw)
    return services.import_confirm(actor=user, job=job, background=False)


def rejected(user, data: bytes, name: str, **kw) -> FileRejected:
    before = counts()
    with pytest.raises(FileRejected) as info:
        services.import_preview(actor=user, data=data, file_name=name, **kw)
    assert counts() == before
    return info.value


# --- awkward but fine -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("gb18030", b"", "gb18030"),
        ("utf-16", b"", "utf-16"),
    ],
)
def test_csv_encodings_are_detected_and_reported(world, encoding, prefix, expected):
    text = HEADER + "深圳腾达贸易有限公司,张伟,13700137000,zw@tengda.cn,广东,深圳\n" * 3
    job = services.import_preview(actor=world.owner, data=prefix + text.encode(encoding), file_name="a.csv")
    assert job.report["file"]["encoding"] == expected
    assert job.report["outcomes"][0]["name"] == "深圳腾达贸易有限公司"
    assert job.report["actions"]["create"] == 1 and job.report["actions"]["merge"] == 2


def test_short_ambiguous_file_asks_for_the_encoding(world):
    data = "客户名称\n张三\n".encode("gb18030")
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    assert job.report["file"]["encoding_ambiguous"]
    assert "gb18030" in job.report["file"]["encoding_candidates"]
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.FAILED and job.report["error"]["code"] == "encoding_ambiguous"
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv", encoding="gb18030")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE
    assert Customer.objects.filter(name="张三").exists()


def test_excel_floats_and_fullwidth_phones_are_normalised_raw_kept(world):
    data = xlsx(
        [
            ["客户名称", "联系人", "手机"],
            ["腾达贸易", "张伟", 13900139001.0],
            ["华信科技", "李娜", "１３９００１３９００２"],
        ]
    )
    do_import(world.owner, data, "book.xlsx")
    points = dict(
        ContactPoint.objects.filter(
            contact__name__in=["张伟", "李娜"], contact__customer__name__in=["腾达贸易", "华信科技"]
        ).values_list("raw", "value")
    )
    assert points == {"13900139001": "+8613900139001", "１３９００１３９００２": "+8613900139002"}


def test_ambiguous_phone_is_flagged_not_guessed(world):
    data = (HEADER + "美国客户,Tom,(415) 555-2671,,,\n").encode()
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    assert job.report["outcomes"][0]["flags"]
    services.import_confirm(actor=world.owner, job=job, background=False)
    point = ContactPoint.objects.get(raw="(415) 555-2671")
    assert point.is_ambiguous


def test_vcard_21_quoted_printable_and_30(world):
    android = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=BC=9F;;;\r\n"
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0=E4=BC=9F\r\nTEL;CELL:139-0013-9003\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:李娜\r\nN:李;娜;;;\r\nORG:深圳腾达贸易有限公司\r\nTITLE:采购经理\r\n"
        "TEL;TYPE=CELL:+86 139 0013 9004\r\nEMAIL;TYPE=INTERNET:lina@tengda.cn\r\nEND:VCARD\r\n"
    ).encode()
    job = do_import(world.owner, android, "contacts.vcf")
    assert job.status == ImportStatus.DONE, job.report
    person = Customer.objects.get(name="张伟", kind="person")
    assert person.contacts.get().points.get().value == "+8613900139003"
    company = Customer.objects.get(name="深圳腾达贸易有限公司")
    contact = company.contacts.get()
    assert (contact.name, contact.title) == ("李娜", "采购经理")


def test_workbook_with_one_sheet_per_kind(world):
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, rows in (
        ("产品", [["编码", "名称", "单价"], ["P-1", "螺丝", "2.50"]]),
        ("客户", [["客户名称", "联系人", "手机"], ["腾达贸易", "张伟", "13900139005"]]),
        (
            "订单",
            [
                ["客户名称", "订单号", "下单日期", "产品编码", "数量"],
                ["腾达贸易", "SO-1", "2026-01-05", "P-1", "4"],
                ["腾达贸易", "SO-1", "2026-01-05", "P-1", "2"],
            ],
        ),
    ):
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    workbook.close()
    job = do_import(world.owner, buffer.getvalue(), "all.xlsx", kind="auto")
    assert job.status == ImportStatus.DONE, job.report
    customer = Customer.objects.get(name="腾达贸易")
    order = customer.orders.get()
    assert order.number == "SO-1" and order.lines.count() == 2 and str(order.amount) == "15.00"


def test_sheets_left_out_of_an_import_are_named_in_its_report(world):
    """An export longer than one sheet goes on in "customers (2)": an import of its first sheet says
    which sheets it did not read instead of dropping them without a word."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, rows in (
        ("customers", [["客户名称", "手机"], ["腾达贸易", "13900139005"]]),
        ("customers (2)", [["客户名称", "手机"], ["华为技术", "13900139006"]]),
        ("empty", []),
    ):
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                sheet.write_string(r, c, value)
    workbook.close()
    job = services.import_preview(actor=world.owner, data=buffer.getvalue(), file_name="export.xlsx")
    notes = " ".join(job.report["notes"])
    assert "Sheets not imported: customers (2)." in notes and "empty" not in notes
    second = services.import_preview(
        actor=world.owner, data=buffer.getvalue(), file_name="export.xlsx", sheet="customers (2)"
    )
    assert "Sheets not imported: customers." in " ".join(second.report["notes"])


# --- malformed: rejected, nothing changed ---------------------------------------------------------


def test_mixed_encodings_are_rejected_with_lines(world):
    data = (
        HEADER.encode()
        + "腾达,张伟,13900139000,,广东,深圳\n".encode()
        + "华信,李娜,13900139001,,北京,北京\n".encode("gbk")
    )
    error = rejected(world.owner, data, "mixed.csv")
    assert error.code == "mixed_encoding"
    assert {d["row"] for d in error.details} == {1, 3}  # the header is UTF-8, line 3 is GBK


def test_truncated_xlsx_is_rejected(world):
    data = xlsx([["客户名称"], *[[f"客户{i}"] for i in range(200)]])
    error = rejected(world.owner, data[: len(data) // 2], "cut.xlsx")
    assert error.code == "corrupt_workbook"


def test_zip_bomb_is_refused_before_parsing(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    error = rejected(world.owner, buffer.getvalue(), "bomb.xlsx")
    assert error.code == "zip_bomb"


def test_binary_junk_named_csv_is_rejected(world):
    # Many seeds: once, a run of random bytes held a line that decodes as UTF-8 and was called
    # "mixed encodings"; binary is now recognised on the bytes, before any encoding is guessed.
    for seed in range(40):
        junk = random.Random(seed).randbytes(4096)
        error = rejected(world.owner, junk, "junk.csv")
        assert error.code == "binary_file", (seed, error.code)
        assert "binary" in error.message_en and "二进制" in error.message_zh


def test_xls_renamed_xlsx_is_read_by_content_and_a_damaged_one_rejected(world):
    fake_xls = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2048)
    error = rejected(world.owner, fake_xls, "old.xlsx")
    assert error.code == "corrupt_workbook"
    assert ".xls" in error.message_en


def test_text_named_xlsx_is_rejected(world):
    error = rejected(world.owner, HEADER.encode(), "fake.xlsx")
    assert error.code == "not_a_workbook"


def test_duplicate_and_empty_headers_are_rejected_by_column(world):
    error = rejected(world.owner, "客户名称,手机,手机,\n腾达,1,2,3\n".encode(), "h.csv")
    assert error.code == "bad_headers"
    columns = {d.get("column") for d in error.details}
    assert {"C", "D"} <= columns


def test_formula_cells_are_rejected_with_their_cell(world):
    error = rejected(
        world.owner, xlsx([["客户名称", "备注"], ["腾达", "x"]], formula=(1, 1, "=1+1")), "f.xlsx"
    )
    assert error.code == "formula_cell" and error.details[0]["column"] == "B" and error.details[0]["row"] == 2
    before = counts()
    job = services.import_preview(
        actor=world.owner, data=(HEADER + '腾达,张伟,"=HYPERLINK(""x"")",,,\n').encode(), file_name="f.csv"
    )
    assert job.report["actions"]["reject"] == 1
    assert job.report["errors"][0]["column"] == "C" and job.report["errors"][0]["row"] == 2
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.FAILED
    assert counts()[:5] == before[:5]


def test_one_bad_row_in_10k_rejects_the_whole_file_with_its_row(world):
    lines = [HEADER]
    for i in range(10_000):
        email = "not-an-email" if i == 7_321 else f"c{i}@example.com"
        lines.append(f"客户{i}有限公司,联系人{i},139{i:08d},{email},广东,深圳\n")
    before = counts()
    job = services.import_preview(actor=world.owner, data="".join(lines).encode(), file_name="big.csv")
    assert job.report["actions"]["reject"] == 1
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.FAILED
    error = job.report["error"]
    assert error["code"] == "import_rejected"
    assert error["details"][0]["row"] == 7_323 and error["details"][0]["column"] == "D"
    assert counts()[:5] == before[:5]


def test_skip_invalid_imports_the_rest(world):
    data = (
        HEADER + "腾达,张伟,13900139000,bad,广东,深圳\n华信,李娜,13900139001,ln@hx.cn,北京,北京\n"
    ).encode()
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    job = services.import_confirm(actor=world.owner, job=job, skip_invalid=True, background=False)
    assert job.status == ImportStatus.DONE
    assert job.report["actions"]["reject"] == 1
    assert Customer.objects.filter(name="华信").exists() and not Customer.objects.filter(name="腾达").exists()


def test_import_is_set_based_and_audited_per_customer(world, django_assert_max_num_queries):
    rows = "".join(f"客户{i}有限公司,联系人{i},139{i:08d},c{i}@example.com,广东,深圳\n" for i in range(500))
    job = services.import_preview(actor=world.owner, data=(HEADER + rows).encode(), file_name="a.csv")
    # Bulk statements: the count grows with batches (SQLite binds at most 999 values per statement),
    # never with rows.
    with django_assert_max_num_queries(100):
        job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.report["counts"]["customers_created"] == 500
    customer = Customer.objects.get(name="客户7有限公司")
    event = AuditEvent.objects.get(customer=customer, action="customer.create")
    assert event.source == "import" and event.import_number == job.pk
    assert ImportRow.objects.filter(job=job, object_type="customer").count() == 500
    assert customer.search_scope == f"o{world.owner.pk} t{world.owner.team_id}"


def test_reimport_matches_existing_by_phone_and_fills_blanks(world):
    data = (HEADER + "华为公司,张伟,139 0013 9000,,,\n").encode()
    job = do_import(world.owner, data, "a.csv")
    assert job.report["actions"]["skip"] == 1 or job.report["actions"]["update"] == 1
    assert Customer.objects.count() == 1
    data = "客户名称,网站\n华为技术有限公司,huawei.com\n".encode()
    job = do_import(world.owner, data, "b.csv")
    world.customer.refresh_from_db()
    assert world.customer.website == "huawei.com"
    assert job.report["actions"]["update"] == 1


def test_outsiders_customers_are_not_matched_or_touched(world):
    data = "客户名称,网站\n华为技术有限公司,evil.example\n".encode()
    job = do_import(world.outsider, data, "b.csv")
    world.customer.refresh_from_db()
    assert world.customer.website == ""
    assert job.report["actions"]["create"] == 1
    assert Customer.objects.filter(name="华为技术有限公司", owner=world.outsider).exists()


def test_mapping_template_is_remembered_per_source(world):
    data = "公司名,手机号码\n腾达,13900139000\n".encode()
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    assert job.report["file"]["plan"][0]["mapping"] == {"手机号码": "contact.phones"}
    error = rejected(world.owner, data, "a.csv", mapping={"公司名": "nope"})
    assert error.code == "bad_headers"
    job = services.import_preview(
        actor=world.owner,
        data=data,
        file_name="a.csv",
        mapping={"公司名": "customer.name", "手机号码": "customer.phone"},
    )
    services.import_confirm(actor=world.owner, job=job, background=False)
    again = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    assert again.report["file"]["plan"][0]["mapping"] == {
        "公司名": "customer.name",
        "手机号码": "customer.phone",
    }


def test_many_rows_are_indexed_for_search_in_one_statement(world, monkeypatch):
    """From FTS_MIN_ROWS rows on, SQLite's FTS5 index is filled by one INSERT…SELECT after the rows
    (the per-row trigger is dropped meanwhile and put back): the imported customers and contacts
    are found, and rows written afterwards are indexed by the trigger again."""
    from django.db import connection

    from guanxi.customers.services import customer_create
    from guanxi.dataio.importing import bulkinsert
    from guanxi.search.selectors import search_all

    monkeypatch.setattr(bulkinsert, "FTS_MIN_ROWS", 3)
    rows = "".join(f"甬江精密{i:02d}厂,宋{i:02d}梅,1391234{i:04d},,浙江,宁波\n" for i in range(6))
    job = do_import(world.owner, (HEADER + rows).encode(), "many.csv")
    assert job.status == "done", job.report
    found = search_all(user=world.owner, query="甬江")
    assert len(found.customers) == 6
    assert {c["name"] for c in search_all(user=world.owner, query="13912340003").contacts} == {"宋03梅"}
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                "('customers_customer_fts_ai', 'customers_contact_fts_ai')"
            )
            assert cursor.fetchone()[0] == 2
    customer_create(actor=world.owner, source=Source.UI, name="甬江后来公司")
    assert len(search_all(user=world.owner, query="甬江").customers) == 7


def test_failed_bulk_insert_puts_the_search_trigger_back(world):
    """Should a bulk insert fail, the per-row trigger is back before the error leaves it."""
    from django.db import DatabaseError, connection, transaction

    from guanxi.dataio.importing import bulkinsert

    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 trigger exists on SQLite only")

    def trigger_count() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'customers_customer_fts_ai'")
            return int(cursor.fetchone()[0])

    ids = list(range(10_000_000, 10_000_000 + bulkinsert.FTS_MIN_ROWS))
    seen_inside: list[int] = []

    def failing_insert() -> None:
        with (
            connection.cursor() as cursor,
            bulkinsert._search_index_filled_after(cursor, "customers_customer", ids),
        ):
            seen_inside.append(trigger_count())
            cursor.execute("INSERT INTO no_such_table VALUES (1)")

    with transaction.atomic():
        with pytest.raises(DatabaseError):
            failing_insert()
        assert seen_inside == [0]  # dropped while the rows went in
        assert trigger_count() == 1


def test_index_fill_merges_less_often_and_puts_the_setting_back(world, monkeypatch):
    """During the one-statement fill FTS5 merges segments 16 at a time; the index's own automerge
    setting is back afterwards, and the rows are found."""
    from django.db import connection

    from guanxi.dataio.importing import bulkinsert
    from guanxi.search.selectors import search_all

    if connection.vendor != "sqlite":
        pytest.skip("FTS5 exists on SQLite only")
    monkeypatch.setattr(bulkinsert, "FTS_MIN_ROWS", 3)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer_fts (customers_customer_fts, rank) VALUES ('automerge', 8)"
        )
    settings: list[list[object]] = []

    def record(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "customers_customer_fts"') and "'automerge'" in sql:
            settings.append(list(params))
        return execute(sql, params, many, context)

    rows = "".join(f"甬江精密{i:02d}厂,宋{i:02d}梅,1391234{i:04d},,浙江,宁波\n" for i in range(6))
    with connection.execute_wrapper(record):
        job = do_import(world.owner, (HEADER + rows).encode(), "many.csv")
    assert job.status == "done", job.report
    assert settings == [[bulkinsert.FILL_AUTOMERGE], [8]]
    with connection.cursor() as cursor:
        cursor.execute("SELECT v FROM customers_customer_fts_config WHERE k = 'automerge'")
        assert cursor.fetchone()[0] == 8
    assert len(search_all(user=world.owner, query="甬江").customers) == 6


def test_bulk_rows_go_in_whole_with_their_types_or_fail_as_django_errors(world):
    """The bulk insert (COPY on PostgreSQL, executemany on SQLite) writes every kind of value the
    import writes — text with tabs, backslashes and newlines, NULLs, dates, timestamps, booleans,
    JSON — as an INSERT would; a bad row (a duplicate id) raises Django's IntegrityError and, the
    transaction rolled back, leaves no row behind."""
    import datetime as dt

    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from guanxi.dataio.importing import bulkinsert

    customer_ids = bulkinsert.reserve_ids(Customer, 2)
    stamp = bulkinsert.db_datetime(timezone.now())
    customers = bulkinsert.Inserter(
        Customer, ["id", "owner", "name", "notes", "search_doc", "search_scope", "created_at", "updated_at"]
    )
    odd = "制表\t反斜杠\\N 换行\n结束"
    with transaction.atomic():
        customers.insert(
            [
                (customer_ids[0], world.owner.pk, "甬江精密", odd, "u7532", "o1", stamp, stamp),
                (customer_ids[1], world.owner.pk, "宁波港", "", "", "o1", stamp, stamp),
            ]
        )
        contact_id = bulkinsert.reserve_ids(Contact, 1)[0]
        bulkinsert.Inserter(
            Contact, ["id", "customer", "name", "birthday", "search_doc", "created_at", "updated_at"]
        ).insert(
            [
                (
                    contact_id,
                    customer_ids[0],
                    "宋梅",
                    bulkinsert.db_date(dt.date(1990, 2, 28)),
                    "",
                    stamp,
                    stamp,
                )
            ]
        )
        bulkinsert.Inserter(ContactPoint, ["id", "contact", "kind", "raw", "value", "is_ambiguous"]).insert(
            [
                (
                    bulkinsert.reserve_ids(ContactPoint, 1)[0],
                    contact_id,
                    "phone",
                    "0574 1234",
                    "057412345",
                    True,
                )
            ]
        )
        audit_id = bulkinsert.reserve_ids(AuditEvent, 1)[0]
        bulkinsert.Inserter(
            AuditEvent,
            ["id", "created_at", "actor", "source", "action", "object_type", "object_id", "changes"],
        ).insert(
            [
                (
                    audit_id,
                    stamp,
                    world.owner.pk,
                    "import",
                    "customer.create",
                    "customer",
                    customer_ids[0],
                    bulkinsert.json_adapter()({"name": [None, "甬江\t精密"], "n": [None, 1.5]}),
                )
            ]
        )
    first = Customer.objects.get(pk=customer_ids[0])
    assert (first.name, first.notes, first.owner_id) == ("甬江精密", odd, world.owner.pk)
    assert Customer.objects.get(pk=customer_ids[1]).notes == ""
    assert Contact.objects.get(pk=contact_id).birthday == dt.date(1990, 2, 28)
    point = ContactPoint.objects.get(contact_id=contact_id)
    assert (point.value, point.is_ambiguous, point.label) == ("057412345", True, "")
    assert AuditEvent.objects.get(pk=audit_id).changes == {"name": [None, "甬江\t精密"], "n": [None, 1.5]}

    before = counts()
    taken = bulkinsert.reserve_ids(Customer, 1)[0]
    with pytest.raises(IntegrityError), transaction.atomic():
        customers.insert(
            [
                (taken, world.owner.pk, "新客户", "", "", "o1", stamp, stamp),
                (customer_ids[0], world.owner.pk, "重复的编号", "", "", "o1", stamp, stamp),
            ]
        )
    assert counts() == before
    assert not Customer.objects.filter(pk=taken).exists()
