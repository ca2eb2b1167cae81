"""Pages: the board (three personas, totals, moves, stale cards), the list (keyset), the opportunity
page, the forms, the forecast and analysis pages, the customer card, the settings; query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.audit.models import Source
from guanxi.pipeline import services
from guanxi.pipeline.models import Opportunity, StageKind
from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(world, stages):
    """Two of Alice's deals on her customer, one of Charlie's (another team) on his."""
    a = make_opportunity(world.customer, name="华为传感器", amount=Decimal("30000"))
    b = make_opportunity(world.customer, name="华为二期", amount=Decimal("20000"), stage=stages["Proposal"])
    theirs = make_customer(world.outsider, name="北方重工")
    c = make_opportunity(theirs, name="北方重工项目", amount=Decimal("99000"), actor=world.outsider)
    return a, b, c


def test_board_shows_owner_their_deals_with_column_totals(client_for, world, deals, stages):
    r = client_for(world.owner).get("/pipeline/")
    assert r.status_code == 200
    board = r.context["board"]
    by_stage = {c.stage.name_en: c for c in board.columns}
    assert by_stage["Qualification"].count == 1 and by_stage["Qualification"].amount == Decimal("30000.00")
    assert by_stage["Proposal"].weighted == Decimal("8000.00")  # 20 000 × 40 %
    assert board.open_amount == Decimal("50000.00")
    html = r.content.decode()
    assert "华为传感器" in html and "北方重工项目" not in html


def test_board_visibility_for_teammate_outsider_manager_admin(client_for, world, deals):
    assert client_for(world.teammate).get("/pipeline/").context["board"].open_count == 0
    assert client_for(world.outsider).get("/pipeline/").context["board"].open_amount == Decimal("99000.00")
    assert client_for(world.manager).get("/pipeline/").context["board"].open_amount == Decimal("50000.00")
    assert client_for(world.admin).get("/pipeline/").context["board"].open_count == 3


def test_board_filters(client_for, world, deals, stages):
    c = client_for(world.admin)
    assert c.get("/pipeline/", {"owner": world.outsider.pk}).context["board"].open_count == 1
    assert c.get("/pipeline/", {"team": world.east.pk}).context["board"].open_count == 2
    assert c.get("/pipeline/", {"source": "website"}).context["board"].open_count == 0
    assert c.get("/pipeline/", {"period": "overdue"}).context["board"].open_count == 0
    assert c.get("/pipeline/", {"period": "this_quarter", "q": "二期"}).context["board"].open_count <= 1


def test_board_query_count_does_not_grow_with_deals(client_for, world, stages, django_assert_max_num_queries):
    for i in range(30):
        make_opportunity(
            world.customer, name=f"商机{i}", stage=stages["Proposal" if i % 2 else "Negotiation"]
        )
    c = client_for(world.manager)
    # session, user, teams and shares (visibility, filters), pipelines, stages, totals, one card
    # query per stage (7): the same for 30 deals as for 100k
    with django_assert_max_num_queries(22):
        r = c.get("/pipeline/")
    assert r.status_code == 200 and r.context["board"].open_count == 30


def test_list_query_count_and_keyset_pages(client_for, world, stages, django_assert_max_num_queries):
    for i in range(60):
        make_opportunity(
            world.customer, name=f"商机{i:02d}", expected_close_on=timezone.localdate() + dt.timedelta(days=i)
        )
    c = client_for(world.owner)
    with django_assert_max_num_queries(10):
        r = c.get("/pipeline/list/")
    page = r.context["page"]
    assert len(page.items) == 50 and page.next_cursor
    r2 = c.get("/pipeline/list/", {"cursor": page.next_cursor}, HTTP_HX_REQUEST="true")
    assert len(r2.context["page"].items) == 10
    assert {o.pk for o in page.items}.isdisjoint({o.pk for o in r2.context["page"].items})
    assert client_for(world.outsider).get("/pipeline/list/").context["page"].items == []


def test_drag_move_answers_the_refreshed_board(client_for, world, deals, stages):
    a, _, _ = deals
    r = client_for(world.owner).post(
        f"/pipeline/opportunities/{a.pk}/move/",
        {"stage": stages["Negotiation"].pk, "version": 1},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="board",
    )
    assert r.status_code == 200
    a.refresh_from_db()
    assert a.stage == stages["Negotiation"] and a.version == 2 and a.probability == 60
    by_stage = {c.stage.name_en: c for c in r.context["board"].columns}
    assert by_stage["Negotiation"].count == 1


def test_stale_card_answers_409_with_a_clear_message_and_keeps_the_other_change(
    client_for, world, deals, stages
):
    a, _, _ = deals
    services.opportunity_update(
        actor=world.manager, source=Source.UI, opportunity=a, version=1, next_step="约见采购"
    )
    r = client_for(world.owner).post(
        f"/pipeline/opportunities/{a.pk}/move/", {"stage": stages["Contract"].pk, "version": 1}
    )
    assert r.status_code == 409
    assert "已被他人修改" in r.content.decode()
    a.refresh_from_db()
    assert a.stage == stages["Qualification"] and a.next_step == "约见采购"


def test_dropping_on_won_or_lost_opens_the_closing_form(client_for, world, deals, stages):
    a, _, _ = deals
    r = client_for(world.owner).post(
        f"/pipeline/opportunities/{a.pk}/move/", {"stage": stages["Lost"].pk, "version": 1}
    )
    assert r.status_code == 204 and r["HX-Redirect"] == f"/pipeline/opportunities/{a.pk}/lose/"
    a.refresh_from_db()
    assert a.is_open


def test_unknown_stage_is_refused_clearly(client_for, world, deals):
    a, _, _ = deals
    r = client_for(world.owner).post(f"/pipeline/opportunities/{a.pk}/move/", {"stage": 999999, "version": 1})
    assert r.status_code == 422 and "未知阶段" in r.content.decode()


def test_outsider_gets_404_everywhere(client_for, world, deals, stages):
    a, _, _ = deals
    c = client_for(world.outsider)
    for url in ("", "edit/", "win/", "lose/"):
        assert c.get(f"/pipeline/opportunities/{a.pk}/{url}").status_code == 404
    assert (
        c.post(
            f"/pipeline/opportunities/{a.pk}/move/", {"stage": stages["Proposal"].pk, "version": 1}
        ).status_code
        == 404
    )
    assert c.get(f"/pipeline/customers/{world.customer.pk}/card/").status_code == 404
    assert c.get(f"/pipeline/customers/{world.customer.pk}/new/").status_code == 404
    a.refresh_from_db()
    assert a.version == 1


def test_opportunity_page_shows_people_history_and_the_decision_maker_warning(client_for, world, deals):
    a, _, _ = deals
    c = client_for(world.owner)
    r = c.get(f"/pipeline/opportunities/{a.pk}/")
    assert r.status_code == 200 and 'id="dm-warning"' in r.content.decode()
    boss = make_contact(world.customer, name="刘总")
    r = c.post(
        f"/pipeline/opportunities/{a.pk}/people/",
        {"contact": boss.pk, "role": "decision_maker", "engaged": "on"},
    )
    assert r.status_code == 302
    r = c.get(f"/pipeline/opportunities/{a.pk}/")
    html = r.content.decode()
    assert "刘总" in html and 'id="dm-warning"' not in html and 'id="stage-history"' in html


def test_create_edit_and_close_through_the_forms(client_for, world, stages, product):
    c = client_for(world.owner)
    close = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    form = {
        "name": "新商机",
        "expected_close_on": close,
        "owner": world.owner.pk,
        "deal_source": "website",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-product": product.pk,
        "lines-0-quantity": "2",
    }
    r = c.post(f"/pipeline/customers/{world.customer.pk}/new/", form)
    assert r.status_code == 302
    opp = Opportunity.objects.get(name="新商机")
    assert opp.amount == Decimal("2000.00") and opp.source == "website"
    # negative amount / far-past close date are refused on the form, nothing written
    bad = {**form, "name": "坏数据", "expected_close_on": "1990-01-01"}
    r = c.post(f"/pipeline/customers/{world.customer.pk}/new/", bad)
    assert r.status_code == 400 and not Opportunity.objects.filter(name="坏数据").exists()
    bad = {**form, "name": "坏数据", "lines-0-quantity": "-3"}
    assert c.post(f"/pipeline/customers/{world.customer.pk}/new/", bad).status_code == 400
    # edit with the version seen; a second edit on the same old version is a conflict
    edit = {
        **form,
        "name": "新商机（改）",
        "stage": stages["Proposal"].pk,
        "version": 1,
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "1",
    }
    assert c.post(f"/pipeline/opportunities/{opp.pk}/edit/", edit).status_code == 302
    r = c.post(f"/pipeline/opportunities/{opp.pk}/edit/", {**edit, "name": "覆盖"})
    assert r.status_code == 409 and 'id="conflict"' in r.content.decode()
    opp.refresh_from_db()
    assert opp.name == "新商机（改）" and opp.stage == stages["Proposal"]
    # won: an order is created from the lines
    r = c.post(f"/pipeline/opportunities/{opp.pk}/win/", {"create_order": "on", "version": opp.version})
    assert r.status_code == 302
    opp.refresh_from_db()
    assert opp.status == StageKind.WON and opp.order is not None


def test_lose_form_requires_a_known_reason(client_for, world, deals):
    a, _, _ = deals
    c = client_for(world.owner)
    assert c.post(f"/pipeline/opportunities/{a.pk}/lose/", {"reason": "bad", "version": 1}).status_code == 400
    assert (
        c.post(f"/pipeline/opportunities/{a.pk}/lose/", {"reason": "timing", "version": 1}).status_code == 302
    )
    a.refresh_from_db()
    assert a.lost_reason == "timing"
    assert c.post(f"/pipeline/opportunities/{a.pk}/reopen/", {"version": a.version}).status_code == 302


def test_forecast_and_analysis_pages(client_for, world, deals, django_assert_max_num_queries):
    c = client_for(world.manager)
    with django_assert_max_num_queries(16):
        r = c.get("/pipeline/forecast/")
    assert r.status_code == 200 and 'id="forecast-table"' in r.content.decode()
    assert c.get("/pipeline/forecast/", {"kind": "month", "group": "team"}).status_code == 200
    r = c.get("/pipeline/analysis/")
    assert r.status_code == 200 and 'id="stage-analysis"' in r.content.decode()
    outsider = client_for(world.outsider).get("/pipeline/forecast/").content.decode()
    assert "王丽" not in outsider


def test_customer_card_lists_the_customers_deals(client_for, world, deals):
    r = client_for(world.owner).get(f"/pipeline/customers/{world.customer.pk}/card/")
    assert r.status_code == 200 and "华为二期" in r.content.decode()


def test_settings_are_for_administrators(client_for, world):
    assert client_for(world.manager).get("/pipeline/manage/").status_code == 404
    c = client_for(world.admin)
    assert c.get("/pipeline/manage/").status_code == 200
    assert (
        c.post(
            "/pipeline/manage/new/", {"name": "项目制", "name_en": "Projects", "is_active": "on"}
        ).status_code
        == 302
    )
    from guanxi.pipeline.models import Pipeline

    p = Pipeline.objects.get(name="项目制")
    r = c.post(
        f"/pipeline/manage/{p.pk}/stages/new/",
        {"name": "立项", "probability": 150, "forecast_category": "pipeline"},
    )
    assert r.status_code == 400
    r = c.post(
        f"/pipeline/manage/{p.pk}/stages/new/",
        {"name": "立项", "probability": 15, "forecast_category": "pipeline", "is_active": "on"},
    )
    assert r.status_code == 302 and p.stages.filter(name="立项", probability=15).exists()


def test_english_board(client_for, world, deals):
    c = client_for(world.owner)
    c.cookies["django_language"] = "en"
    r = c.get("/pipeline/")
    assert "Qualification" in r.content.decode()


def test_board_cards_first_by_close_date_the_same_for_salesperson_and_manager(world, stages):
    """A salesperson's cards come from one numbered query, a manager's from a walk of the stage
    index per column: both show the first cards by close date, and the column's full count."""
    from guanxi.pipeline.selectors import CARDS_PER_COLUMN, DealFilters, board

    today = timezone.localdate()
    for i in range(CARDS_PER_COLUMN + 5):
        make_opportunity(
            world.customer,
            name=f"卡{i:02d}",
            stage=stages["Proposal"],
            expected_close_on=today + dt.timedelta(days=60 - i),
        )
    make_opportunity(world.customer, name="另一列", stage=stages["Negotiation"])
    for user in (world.owner, world.manager, world.admin):
        columns = {c.stage.pk: c for c in board(user=user, filters=DealFilters()).columns}
        proposal = columns[stages["Proposal"].pk]
        assert proposal.count == CARDS_PER_COLUMN + 5 and proposal.more == 5
        names = [o.name for o in proposal.cards]
        assert names == [f"卡{i:02d}" for i in range(CARDS_PER_COLUMN + 4, 4, -1)], user
        assert [o.name for o in columns[stages["Negotiation"].pk].cards] == ["另一列"]
    assert all(not c.cards for c in board(user=world.outsider, filters=DealFilters()).columns)


def test_money_filter_groups_whole_yuan():
    from guanxi.pipeline.templatetags.pipeline_tags import money

    assert money(Decimal("1234567.50")) == "1,234,568"  # banker's rounding of .5 to even: 68
    assert money(Decimal("0")) == "0" and money(None) == "" and money(999) == "999"


def test_board_card_links_and_move_menu(client_for, world, stages):
    """Each open card: its page, its move URL (drag and drop, and the phone's menu) and a menu of the
    stages with its own selected; the filters keep the chosen values."""
    opp = make_opportunity(
        world.customer, name="菜单卡", stage=stages["Proposal"], expected_close_on=timezone.localdate()
    )
    c = client_for(world.owner)
    page = c.get("/pipeline/", {"q": "菜单", "period": "this_quarter"}).content.decode()
    card = page[page.index(f'data-id="{opp.pk}"') :]
    card = card[: card.index("</article>")]
    move = f"/pipeline/opportunities/{opp.pk}/move/"
    assert f'data-move-url="{move}"' in card and f'hx-post="{move}?q=%E8%8F%9C%E5%8D%95' in card
    assert f'href="/pipeline/opportunities/{opp.pk}/"' in card
    assert f'<option value="{stages["Proposal"].pk}" selected>' in card
    assert card.count(" selected>") == 1 and "移到" in card
    assert '<option value="this_quarter" selected>' in page
    c.cookies["django_language"] = "en"
    english = c.get("/pipeline/").content.decode()
    assert "Move to" in english and "移到" not in english
