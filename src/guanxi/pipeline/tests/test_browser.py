"""The board in a real browser: drag a deal card to the next stage (HTML5 drag and drop, posted with
htmx), see the column totals change without a reload and the move recorded; a card another user moved
meanwhile answers with the conflict message; dropping on 输单 opens the lost form; the phone's
"move to" menu works too. No console errors, no CSP violations (no inline scripts)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.accounts.models import Role
from guanxi.audit.models import Source
from guanxi.core.tests.test_browser import PASSWORD, SCREENSHOT_DIR, VIEWPORTS, chromium  # noqa: F401 - fixture
from guanxi.pipeline import services
from guanxi.pipeline.models import Opportunity, Pipeline, StageStay
from guanxi.pipeline.tests.conftest import seed_default_pipelines
from guanxi.testing.factories import TeamFactory, UserFactory, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deals() -> tuple[Opportunity, Opportunity, dict[str, int]]:
    team = TeamFactory(name="华东组")
    user = UserFactory(username="wangfang", display_name="王芳", team=team, role=Role.SALESPERSON)
    UserFactory(username="boss", display_name="赵经理", team=team, role=Role.MANAGER)
    seed_default_pipelines()  # a transactional test's flush empties the migration's rows
    pipeline = Pipeline.objects.get(name="新业务")
    stages = {s.name_en: s.pk for s in pipeline.stages.all()}
    close = timezone.localdate() + dt.timedelta(days=20)
    a = services.opportunity_create(
        actor=user,
        source=Source.UI,
        customer=make_customer(user, name="上海浦江机电有限公司"),
        name="浦江传感器采购",
        expected_close_on=close,
        amount=Decimal("30000"),
    )
    b = services.opportunity_create(
        actor=user,
        source=Source.UI,
        customer=make_customer(user, name="静安精密仪器厂"),
        name="静安二期",
        expected_close_on=close,
        amount=Decimal("12000"),
    )
    return a, b, stages


def test_drag_a_card_to_the_next_stage(chromium, live_server):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect

    a, b, stages = _deals()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["desktop"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The refused move's 409 is expected (the browser logs every 4xx response as an error).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "409" not in m.text else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangfang")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))
        page.goto(f"{live_server.url}/pipeline/")
        qualification = page.locator(f".column[data-stage='{stages['Qualification']}']")
        proposal = page.locator(f".column[data-stage='{stages['Proposal']}']")
        expect(qualification.locator(".count")).to_have_text("2")
        expect(proposal.locator(".count")).to_have_text("0")

        card = page.locator(f".deal-card[data-id='{a.pk}']")
        card.drag_to(proposal)
        expect(proposal.locator(".count")).to_have_text("1")
        expect(proposal.locator(".amount")).to_have_text(re.compile(r"30[,，]?000"))
        expect(qualification.locator(".count")).to_have_text("1")
        expect(proposal.locator(f".deal-card[data-id='{a.pk}']")).to_have_attribute("data-version", "2")
        a.refresh_from_db()
        assert a.stage_id == stages["Proposal"] and a.version == 2
        assert StageStay.objects.filter(opportunity=a).count() == 2
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-pipeline-board.png"), full_page=True)

        # Someone else moves deal b meanwhile: dragging the stale card says so and shows the truth.
        services.opportunity_update(
            actor=b.owner, source=Source.UI, opportunity=b, version=1, next_step="经理已改"
        )
        negotiation = page.locator(f".column[data-stage='{stages['Negotiation']}']")
        page.locator(f".deal-card[data-id='{b.pk}']").drag_to(negotiation)
        expect(page.locator(".board-message.error")).to_contain_text("已被他人修改")
        expect(negotiation.locator(".count")).to_have_text("0")
        b.refresh_from_db()
        assert b.stage_id == stages["Qualification"] and b.next_step == "经理已改"

        # Dropping on 输单 opens the lost form (a real reason is required).
        page.locator(f".deal-card[data-id='{b.pk}']").drag_to(
            page.locator(f".column[data-stage='{stages['Lost']}']")
        )
        expect(page).to_have_url(re.compile(rf"/pipeline/opportunities/{b.pk}/lose/$"))
        page.select_option("#id_reason", "timing")
        page.locator("form button[type=submit]").click()
        expect(page).to_have_url(re.compile(rf"/pipeline/opportunities/{b.pk}/$"))
        b.refresh_from_db()
        assert b.status == "lost" and b.lost_reason == "timing"
        assert errors == [], errors
    finally:
        context.close()


def test_move_menu_on_a_phone(chromium, live_server):  # noqa: F811 - the imported fixture
    from playwright.sync_api import expect

    a, _, stages = _deals()
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **VIEWPORTS["phone"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The refused move's 409 is expected (the browser logs every 4xx response as an error).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "409" not in m.text else None)
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", "wangfang")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form[action='/accounts/login/'] button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/today/$"))
        page.goto(f"{live_server.url}/pipeline/")
        page.locator(f".deal-card[data-id='{a.pk}'] select[name=stage]").select_option(
            str(stages["Negotiation"])
        )
        negotiation = page.locator(f".column[data-stage='{stages['Negotiation']}']")
        expect(negotiation.locator(".count")).to_have_text("1")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the board page is {overflow}px wider than the phone"
        page.screenshot(path=str(SCREENSHOT_DIR / "guanxi-phone-pipeline.png"), full_page=True)
        a.refresh_from_db()
        assert a.stage_id == stages["Negotiation"]
        assert errors == [], errors
    finally:
        context.close()
