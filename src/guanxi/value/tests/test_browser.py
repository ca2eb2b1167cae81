"""A value dashboard in a real browser: the charts draw under the strict CSP (no inline script), a
drill-down opens the filtered customer list, and the customer page loads its value card."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.core.tests.test_browser import PASSWORD, VIEWPORTS, chromium  # noqa: F401 - fixture
from guanxi.testing.factories import TeamFactory, UserFactory, make_customer
from guanxi.value.engine.run import classify
from guanxi.value.tests.helpers import order, product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_drilldown(chromium, live_server):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect

    team = TeamFactory(name="华东组")
    user = UserFactory(username="wangfang", display_name="王芳", team=team, role=Role.SALESPERSON)
    p = product("P1")
    big = make_customer(user, name="上海浦江机电有限公司")
    small = make_customer(user, name="静安精密仪器厂")
    order(big, timezone.localdate() - dt.timedelta(days=20), product_=p, quantity=50)
    order(small, timezone.localdate() - dt.timedelta(days=200), product_=p, quantity=1)
    classify()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["desktop"])
    context.set_default_timeout(60_000)  # a loaded 2-core machine
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangfang")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))
        page.get_by_role("link", name="价值", exact=True).first.click()
        expect(page).to_have_url(re.compile(r"/value/$"))
        expect(page.locator("#chart-classes canvas")).to_have_count(1)
        expect(page.locator("#chart-funnel canvas")).to_have_count(1)
        page.locator("a[data-count='class-A']").click()
        expect(page).to_have_url(re.compile(r"/customers/\?value_class=A$"))
        expect(page.locator("main")).to_contain_text("上海浦江机电有限公司")
        expect(page.locator("main")).not_to_contain_text("静安精密仪器厂")
        page.get_by_role("link", name="上海浦江机电有限公司").click()
        expect(page.locator("#value-card")).to_contain_text("服务政策")
        expect(page.locator("#value-card [data-value-class]")).to_have_text("A")
        assert not errors, errors
    finally:
        context.close()
