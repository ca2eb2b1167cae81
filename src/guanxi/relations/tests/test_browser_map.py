"""The relationship map draws in a real browser on a phone (strict CSP: no inline script needed)."""

from __future__ import annotations

import re

import pytest

from guanxi.accounts.models import Role
from guanxi.audit.models import Source
from guanxi.core.tests.test_browser import PASSWORD, SCREENSHOT_DIR, VIEWPORTS, chromium  # noqa: F401
from guanxi.relations import services
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_relationship_map_draws_on_a_phone(chromium, live_server):  # noqa: F811
    from playwright.sync_api import expect

    user = UserFactory(
        username="wangli", display_name="王丽", team=TeamFactory(name="华南组"), role=Role.SALESPERSON
    )
    customer = make_customer(user, name="深圳腾达贸易有限公司")
    boss = make_contact(customer, name="李总", title="总经理")
    buyer = make_contact(customer, name="张伟", title="采购经理")
    services.contact_decision_set(
        actor=user, source=Source.UI, contact=boss, roles=["decision_maker"], stance="opponent"
    )
    services.person_link_create(
        actor=user, source=Source.UI, from_contact_id=buyer.pk, to_contact_id=boss.pk, kind="reports_to"
    )
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["phone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangli")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))
        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        card = page.locator("#relations-card")
        expect(card).to_contain_text("拍板者持反对态度：李总")
        expect(card.locator("[data-graph-drawn='1'] canvas")).to_have_count(1)
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-relmap.png"), full_page=True)
        page.goto(f"{live_server.url}/relations/customers/{customer.pk}/map/")
        expect(page.locator("[data-graph-drawn='1'] canvas")).to_have_count(1)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than the phone screen"
        assert not errors, errors
    finally:
        context.close()
