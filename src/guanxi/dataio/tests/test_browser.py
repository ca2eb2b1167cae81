"""Upload → preview → confirm in a real browser (on a phone-sized screen): the salesperson sees what
will happen per row, fixes nothing, confirms, and lands on the report with the customer created."""

from __future__ import annotations

import re

import pytest

from guanxi.accounts.models import Role
from guanxi.core.tests.test_browser import PASSWORD, SCREENSHOT_DIR, VIEWPORTS, chromium  # noqa: F401 - fixture
from guanxi.customers.models import Customer
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "客户名称,联系人,手机,邮箱,省,市\n"
    "深圳腾达贸易有限公司,李娜,13700137000,lina@tengda.cn,广东,深圳\n"
    "深圳腾达贸易有限公司,王强,13700137001,,广东,深圳\n"
    "华为技术有限公司,张伟,139 0013 9000,,广东,深圳\n"
).encode("gb18030")


def test_upload_preview_confirm(chromium, live_server, tmp_path):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect

    team = TeamFactory(name="华南组")
    user = UserFactory(username="lina", display_name="李娜", team=team, role=Role.SALESPERSON)
    existing = make_customer(user, name="华为技术有限公司", province="广东", city="深圳")
    make_contact(existing, name="张伟", phones=["13900139000"])
    upload = tmp_path / "客户.csv"
    upload.write_bytes(CSV)

    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["phone"])
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "lina")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        page.goto(f"{live_server.url}/data/")
        page.locator("#upload-form input[type=file]").set_input_files(str(upload))
        page.locator("#upload-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/data/imports/\d+/$"))
        expect(page.locator("body")).to_contain_text("gb18030")
        outcomes = page.locator("#outcomes")
        expect(outcomes).to_contain_text("深圳腾达贸易有限公司")
        expect(outcomes).to_contain_text("同名客户")  # the existing 华为 is matched, not duplicated
        expect(page.locator("#summary")).to_contain_text("新建 1")
        assert not Customer.objects.filter(name="深圳腾达贸易有限公司").exists()
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-import-preview.png"), full_page=True)
        page.locator("#confirm-import").click()
        expect(page.locator("#job-status")).to_contain_text("已完成")
        expect(page.locator("#summary")).to_contain_text("customers_created 1")
        customer = Customer.objects.get(name="深圳腾达贸易有限公司")
        assert sorted(customer.contacts.values_list("name", flat=True)) == ["李娜", "王强"]
        assert customer.owner == user
        assert Customer.objects.filter(name="华为技术有限公司").count() == 1
        assert errors == []
    finally:
        context.close()
