from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from guanxi.audit.models import Source
from guanxi.customers.models import Customer
from guanxi.dataio.merge import customer_merge
from guanxi.dataio.models import DataExport, ImportJob, ImportStatus
from guanxi.testing.factories import make_customer

CSV = "客户名称,联系人,手机,省,市\n深圳腾达贸易有限公司,李娜,13700137000,广东,深圳\n".encode()


def test_upload_preview_confirm(client_for, world):
    client = client_for(world.owner)
    resp = client.post(
        reverse("dataio:home"),
        {"file": SimpleUploadedFile("a.csv", CSV), "kind": "customers", "on_duplicate": "update"},
    )
    assert resp.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(resp["Location"])
    assert "深圳腾达贸易有限公司" in page.content.decode() and job.status == ImportStatus.PREVIEWED
    assert not Customer.objects.filter(name="深圳腾达贸易有限公司").exists()
    mapping = {
        f"map-{i}": v
        for i, v in enumerate(
            ["customer.name", "contact.name", "contact.phones", "customer.province", "customer.city"]
        )
    }
    resp = client.post(resp["Location"], {"action": "confirm", "on_duplicate": "update", **mapping})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert Customer.objects.get(name="深圳腾达贸易有限公司").owner == world.owner


def test_bad_upload_answers_400_with_row_messages(client_for, world):
    client = client_for(world.owner)
    resp = client.post(reverse("dataio:home"), {"file": SimpleUploadedFile("a.xlsx", b"not a workbook")})
    assert resp.status_code == 400
    assert "not an Excel workbook" in resp.content.decode() or "不是 Excel" in resp.content.decode()
    assert not ImportJob.objects.exists()


def test_other_users_import_is_404(client_for, world):
    client = client_for(world.owner)
    client.post(reverse("dataio:home"), {"file": SimpleUploadedFile("a.csv", CSV)})
    job = ImportJob.objects.get()
    assert client_for(world.outsider).get(reverse("dataio:import", args=[job.pk])).status_code == 404
    assert client_for(world.teammate).get(reverse("dataio:progress", args=[job.pk])).status_code == 404


def test_export_of_the_filtered_list_is_logged(client_for, world):
    make_customer(world.owner, name="北京华信科技", province="北京")
    resp = client_for(world.owner).get(reverse("dataio:export", args=["customers", "csv"]) + "?province=北京")
    body = b"".join(resp.streaming_content).decode("utf-8-sig")
    assert "北京华信科技" in body and "华为" not in body
    assert DataExport.objects.get().filters["province"] == "北京"
    resp = client_for(world.owner).get(reverse("dataio:export", args=["customers", "xlsx"]))
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxml")
    assert client_for(world.owner).get(reverse("dataio:export", args=["orders", "vcf"])).status_code == 400


def test_merge_page_and_undo(client_for, world):
    twin = make_customer(world.owner, name="华为技术", province="广东", city="深圳", website="huawei.com")
    client = client_for(world.owner)
    url = reverse("dataio:merge_customers", args=[world.customer.pk, twin.pk])
    assert "huawei.com" in client.get(url).content.decode()
    resp = client.post(url, {"f-website": "merged"})
    assert resp.status_code == 302 and not Customer.objects.filter(pk=twin.pk).exists()
    record_url = resp["Location"].split("?")[0]
    undo = client.post(record_url + "undo/")
    assert undo.status_code == 302 and Customer.objects.filter(pk=twin.pk).exists()
    assert client_for(world.outsider).get(url).status_code == 404


def test_duplicates_page_lists_pairs_the_user_can_see(client_for, world):
    make_customer(world.owner, name="华为技术股份有限公司", province="广东", city="深圳")
    page = client_for(world.owner).get(reverse("dataio:duplicates")).content.decode()
    assert "华为技术股份有限公司" in page
    assert (
        "华为技术股份有限公司"
        not in client_for(world.outsider).get(reverse("dataio:duplicates")).content.decode()
    )


def test_api_import_merge_undo_export(api_for, world):
    api = api_for(world.owner)
    resp = api.client.post("/api/v1/imports", {"file": SimpleUploadedFile("a.csv", CSV), "kind": "customers"})
    assert resp.status_code == 201, resp.content
    job = resp.json()
    assert job["report"]["actions"]["create"] == 1
    resp = api.post(f"/imports/{job['id']}/confirm", {"skip_invalid": False})
    assert resp.status_code == 200 and resp.json()["status"] == "done"
    tengda = Customer.objects.get(name="深圳腾达贸易有限公司")
    twin = make_customer(world.owner, name="腾达贸易", province="广东", city="深圳")
    resp = api.post(
        "/merges/customers", {"survivor_id": tengda.pk, "merged_id": twin.pk, "fields": {"name": "merged"}}
    )
    assert resp.status_code == 201
    tengda.refresh_from_db()
    assert tengda.name == "腾达贸易"
    resp = api.post(f"/merges/{resp.json()['id']}/undo")
    assert resp.status_code == 200 and resp.json()["undone_at"]
    resp = api.get("/exports/customers.json")
    assert resp.status_code == 200
    names = {i["客户名称"] for i in json.loads(b"".join(resp.streaming_content))}
    assert "深圳腾达贸易有限公司" in names
    other = api_for(world.outsider)
    assert other.get(f"/imports/{job['id']}").status_code == 404
    assert (
        other.post("/merges/customers", {"survivor_id": tengda.pk, "merged_id": twin.pk}).status_code == 404
    )


def test_api_rejects_a_bad_file_with_details(api_for, world):
    api = api_for(world.owner)
    bad = "客户名称,手机,手机\n腾达,1,2\n".encode()
    resp = api.client.post("/api/v1/imports", {"file": SimpleUploadedFile("a.csv", bad)})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "bad_headers" and error["details"][0]["column"] == "C"


def test_merge_record_of_invisible_survivor_is_404(api_for, world):
    twin = make_customer(world.owner, name="华为技术")
    record = customer_merge(actor=world.owner, source=Source.UI, survivor=world.customer, merged=twin)
    assert api_for(world.outsider).post(f"/merges/{record.pk}/undo").status_code == 404
