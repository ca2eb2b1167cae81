"""A complaint in a real browser, on a phone: log it from the customer's page as "beyond my
authority", answer it, resolve it, send the satisfaction survey link; then the customer, with no
login, answers the survey on the public page."""

from __future__ import annotations

import re

import pytest

from guanxi.accounts.models import Role
from guanxi.core.tests.test_browser import PASSWORD, SCREENSHOT_DIR, VIEWPORTS, chromium  # noqa: F401 - fixture
from guanxi.service.models import Complaint, SurveyResponse
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_a_complaint_and_the_customer_answers_the_survey(chromium, live_server):  # noqa: F811
    from importlib import import_module

    from django.apps import apps
    from playwright.sync_api import expect

    # A transactional test (any browser test before this one in the same worker) flushes the tables
    # after itself, data-migration rows included: put the default survey templates back.
    import_module("guanxi.service.migrations.0002_default_survey_templates").forward(apps, None)
    team = TeamFactory(name="华东组")
    manager = UserFactory(username="zhaojl", display_name="赵经理", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save()
    user = UserFactory(username="wangfang", display_name="王芳", team=team)
    customer = make_customer(user, name="上海浦江机电有限公司", relationship_type="channel")
    make_contact(customer, name="周总", emails=["zhou@example.com"])

    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["phone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    public = chromium.new_context(locale="zh-CN", **VIEWPORTS["phone"])
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangfang")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))

        page.goto(f"{live_server.url}/customers/{customer.pk}/")
        page.get_by_role("link", name="登记投诉").click()
        page.fill("#id_summary", "到货外箱破损")
        page.select_option("#id_category", "quality")
        page.select_option("#id_severity", "high")
        page.fill("#id_customer_words", "这已经是第二次了！")
        page.check("#id_beyond_authority")
        page.locator("form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/service/complaints/\d+/$"))
        expect(page.locator("h1")).to_contain_text("到货外箱破损")
        expect(page.locator("#complaint-steps")).to_contain_text("升级了投诉")
        expect(page.locator("#complaint-steps")).to_contain_text("赵经理")
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-complaint.png"), full_page=True)

        page.locator("form[action$='/acknowledge/'] textarea").fill("已致电道歉，明天补发")
        page.locator("form[action$='/acknowledge/'] button").click()
        expect(page.locator("#complaint-steps")).to_contain_text("已致电道歉")
        page.locator("form[action$='/resolve/'] textarea").fill("已补发新货，客户签收")
        page.locator("form[action$='/resolve/'] button").click()
        expect(page.locator("h1")).to_contain_text("已解决")

        page.get_by_role("link", name="发送回访问卷").click()
        page.locator("form button[type=submit]").click()
        link = page.locator("#survey-link").input_value()
        assert re.search(r"/s/[A-Za-z0-9_-]{43}/$", link), link
        path = link[link.index("/s/") :]

        answer = public.new_page()
        answer.goto(f"{live_server.url}{path}")
        expect(answer.locator("h1")).to_contain_text("客户反馈问卷")
        assert "上海浦江" not in answer.content() and "周总" not in answer.content()
        answer.locator("input[name=satisfaction][value='4']").check()
        answer.locator("input[name=recommend][value='9']").check()
        answer.fill("textarea[name=comment]", "补发很及时")
        answer.locator("#survey-form button[type=submit]").click()
        expect(answer.locator("#survey-thanks")).to_be_visible()
        answer.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-survey.png"), full_page=True)
        answer.goto(f"{live_server.url}{path}")
        expect(answer.locator("h1")).to_contain_text("链接无效")

        complaint = Complaint.objects.get()
        assert complaint.escalated_to == manager and complaint.satisfaction == "4"
        assert SurveyResponse.objects.get().nps == 9
        assert not errors, errors
    finally:
        public.close()
        context.close()
