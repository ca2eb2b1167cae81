"""The import takes back what its preview prepared (``importing.plans``) only when it would have
prepared exactly the same, and it always matches against the database as it is at confirm time."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from guanxi.audit.models import AuditEvent, Source
from guanxi.customers.models import Contact, ContactPoint, Customer
from guanxi.customers.services import customer_create
from guanxi.dataio import services
from guanxi.dataio.importing import customers as customer_import
from guanxi.dataio.importing import plans
from guanxi.dataio.importing.mapping import guess_mapping
from guanxi.dataio.importing.readers import read_file
from guanxi.dataio.importing.report import Report
from guanxi.dataio.models import ImportJob, ImportStatus
from guanxi.testing.factories import TeamFactory, UserFactory

HEADER = "客户名称,联系人,手机,邮箱,微信,生日,标签,省,市\n"
ROWS = (
    "深圳腾达贸易有限公司,张伟,13900139001,zw@tengda.cn,wx_zw,1980-05-01,重点;华南,广东,深圳\n"
    "深圳腾达贸易有限公司,李娜,+86 139 0013 9002,ln@tengda.cn,,,渠道,广东,深圳\n"
    "长城重工,王芳,(415) 555-2671,,,,,,\n"
    "银行分行,曾小明,13900139004,,wx_zeng,1990/02/03,,北京,北京\n"
)
DATA = (HEADER + ROWS).encode()


@pytest.fixture
def prepares(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many sheets were prepared from the file (not taken from a plan)."""
    calls: list[int] = []
    real = customer_import.prepare

    def counted(*args: Any, **kwargs: Any) -> list[customer_import.CustomerDraft]:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_import, "prepare", counted)
    return calls


def imported(owner_id: int) -> dict[str, Any]:
    """What an import wrote for one owner, without ids, owner or time."""
    customers = Customer.objects.filter(owner_id=owner_id).order_by("name")
    return {
        "customers": list(
            customers.values_list("name", "kind", "province", "city", "search_doc", "sort_key", "phone")
        ),
        "tags": sorted(customers.values_list("name", "tags__name")),
        "contacts": sorted(
            Contact.objects.filter(customer__owner_id=owner_id).values_list(
                "customer__name", "name", "wechat_id", "birthday", "search_doc", "sort_key"
            )
        ),
        "points": sorted(
            ContactPoint.objects.filter(contact__customer__owner_id=owner_id).values_list(
                "contact__name", "kind", "raw", "value", "label", "is_ambiguous", "position"
            )
        ),
        "audit": sorted(
            (
                e.action,
                e.object_repr,
                sorted((k, v) for k, v in e.changes.items() if k not in ("owner", "_import")),
            )
            for e in AuditEvent.objects.filter(customer__owner_id=owner_id, source=Source.IMPORT)
        ),
    }


def test_a_plan_read_back_is_what_was_prepared():
    parsed = read_file(DATA, file_name="a.csv")
    sheet = parsed.sheets[0]
    report = Report()
    report.file = {"name": "a.csv", "plan": [{"headers": sheet.headers}]}
    report.notes = ["a note"]
    drafts = customer_import.prepare(sheet, guess_mapping("customers", sheet.headers), report)
    assert drafts[0].contacts[0].fields["birthday"] == dt.date(1980, 5, 1)
    assert drafts[0].rows == [2, 3] and len(drafts[0].contacts) == 2
    assert any(o.flags for o in report.rows.values())  # the ambiguous number

    raw = plans.dumps("key", report, [plans.Prepared("customers", sheet.name, {"a": "b"}, drafts)])
    loaded = plans.loads(raw, "key")

    assert loaded is not None
    again, [prepared] = loaded
    assert prepared.drafts == drafts
    assert (prepared.kind, prepared.sheet, prepared.mapping) == ("customers", sheet.name, {"a": "b"})
    assert again.rows == report.rows
    assert (again.file, again.notes, again.errors) == (report.file, report.notes, report.errors)
    assert plans.loads(raw, "another key") is None
    assert plans.loads(b"not a plan", "key") is None
    assert plans.loads(raw[:-1] + bytes([raw[-1] ^ 1]), "key") is None  # altered: not unpickled
    assert plans.loads(raw[: len(plans.MAGIC) + plans.MAC_SIZE], "key") is None


def test_a_plan_signed_with_another_secret_key_is_not_read(settings):
    parsed = read_file(DATA, file_name="a.csv")
    sheet = parsed.sheets[0]
    report = Report()
    drafts = customer_import.prepare(sheet, guess_mapping("customers", sheet.headers), report)
    raw = plans.dumps("key", report, [plans.Prepared("customers", sheet.name, {}, drafts)])
    assert plans.loads(raw, "key") is not None
    settings.SECRET_KEY = "another-installation-" + "x" * 40
    assert plans.loads(raw, "key") is None


def test_import_takes_the_preview_plan_and_writes_what_a_fresh_one_writes(world, prepares):
    # Two salespeople of their own team, with no customers yet: neither sees the other's.
    first = UserFactory(username="dan", team=TeamFactory(name="西南组"))
    second = UserFactory(username="eve", team=TeamFactory(name="东北组"))
    job = services.import_preview(actor=first, data=DATA, file_name="a.csv")
    assert plans.path_for(job.file_path).exists()
    assert len(prepares) == 1
    job = services.import_confirm(actor=first, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 1  # not prepared again
    assert not plans.path_for(job.file_path).exists()

    # The same file for someone else, whose plan is gone before the import: prepared afresh.
    fresh = services.import_preview(actor=second, data=DATA, file_name="a.csv")
    plans.path_for(fresh.file_path).unlink()
    fresh = services.import_confirm(actor=second, job=fresh, background=False)
    assert fresh.status == ImportStatus.DONE, fresh.report
    assert len(prepares) == 3

    assert imported(first.pk) == imported(second.pk)
    assert len(imported(first.pk)["customers"]) == 3
    for key in ("actions", "counts", "errors", "rows"):
        assert job.report[key] == fresh.report[key]
    strip = ("customer_id",)
    assert [{k: v for k, v in o.items() if k not in strip} for o in job.report["outcomes"]] == [
        {k: v for k, v in o.items() if k not in strip} for o in fresh.report["outcomes"]
    ]


def test_a_file_changed_after_the_preview_is_prepared_again(world, prepares):
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    Path(job.file_path).write_bytes(DATA.replace("长城重工".encode(), "长江重工".encode()))
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 2
    assert Customer.objects.filter(name="长江重工").exists()
    assert not Customer.objects.filter(name="长城重工").exists()


def test_a_mapping_changed_at_confirm_is_prepared_again(world, prepares):
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    mapping = {**job.mapping, "微信": "customer.notes"}
    job = services.import_confirm(actor=world.owner, job=job, mapping=mapping, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 2
    assert Customer.objects.get(name="银行分行").notes == "wx_zeng"
    assert not Contact.objects.filter(wechat_id="wx_zeng").exists()


def test_an_unreadable_plan_is_prepared_again(world, prepares):
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    plans.path_for(job.file_path).write_bytes(b"\x78\x01garbage")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 2
    assert Customer.objects.filter(owner=world.owner, name="长城重工").exists()


def test_customers_added_after_the_preview_are_matched_by_the_import(world, prepares):
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    assert job.report["actions"]["update"] == 0
    customer_create(actor=world.owner, source=Source.UI, name="长城重工")
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 1
    assert Customer.objects.filter(name="长城重工").count() == 1
    assert job.report["actions"]["update"] == 1


def test_a_cancelled_preview_leaves_no_plan(world, django_capture_on_commit_callbacks):
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    plan = plans.path_for(job.file_path)
    assert plan.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.import_cancel(actor=world.owner, job=job)
    assert not plan.exists() and not Path(job.file_path).exists()


def test_previews_left_unconfirmed_expire_with_their_upload_and_plan(
    world, settings, django_capture_on_commit_callbacks
):
    from guanxi.dataio.tasks import expire_import_previews

    settings.GUANXI_IMPORT_PREVIEW_HOURS = 48
    old = services.import_preview(actor=world.owner, data=DATA, file_name="old.csv")
    recent = services.import_preview(actor=world.owner, data=DATA, file_name="recent.csv")
    done = services.import_preview(actor=world.owner, data=DATA, file_name="done.csv")
    done = services.import_confirm(actor=world.owner, job=done, background=False)
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    ImportJob.objects.filter(pk__in=[old.pk, done.pk]).update(created_at=three_days_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_import_previews.call() == 1
    old.refresh_from_db()
    assert old.status == ImportStatus.CANCELLED and old.report["expired"] is True
    assert not Path(old.file_path).exists() and not plans.path_for(old.file_path).exists()
    assert AuditEvent.objects.filter(action="import.expire", object_id=old.pk, source=Source.JOB).count() == 1
    recent.refresh_from_db()
    assert recent.status == ImportStatus.PREVIEWED and plans.path_for(recent.file_path).exists()
    assert ImportJob.objects.get(pk=done.pk).status == ImportStatus.DONE
    with django_capture_on_commit_callbacks(execute=True):
        assert services.import_expire_previews() == 0  # idempotent
    recent = services.import_confirm(actor=world.owner, job=recent, background=False)
    assert recent.status == ImportStatus.DONE


def test_a_rejected_import_leaves_no_plan(world):
    data = DATA + "坏行公司,赵六,13900139009,not-an-email,,,,,\n".encode()
    job = services.import_preview(actor=world.owner, data=data, file_name="a.csv")
    assert plans.path_for(job.file_path).exists()
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.FAILED and job.report["error"]["code"] == "import_rejected"
    assert not plans.path_for(job.file_path).exists()
    assert not Customer.objects.filter(name="坏行公司").exists()


def test_documents_split_across_two_processes_are_those_of_one(monkeypatch):
    """``customers._documents`` computes the later half of the drafts' search documents in a forked
    child above PARALLEL_MIN drafts: the drafts come out exactly as computed in one process."""
    from guanxi.core import forked

    if not forked.available():
        pytest.skip("needs fork and two cores")
    rows = "".join(
        f"深圳{i}号重工贸易有限公司,曾小明{i},139{i:08d},u{i}@ex.cn,wx{i},,,广东,深圳\n" for i in range(40)
    )
    sheet = read_file((HEADER + rows).encode(), file_name="a.csv").sheets[0]
    mapping = guess_mapping("customers", sheet.headers)
    serial = customer_import.prepare(sheet, mapping, Report())
    monkeypatch.setattr(customer_import, "PARALLEL_MIN", 2)
    children = []
    real_split = forked.split
    monkeypatch.setattr(forked, "split", lambda c, p: children.append(1) or real_split(c, p))
    split = customer_import.prepare(sheet, mapping, Report())
    assert children == [1]
    assert split == serial and all(d.doc and d.contacts[0].doc for d in split)

    monkeypatch.setattr(forked, "split", lambda c, p: p())  # the child failed: its half done here
    assert customer_import.prepare(sheet, mapping, Report()) == serial


def test_a_large_preview_writes_its_plan_from_a_forked_child_as_it_was_before_matching(
    world, prepares, monkeypatch
):
    """Above PARALLEL_MIN customers the plan is written by a child while the preview matches; the
    import takes it (not prepared again) and writes what a fresh import writes. A child that fails
    leaves no plan (nor a half-written one), and the import prepares afresh."""
    from guanxi.core import forked

    if not forked.available():
        pytest.skip("needs fork and two cores")
    monkeypatch.setattr(customer_import, "PARALLEL_MIN", 2)
    customer_create(actor=world.owner, source=Source.UI, name="长城重工")  # matched: an update
    splits = []
    real_split = forked.split
    monkeypatch.setattr(forked, "split", lambda c, p: splits.append(1) or real_split(c, p))
    job = services.import_preview(actor=world.owner, data=DATA, file_name="a.csv")
    assert job.report["actions"]["update"] == 1
    assert plans.path_for(job.file_path).exists() and len(splits) >= 1
    stored = plans.load(plans.path_for(job.file_path), _key(job))
    assert stored is not None
    assert all(d.existing_id is None for d in stored[1][0].drafts)  # taken before the match
    job = services.import_confirm(actor=world.owner, job=job, background=False)
    assert job.status == ImportStatus.DONE, job.report
    assert len(prepares) == 1 and job.report["actions"]["update"] == 1

    monkeypatch.setattr(forked, "split", lambda c, p: p())  # the child failed
    failed = services.import_preview(actor=world.owner, data=DATA, file_name="b.csv")
    plan = plans.path_for(failed.file_path)
    assert not plan.exists() and not plan.with_name(plan.name + ".tmp").exists()
    failed = services.import_confirm(actor=world.owner, job=failed, background=False)
    assert failed.status == ImportStatus.DONE and len(prepares) == 3


def _key(job: Any) -> str:
    return plans.fingerprint(
        Path(job.file_path).read_bytes(), file_name=job.file_name, kind=job.kind, encoding="", sheet=""
    )


def test_rows_built_on_a_thread_beside_the_search_index_fill_are_those_built_after_it(world, monkeypatch):
    """``write`` builds the contacts', numbers', audit and provenance rows on a thread while the
    database takes the customers (SQLite: their search-index fill; PostgreSQL: their COPY): what
    lands is exactly what the one-thread path writes, for new customers and for an existing one
    that gets an update (its own audit event, contacts). Below FTS_MIN_ROWS customers they are
    built after the insert."""
    from django.db import connection

    from guanxi.dataio.importing import bulkinsert
    from guanxi.dataio.models import ImportRow

    threads: list[str] = []
    real = customer_import._build_rows

    def recorded(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(customer_import, "_build_rows", recorded)
    results = []
    first, second = UserFactory(team=world.east), UserFactory(team=world.north)
    for user, fts_min in ((first, 10**9), (second, 1)):
        monkeypatch.setattr(bulkinsert, "FTS_MIN_ROWS", fts_min)
        customer_create(actor=user, source=Source.UI, name="长城重工")  # matched: an update
        job = services.import_preview(actor=user, data=DATA, file_name="a.csv")
        job = services.import_confirm(actor=user, job=job, background=False)
        assert job.status == ImportStatus.DONE, job.report
        assert job.report["actions"] == {"create": 2, "update": 1, "merge": 1, "skip": 0, "reject": 0}
        provenance = sorted(
            (r.row_number, r.action, r.object_type, str(Customer.objects.get(pk=r.object_id).name))
            for r in ImportRow.objects.filter(job=job, object_type="customer")
        ) + sorted(
            (r.row_number, r.action, r.object_type, Contact.objects.get(pk=r.object_id).name)
            for r in ImportRow.objects.filter(job=job, object_type="contact")
        )
        results.append((imported(user.pk), provenance, job.report["counts"]))
    main = threading.main_thread().name
    assert threads[0] == main
    assert threads[1].startswith("beside-fts" if connection.vendor == "sqlite" else "beside-copy")
    assert results[0] == results[1]
    assert len(results[0][1]) == 4 + 4 and results[0][2]["phones_and_emails"] == 6
