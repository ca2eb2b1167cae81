"""The morning on a phone, in a real browser: log in, land on Today (tasks, the customers due, a
birthday, today's appointment), plan the day's visits, reorder them by hand, log a visit."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.audit.models import Source
from guanxi.core.tests.test_browser import PASSWORD, SCREENSHOT_DIR, VIEWPORTS, chromium  # noqa: F401 - fixture
from guanxi.engagement.models import Interaction
from guanxi.followup import reminders, services
from guanxi.followup.models import VisitStop
from guanxi.testing.factories import TeamFactory, UserFactory, make_contact, make_customer, make_interaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _morning() -> None:
    team = TeamFactory(name="华东组")
    user = UserFactory(username="wangfang", display_name="王芳", team=team, role=Role.SALESPERSON)
    services.planner_update(
        actor=user,
        source=Source.UI,
        user=user,
        office_latitude=Decimal("31.230416"),
        office_longitude=Decimal("121.473701"),
    )
    names = ["上海浦江机电有限公司", "静安精密仪器厂", "徐汇新材料科技", "虹口联合贸易公司"]
    for i, name in enumerate(names):
        c = make_customer(
            user,
            name=name,
            status="active",
            latitude=Decimal(f"{31.20 + 0.02 * i:.6f}"),
            longitude=Decimal(f"{121.44 + 0.015 * ((i * 3) % 4):.6f}"),
            address=f"上海市某路{i + 1}号",
        )
        make_interaction(c, occurred_at=timezone.now() - dt.timedelta(days=40 + 5 * i))
        if i == 0:
            make_contact(c, name="周总", birthday=timezone.localdate() + dt.timedelta(days=1), is_key=True)
            services.task_create(
                actor=user, source=Source.UI, title="寄送样品", due_on=timezone.localdate(), customer=c
            )
        if i == 1:
            start = timezone.localtime().replace(hour=15, minute=0, second=0, microsecond=0)
            services.appointment_create(
                actor=user,
                source=Source.UI,
                customer=c,
                title="产品演示",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
            )
    reminders.reminders_generate()


def test_today_and_visit_plan_on_a_phone(chromium, live_server):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect

    _morning()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["phone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def no_sideways_scroll() -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{page.url} is {overflow}px wider than the phone screen"

    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangfang")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))
        expect(page.locator("#today-tasks")).to_contain_text("寄送样品")
        expect(page.locator("#today-appointments")).to_contain_text("产品演示")
        expect(page.locator("#today-cadence")).to_contain_text("虹口联合贸易公司")
        expect(page.locator("#today-reminders")).to_contain_text("周总")
        no_sideways_scroll()
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-today.png"), full_page=True)

        page.get_by_role("link", name="拜访", exact=True).first.click()
        expect(page).to_have_url(re.compile(r"/followup/plan/"))
        page.locator("#plan-form button[type=submit]").click()
        stops = page.locator("#route li.stop")
        expect(stops).to_have_count(4)
        expect(page.locator("#route")).to_contain_text("最优路线")
        no_sideways_scroll()
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-plan.png"), full_page=True)

        first, second = stops.nth(0).get_attribute("data-stop"), stops.nth(1).get_attribute("data-stop")
        stops.nth(0).locator("button[value=down]").click()
        expect(page.locator("#route li.stop").nth(0)).to_have_attribute("data-stop", second)
        expect(page.locator("#route li.stop").nth(1)).to_have_attribute("data-stop", first)
        expect(page.locator("#route")).to_contain_text("手动顺序")

        page.locator("#route li.stop").nth(0).locator("a.log-visit").click()
        expect(page.locator("#id_summary")).to_contain_text("拜访")
        page.locator("#id_summary").fill("拜访顺利，客户同意下月试用")
        page.locator("#visit-log-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/followup/plan/"))
        expect(page.locator("#route li.stop").nth(0)).to_contain_text("已拜访")
        assert VisitStop.objects.get(pk=int(second)).status == "done"
        assert Interaction.objects.filter(summary="拜访顺利，客户同意下月试用", channel="visit").exists()
        assert not errors, errors
    finally:
        context.close()
