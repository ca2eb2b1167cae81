"""The relations API for the three personas: what the owner sees, what leaks to nobody, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.audit.models import Source
from guanxi.conftest import assert_api_error
from guanxi.customers.models import CustomerShare
from guanxi.relations import services
from guanxi.testing.factories import make_contact, make_customer, make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped(world):
    """Alice's customer with a decision maker, a link inside, a link to a person at Charlie's customer
    (made by the admin, who sees both) and a link to a person at another of Alice's customers."""
    customer = world.customer
    zhang = customer.contacts.get(name="张伟")
    boss = make_contact(customer, name="李总", title="总经理")
    services.contact_decision_set(
        actor=world.owner,
        source=Source.UI,
        contact=boss,
        roles=["decision_maker"],
        stance="supporter",
        warmth=3,
    )
    services.person_link_create(
        actor=world.owner,
        source=Source.UI,
        from_contact_id=zhang.pk,
        to_contact_id=boss.pk,
        kind="reports_to",
    )
    secret = make_contact(make_customer(world.outsider, name="陈冲的秘密客户"), name="秘密联系人")
    hidden_link = services.person_link_create(
        actor=world.admin,
        source=Source.SYSTEM,
        from_contact_id=boss.pk,
        to_contact_id=secret.pk,
        kind="family",
    )
    friend = make_contact(make_customer(world.owner, name="阿里巴巴"), name="马总")
    services.person_link_create(
        actor=world.owner, source=Source.UI, from_contact_id=boss.pk, to_contact_id=friend.pk, kind="friend"
    )
    return {"zhang": zhang, "boss": boss, "secret": secret, "hidden_link": hidden_link, "friend": friend}


def test_owner_gets_the_map_with_roles_links_and_who_knows_whom(world, mapped, api_for):
    body = api_for(world.owner).get(f"/customers/{world.customer.pk}/relationship-map").json()
    nodes = {n["id"]: n for n in body["nodes"]}
    boss = nodes[f"contact:{mapped['boss'].pk}"]
    assert boss["roles"] == ["decision_maker"] and boss["stance"] == "supporter" and boss["warmth"] == 3
    assert nodes[f"contact:{mapped['friend'].pk}"]["kind"] == "external"
    assert nodes[f"user:{world.owner.pk}"]["kind"] == "user"
    kinds = {(e["source"], e["target"], e["kind"]) for e in body["edges"]}
    assert (f"contact:{mapped['zhang'].pk}", f"contact:{mapped['boss'].pk}", "reports_to") in kinds
    assert (f"user:{world.owner.pk}", f"contact:{mapped['zhang'].pk}", "knows") in kinds
    assert body["cadence_days"] == 14  # the channel playbook's cadence
    assert "decision_maker_not_reached" in {g["code"] for g in body["gaps"]}


def test_no_person_at_an_invisible_customer_leaks_through_a_link(world, mapped, api_for):
    api = api_for(world.owner)
    raw = api.get(f"/customers/{world.customer.pk}/relationship-map").content.decode()
    assert "秘密" not in raw and str(mapped["secret"].pk) not in [
        n["ref_id"] for n in api.get(f"/customers/{world.customer.pk}/relationship-map").json()["nodes"]
    ]
    assert "family" not in raw
    links = api.get("/person-links", {"customer_id": world.customer.pk}).json()
    assert {x["kind"] for x in links} == {"reports_to", "friend"}
    assert_api_error(api.get(f"/person-links/{mapped['hidden_link'].pk}"), 404, "not_found")
    # the admin sees the link
    admin_links = api_for(world.admin).get("/person-links", {"customer_id": world.customer.pk}).json()
    assert "family" in {x["kind"] for x in admin_links}


@pytest.mark.parametrize("persona", ["teammate", "outsider"])
def test_others_get_404_on_the_map_and_the_decision(world, mapped, api_for, persona):
    api = api_for(getattr(world, persona))
    assert_api_error(api.get(f"/customers/{world.customer.pk}/relationship-map"), 404, "not_found")
    assert_api_error(api.get(f"/contacts/{mapped['boss'].pk}/decision"), 404, "not_found")
    resp = api.patch(f"/contacts/{mapped['boss'].pk}/decision", {"stance": "opponent"})
    assert_api_error(resp, 404, "not_found")
    assert_api_error(api.get(f"/contacts/{mapped['boss'].pk}/approach"), 404)


def test_teammate_sees_the_map_once_shared(world, mapped, api_for):
    CustomerShare.objects.create(customer=world.customer, user=world.teammate, created_by=world.owner)
    body = api_for(world.teammate).get(f"/customers/{world.customer.pk}/relationship-map").json()
    names = {n["name"] for n in body["nodes"]}
    assert "李总" in names
    assert "马总" not in names  # Alice's other customer is not shared with Bob: the far end stays hidden


def test_bad_input_answers_with_codes(world, mapped, api_for):
    api = api_for(world.owner)
    zhang = mapped["zhang"]
    assert_api_error(
        api.patch(f"/contacts/{zhang.pk}/decision", {"roles": ["boss"]}), 422, "validation_error"
    )
    self_link = {"from_contact_id": zhang.pk, "to_contact_id": zhang.pk, "kind": "friend"}
    err = assert_api_error(api.post("/person-links", self_link), 400, "self_link")
    assert err["field"] == "to_contact_id"
    across = {"from_contact_id": zhang.pk, "to_contact_id": mapped["secret"].pk, "kind": "friend"}
    assert_api_error(api.post("/person-links", across), 404, "not_found")
    assert_api_error(api.post("/person-links", self_link | {"kind": "enemy"}), 422, "validation_error")
    other = make_customer(world.owner, name="腾达")
    assert_api_error(api.post("/referrals", {"customer_id": other.pk}), 400, "one_referrer")
    self_ref = {"customer_id": world.customer.pk, "referrer_contact_id": zhang.pk}
    assert_api_error(api.post("/referrals", self_ref), 400, "self_referral")


def test_decision_and_referral_round_trip(world, mapped, api_for):
    api = api_for(world.owner)
    zhang = mapped["zhang"]
    body = api.patch(
        f"/contacts/{zhang.pk}/decision", {"roles": ["purchaser", "influencer"], "warmth": 4}
    ).json()
    assert body["roles"] == ["purchaser", "influencer"] and body["warmth"] == 4
    assert api.get(f"/contacts/{zhang.pk}/decision").json() == body
    other = make_customer(world.owner, name="腾达")
    created = api.post(
        "/referrals", {"customer_id": other.pk, "referrer_contact_id": zhang.pk, "note": "饭局上认识"}
    )
    assert created.status_code == 201, created.content
    referral = created.json()
    assert referral["referrer_kind"] == "contact" and referral["referrer_customer"]["id"] == world.customer.pk
    both = api.get(f"/customers/{world.customer.pk}/referrals").json()
    assert [r["customer"]["name"] for r in both["referred"]] == ["腾达"]
    patched = api.patch(f"/referrals/{referral['id']}", {"note": "春节饭局"}).json()
    assert patched["note"] == "春节饭局"
    assert_api_error(api_for(world.outsider).get(f"/referrals/{referral['id']}"), 404)
    assert api.delete(f"/referrals/{referral['id']}").status_code == 204


def test_playbooks_are_read_by_all_and_edited_by_the_admin_only(world, api_for):
    sales = api_for(world.owner)
    assert [p["relationship_type"] for p in sales.get("/playbooks").json()] == [
        "upstream",
        "partner",
        "channel",
        "end",
    ]
    assert sales.get("/playbooks/partner").json()["basis"] == "feeling"
    assert_api_error(sales.patch("/playbooks/partner", {"cadence_days": 10}), 403, "admin_only")
    assert_api_error(
        api_for(world.manager).patch("/playbooks/partner", {"cadence_days": 10}), 403, "admin_only"
    )
    admin = api_for(world.admin)
    body = admin.patch(
        "/playbooks/partner", {"cadence_days": 10, "checks_en": "Call between projects"}
    ).json()
    assert body["cadence_days"] == 10 and body["checks_en"] == ["Call between projects"]
    assert_api_error(admin.patch("/playbooks/partner", {"cadence_days": 0}), 422)
    assert_api_error(admin.get("/playbooks/nonsense"), 422)
    # the new cadence drives the gaps at once
    customer = make_customer(world.owner, name="设计公司", relationship_type="partner")
    gaps = sales.get("/relationship-gaps").json()
    assert {g["customer"]["id"]: g["cadence_days"] for g in gaps}[customer.pk] == 10


def test_stale_profiles_are_listed_for_their_owner(world, api_for, settings):
    api = api_for(world.owner)
    assert api.get("/stale-profiles").json() == []  # created today
    settings.GUANXI_PROFILE_REVIEW_DAYS = 30
    import datetime as dt

    from django.utils import timezone

    from guanxi.customers.models import Customer

    Customer.objects.filter(pk=world.customer.pk).update(created_at=timezone.now() - dt.timedelta(days=90))
    stale = api.get("/stale-profiles").json()
    assert [s["customer"]["id"] for s in stale] == [world.customer.pk] and stale[0]["stale"]
    assert api_for(world.teammate).get("/stale-profiles").json() == []
    reviewed = api.post(f"/customers/{world.customer.pk}/profile-review", {}).json()
    assert reviewed["stale"] is False and reviewed["review_days"] == 30
    assert api.get("/stale-profiles").json() == []
    assert api.get("/stale-profiles", {"days": 1}).json() == []
    assert_api_error(api_for(world.outsider).post(f"/customers/{world.customer.pk}/profile-review", {}), 404)
    assert_api_error(
        api.post(f"/customers/{world.customer.pk}/profile-review", {"reviewed_on": "2999-01-01"}), 400
    )


def _map_queries(client, customer_id: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(f"/api/v1/customers/{customer_id}/relationship-map")
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_map_query_count_does_not_grow_with_people_and_links(
    world, mapped, client_for, django_assert_max_num_queries
):
    client = client_for(world.owner)
    small = _map_queries(client, world.customer.pk)
    boss = mapped["boss"]
    for i in range(12):
        person = make_contact(world.customer, name=f"员工{i}")
        services.contact_decision_set(
            actor=world.owner,
            source=Source.UI,
            contact=person,
            roles=["user", "influencer"],
            stance="neutral",
        )
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=person.pk,
            to_contact_id=boss.pk,
            kind="reports_to",
        )
        outside = make_contact(make_customer(world.owner, name=f"外部客户{i}"), name=f"朋友{i}")
        services.person_link_create(
            actor=world.owner,
            source=Source.UI,
            from_contact_id=person.pk,
            to_contact_id=outside.pk,
            kind="friend",
        )
        make_interaction(world.customer, summary=f"拜访{i}", contacts=[person])
    with django_assert_max_num_queries(12):
        large = _map_queries(client, world.customer.pk)
    assert large <= small


def test_customer_page_relations_card_query_count_is_bounded(
    world, mapped, client_for, django_assert_max_num_queries
):
    client = client_for(world.owner)
    with django_assert_max_num_queries(20):
        resp = client.get(f"/relations/customers/{world.customer.pk}/card/")
    assert resp.status_code == 200
