"""Relations pages: the owner works with them, others get 404, the administrator edits playbooks."""

from __future__ import annotations

import json

import pytest

from guanxi.audit.models import Source
from guanxi.relations import services
from guanxi.relations.models import DecisionRole, PersonLink, Playbook, Referral
from guanxi.testing.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(world):
    contact = make_contact(world.customer, name="李总", title="总经理", personality="calm_rational")
    services.contact_decision_set(
        actor=world.owner, source=Source.UI, contact=contact, roles=["decision_maker"], stance="opponent"
    )
    return contact


def test_customer_page_loads_the_relations_card(world, boss, client_for):
    client = client_for(world.owner)
    page = client.get(f"/customers/{world.customer.pk}/").content.decode()
    assert f'hx-get="/relations/customers/{world.customer.pk}/card/"' in page
    assert "guanxi/relmap.js" in page
    card = client.get(f"/relations/customers/{world.customer.pk}/card/").content.decode()
    assert "拍板者持反对态度：李总" in card
    assert 'id="graph-data"' in card and 'data-graph="map"' in card
    assert "<script>" not in card  # data only in json_script tags: the CSP forbids inline scripts


def test_map_page_lists_the_decision_chain(world, boss, client_for):
    page = client_for(world.owner).get(f"/relations/customers/{world.customer.pk}/map/").content.decode()
    assert "决策链" in page and "拍板者" in page and "反对" in page


def test_contact_page_shows_how_to_approach_the_person(world, boss, client_for):
    page = client_for(world.owner).get(f"/relations/contacts/{boss.pk}/").content.decode()
    assert "冷静理智型" in page
    assert "给事实和数据，不要施压" in page  # the calm-rational advice (DOMAIN §1)
    assert "讲利" in page  # the channel playbook of the customer's relationship type


def test_contact_page_in_english(world, boss, client_for):
    client = client_for(world.owner)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(f"/relations/contacts/{boss.pk}/").content.decode()
    assert "Calm-rational" in page or "calm" in page.lower()
    assert "margin" in page  # the English playbook text


def test_decision_form_saves_through_the_service(world, boss, client_for):
    client = client_for(world.owner)
    resp = client.post(
        f"/relations/contacts/{boss.pk}/decision/",
        {"roles": ["decision_maker", "sponsor"], "stance": "supporter", "warmth": "4"},
    )
    assert resp.status_code == 302
    assert set(DecisionRole.objects.filter(contact=boss).values_list("role", flat=True)) == {
        "decision_maker",
        "sponsor",
    }
    bad = client.post(
        f"/relations/contacts/{boss.pk}/decision/", {"roles": ["boss"], "stance": "x", "warmth": "9"}
    )
    assert bad.status_code == 400


def test_link_form_rejects_a_self_link_with_a_message(world, boss, client_for):
    client = client_for(world.owner)
    resp = client.post(
        f"/relations/customers/{world.customer.pk}/links/new/",
        {"from_contact": boss.pk, "to_contact": boss.pk, "kind": "friend", "strength": "3"},
    )
    assert resp.status_code == 400
    assert "不能把一个人和他自己关联" in resp.content.decode()
    zhang = world.customer.contacts.get(name="张伟")
    ok = client.post(
        f"/relations/customers/{world.customer.pk}/links/new/",
        {"from_contact": zhang.pk, "to_contact": boss.pk, "kind": "reports_to", "strength": "4"},
    )
    assert ok.status_code == 302
    link = PersonLink.objects.get()
    assert client.post(f"/relations/links/{link.pk}/delete/").status_code == 302
    assert not PersonLink.objects.exists()


def test_referral_form_searches_then_records(world, boss, client_for):
    client = client_for(world.owner)
    other = make_customer(world.owner, name="腾达贸易")
    search = client.get(f"/relations/customers/{other.pk}/referrals/new/", {"q": "华为"}).content.decode()
    assert f'value="customer:{world.customer.pk}"' in search
    resp = client.post(
        f"/relations/customers/{other.pk}/referrals/new/",
        {"q": "华为", "referrer": f"contact:{boss.pk}", "note": "老朋友"},
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    referral = Referral.objects.get()
    assert referral.referrer_contact_id == boss.pk and referral.customer_id == other.pk
    none = client.post(f"/relations/customers/{other.pk}/referrals/new/", {"note": "x"})
    assert none.status_code == 400
    external = client.post(
        f"/relations/customers/{other.pk}/referrals/new/", {"referrer_name": "展会上的老周"}
    )
    assert external.status_code == 302
    graph = client.get("/relations/referrals/").content.decode()
    assert "展会上的老周" in graph  # in the value table
    assert json.dumps("腾达贸易") in graph  # in the graph data (json_script escapes non-ASCII)


def test_review_button_marks_the_profile_reviewed(world, client_for):
    resp = client_for(world.owner).post(f"/relations/customers/{world.customer.pk}/review/")
    assert resp.status_code == 302
    world.customer.refresh_from_db()
    assert world.customer.profile_reviewed_on is not None


def test_my_relations_page_lists_gaps(world, boss, client_for):
    page = client_for(world.owner).get("/relations/").content.decode()
    assert "华为技术有限公司" in page and "拍板者持反对态度" in page
    assert "华为技术有限公司" not in client_for(world.outsider).get("/relations/").content.decode()


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "manager"])
def test_playbook_admin_pages_are_404_for_non_admins(world, client_for, persona):
    client = client_for(getattr(world, persona))
    assert client.get("/manage/playbooks/").status_code == 404
    assert client.get("/manage/playbooks/channel/").status_code == 404
    assert client.post("/manage/playbooks/channel/", {"cadence_days": "1"}).status_code == 404
    assert Playbook.objects.get(relationship_type="channel").cadence_days == 14
    assert client.get("/relations/playbooks/").status_code == 200  # everyone reads them


def test_admin_edits_a_playbook(world, client_for):
    client = client_for(world.admin)
    playbook = Playbook.objects.get(relationship_type="channel")
    data = {
        f: getattr(playbook, f)
        for f in ("basis", "summary_zh", "summary_en", "actions_zh", "actions_en", "checks_zh", "checks_en")
    }
    resp = client.post("/manage/playbooks/channel/", data | {"cadence_days": "21"})
    assert resp.status_code == 302
    assert Playbook.objects.get(relationship_type="channel").cadence_days == 21
    bad = client.post("/manage/playbooks/channel/", data | {"cadence_days": "0"})
    assert bad.status_code == 400
    assert client.get("/manage/playbooks/nonsense/").status_code == 404
