"""Walk every URL pattern of the project; every route taking an object id must answer 404 to
someone outside the object's scope — for reads and for writes — and change nothing.

The walk reads the live resolver (UI, allauth, Django admin and the ninja API routes), so a new
route is walked automatically. A route with a URL parameter the walk does not know how to fill
fails ``test_walk_knows_every_url_parameter``: teach it below (an object of the world the
outsider cannot see, or an explicit, commented exclusion).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from guanxi.accounts.models import ApiToken
from guanxi.accounts.services import token_create
from guanxi.audit.models import Source
from guanxi.customers.models import CustomerShare
from guanxi.followup import reminders as followup_reminders
from guanxi.followup import services as followup_services
from guanxi.followup import visits as followup_visits
from guanxi.relations.services import person_link_create, referral_create
from guanxi.sales.services import LineInput, order_create
from guanxi.testing.factories import ProductFactory, make_contact, make_customer

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Route:
    path: str  # "customers/<int:customer_id>/edit/" or a regex for admin/allauth
    params: tuple[str, ...]
    is_regex: bool

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")

    @property
    def is_admin_site(self) -> bool:
        return self.path.startswith("django-admin/")


def _params(pattern: Any) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return re.findall(r"<(?:\w+:)?(\w+)>", str(pattern))
    if isinstance(pattern, RegexPattern):
        return list(pattern.regex.groupindex)
    raise AssertionError(f"unknown pattern type {type(pattern)}")


def _walk(
    patterns: list[Any], prefix: str = "", params: tuple[str, ...] = (), regex: bool = False
) -> Iterator[Route]:
    for p in patterns:
        here = (*params, *_params(p.pattern))
        is_regex = regex or isinstance(p.pattern, RegexPattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern), here, is_regex)
        elif isinstance(p, URLPattern):
            yield Route(prefix + str(p.pattern), here, is_regex)


def all_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        seen.setdefault(route.path, route)  # ninja registers one pattern per operation of a path
    return sorted(seen.values(), key=lambda r: r.path)


# Object ids the walk fills with an object the persona cannot see (see ``hidden_objects``).
OBJECT_PARAMS = {
    "customer_id",
    "contact_id",
    "interaction_id",
    "order_id",
    "share_id",
    "user_id",  # /manage/users/<id>/: administrators only, 404 to everyone else
    "team_id",  # /manage/teams/<id>/: administrators only
    "token_id",  # someone else's API token
    "link_id",  # a link between two people at Alice's customers
    "referral_id",  # a referral of Alice's customer
    "task_id",  # follow-up task about Alice's customer
    "appointment_id",
    "reminder_id",  # Alice's birthday reminder about her contact
    "plan_id",  # Alice's visit plan (plans are personal)
    "stop_id",
    "prep_id",  # Alice's visit preparation
    "opportunity_id",  # a deal on Alice's customer
    "person_id",  # a person on that deal
    "pipeline_id",  # /pipeline/manage/<id>/: administrators only
    "stage_id",  # /pipeline/manage/<id>/stages/<id>/: administrators only
    "complaint_id",  # a complaint about Alice's customer
    "promise_id",  # a promise to Alice's customer
    "objection_id",  # an objection Alice's customer raised
    "invitation_id",  # a survey invitation sent to Alice's customer
    "absence_id",  # Alice's absence (her own and her managers' only)
}
# Parameters that are deliberately not walked for the outsider-404 rule, each with its reason.
EXCLUDED_PARAMS = {
    # Products are a shared catalogue, visible to every user (GET is 200 by design); editing is
    # limited by role (403 for salespeople), which the sales API tests cover.
    "product_id": "shared catalogue",
    # allauth's one-time keys from e-mails (confirmation, password reset): not object ids.
    "key": "allauth one-time key",
    "uidb36": "allauth password-reset user key",
    # The four relationship playbooks are reference data every user reads (GET is 200 by design);
    # editing is for administrators only (API 403, /manage/ pages 404), covered by the relations
    # tests and by test_admin_pages_answer_404_to_non_admins below.
    "relationship_type": "shared playbooks",
    # The calendar subscription secret and a survey's secret token are the credential itself, not an
    # object id; an unknown or revoked one answers 404 (guanxi.followup and guanxi.service tests).
    "token": "calendar subscription / survey secret",
    # Customer value runs are company-wide periods; every row listed under one is filtered by the
    # user's visibility (guanxi.value tests: movement and dashboards per persona).
    "run_id": "value evaluation period",
    # Tier rules and service policies are administrators' settings: 404 for everyone else
    # (guanxi.value.tests.test_views).
    "rule_id": "value settings (administrators)",
    "policy_id": "value settings (administrators)",
    # guanxi.dataio: export kinds and formats are names, not objects; an import job, a merge record
    # and a person request answer 404 outside their owner's scope, covered by the dataio view and
    # API tests with the three personas (test_other_users_import_is_404, test_merge_page_and_undo,
    # test_merge_record_of_invisible_survivor_is_404, test_outsider_cannot_export_or_erase).
    "kind": "export kind name",
    "file_format": "export format name",
    "job_id": "import job (dataio tests)",
    "record_id": "merge record (dataio tests)",
    "survivor_id": "merge pair (dataio tests)",
    "merged_id": "merge pair (dataio tests)",
    "object_type": "personal-data request target kind",
    "object_id": "personal-data request target (dataio tests)",
}
# Django's admin is staff-only: it redirects non-staff users to the login before any object lookup.
# Walked separately: the answer must not depend on whether the object exists.
ADMIN_SITE_PARAMS = {"object_id", "content_type_id", "app_label", "url"}


def test_walk_knows_every_url_parameter():
    unknown = {
        (r.path, p)
        for r in all_routes()
        for p in r.params
        if p not in OBJECT_PARAMS | set(EXCLUDED_PARAMS) and not (r.is_admin_site and p in ADMIN_SITE_PARAMS)
    }
    assert not unknown, (
        "routes with URL parameters the route walk cannot fill — add the parameter to OBJECT_PARAMS "
        f"(and an object in hidden_objects) or, with a reason, to EXCLUDED_PARAMS: {sorted(unknown)}"
    )


def test_walk_sees_the_api_and_the_ui():
    paths = {r.path for r in all_routes()}
    assert "api/v1/customers/<customer_id>" in paths
    assert "customers/<int:customer_id>/edit/" in paths
    assert "manage/users/<int:user_id>/" in paths


def _object_routes() -> list[Route]:
    return [
        r
        for r in all_routes()
        if not r.is_admin_site
        and any(p in OBJECT_PARAMS for p in r.params)
        and not any(p in EXCLUDED_PARAMS for p in r.params)
    ]


@pytest.fixture
def hidden_objects(world) -> dict[str, int]:
    """One object per id parameter, owned by Alice and invisible to the outsider and the teammate."""
    customer = world.customer
    product = ProductFactory(code="RW-1", price=Decimal("5.00"))
    order = order_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, lines=[LineInput(product, Decimal(1))]
    )
    # Shared with the admin (who sees everything anyway), so neither persona gains access.
    share = CustomerShare.objects.create(customer=customer, user=world.admin, created_by=world.owner)
    token, _ = token_create(actor=world.owner, source=Source.SYSTEM, user=world.owner)
    other = make_contact(make_customer(world.owner, name="路由测试客户"), name="赵六")
    link = person_link_create(
        actor=world.owner,
        source=Source.SYSTEM,
        from_contact_id=customer.contacts.get().pk,
        to_contact_id=other.pk,
        kind="friend",
    )
    referral = referral_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, referrer_name="老周"
    )
    contact = customer.contacts.get()
    task = followup_services.task_create(
        actor=world.owner, source=Source.SYSTEM, title="回访", due_on=timezone.localdate(), customer=customer
    )
    start = timezone.now() + dt.timedelta(days=1)
    appointment = followup_services.appointment_create(
        actor=world.owner,
        source=Source.SYSTEM,
        customer=customer,
        title="拜访",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    contact.birthday = timezone.localdate() + dt.timedelta(days=1)
    contact.save(update_fields=["birthday"])
    followup_reminders.reminders_generate()
    reminder = contact.reminders.get()
    customer.latitude, customer.longitude = Decimal("22.54"), Decimal("114.05")
    customer.save(update_fields=["latitude", "longitude"])
    plan = followup_visits.visit_plan_build(
        actor=world.owner, source=Source.SYSTEM, day=timezone.localdate(), customers=[customer]
    )
    prep = followup_visits.visit_prep_open(
        actor=world.owner, source=Source.SYSTEM, customer=customer, day=timezone.localdate()
    )
    from guanxi.pipeline import services as pipeline_services
    from guanxi.pipeline.models import Pipeline

    opportunity = pipeline_services.opportunity_create(
        actor=world.owner,
        source=Source.SYSTEM,
        customer=customer,
        name="路由测试商机",
        expected_close_on=timezone.localdate() + dt.timedelta(days=10),
        amount=Decimal("100"),
    )
    person = pipeline_services.opportunity_person_set(
        actor=world.owner, source=Source.SYSTEM, opportunity=opportunity, contact=contact
    )
    pipeline = Pipeline.objects.get(pk=opportunity.pipeline_id)
    from guanxi.service import services as service_services

    complaint = service_services.complaint_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, summary="漏发货", category="delivery"
    )
    promise = service_services.promise_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, what="补发", due_on=timezone.localdate()
    )
    objection = service_services.objection_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, category="price", customer_words="太贵"
    )
    invitation, _ = service_services.survey_invitation_create(
        actor=world.owner, source=Source.SYSTEM, customer=customer, channel="link"
    )
    absence = service_services.absence_create(
        actor=world.owner,
        source=Source.SYSTEM,
        user=world.owner,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate(),
    )
    return {
        "opportunity_id": opportunity.pk,
        "person_id": person.pk,
        "pipeline_id": pipeline.pk,
        "stage_id": opportunity.stage_id,
        "complaint_id": complaint.pk,
        "promise_id": promise.pk,
        "objection_id": objection.pk,
        "invitation_id": invitation.pk,
        "absence_id": absence.pk,
        "customer_id": customer.pk,
        "contact_id": customer.contacts.get().pk,
        "interaction_id": customer.interactions.get().pk,
        "order_id": order.pk,
        "share_id": share.pk,
        "user_id": world.owner.pk,
        "team_id": world.east.pk,
        "token_id": token.pk,
        "link_id": link.pk,
        "referral_id": referral.pk,
        "task_id": task.pk,
        "appointment_id": appointment.pk,
        "reminder_id": reminder.pk,
        "plan_id": plan.pk,
        "stop_id": plan.stops.get().pk,
        "prep_id": prep.pk,
    }


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every project model (small in these tests): any write shows up as a difference."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label in {
            "accounts",
            "audit",
            "customers",
            "engagement",
            "sales",
            "relations",
            "followup",
            "pipeline",
            "service",
        }:
            rows = model.objects.order_by("pk").values_list()
            state[model._meta.label] = [tuple(map(str, row)) for row in rows]
    return state


def _url(route: Route, values: dict[str, int]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route.path)


@functools.cache
def _api_paths() -> dict[str, Any]:
    from guanxi.api import api

    return api.get_openapi_schema()["paths"]


def _api_methods(route: Route) -> set[str]:
    template = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.path)
    return set(_api_paths()[template])


# A plausible change per API write, so a missing scope check would show as a changed row.
API_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("api/v1/complaints/<complaint_id>", "patch"): {"summary": "被篡改"},
    ("api/v1/complaints/<complaint_id>/acknowledge", "post"): {"note": "被篡改"},
    ("api/v1/complaints/<complaint_id>/actions", "post"): {"note": "被篡改"},
    ("api/v1/complaints/<complaint_id>/escalate", "post"): {"note": "被篡改"},
    ("api/v1/complaints/<complaint_id>/resolve", "post"): {"resolution": "被篡改"},
    ("api/v1/complaints/<complaint_id>/reopen", "post"): {"reason": "被篡改"},
    ("api/v1/complaints/<complaint_id>/satisfaction", "post"): {"satisfaction": "1"},
    ("api/v1/promises/<promise_id>", "patch"): {"what": "被篡改"},
    ("api/v1/promises/<promise_id>/close", "post"): {"outcome": "broken", "reason": "被篡改"},
    ("api/v1/objections/<objection_id>", "patch"): {"response": "被篡改"},
    ("api/v1/surveys/invitations/<invitation_id>/revoke", "post"): {},
    ("api/v1/customers/<customer_id>", "patch"): {"name": "被篡改", "status": "lost"},
    ("api/v1/customers/<customer_id>/shares", "post"): {"user_id": "PERSONA"},
    ("api/v1/contacts/<contact_id>", "patch"): {"name": "被篡改", "phones": ["13800000000"]},
    ("api/v1/interactions/<interaction_id>", "patch"): {"summary": "被篡改"},
    ("api/v1/orders/<order_id>", "patch"): {"status": "cancelled"},
    ("api/v1/contacts/<contact_id>/decision", "patch"): {"roles": ["decision_maker"], "stance": "opponent"},
    ("api/v1/person-links/<link_id>", "patch"): {"strength": 1, "note": "被篡改"},
    ("api/v1/referrals/<referral_id>", "patch"): {"note": "被篡改"},
    ("api/v1/customers/<customer_id>/profile-review", "post"): {},
    ("api/v1/tasks/<task_id>", "patch"): {"status": "done", "title": "被篡改"},
    ("api/v1/appointments/<appointment_id>/reschedule", "post"): {
        "starts_at": "2030-01-01T10:00:00+08:00",
        "ends_at": "2030-01-01T11:00:00+08:00",
        "reason_kind": "own",
        "reason": "篡改",
    },
    ("api/v1/appointments/<appointment_id>/cancel", "post"): {"reason_kind": "own", "reason": "篡改"},
    ("api/v1/reminders/<reminder_id>", "patch"): {"status": "dismissed"},
    ("api/v1/reminders/<reminder_id>/greetings", "post"): {"contact_id": 1, "channel": "wechat"},
    ("api/v1/visit-plans/<plan_id>/order", "post"): {"stop_ids": [1]},
    ("api/v1/customers/<customer_id>/cadence", "put"): {"days": 3},
    ("api/v1/contacts/<contact_id>/dates", "post"): {"kind": "wedding", "date": "2001-05-20"},
    ("api/v1/opportunities/<opportunity_id>", "patch"): {"version": 1, "name": "被篡改"},
    ("api/v1/opportunities/<opportunity_id>/move", "post"): {"stage_id": 3, "version": 1},
    ("api/v1/opportunities/<opportunity_id>/win", "post"): {"version": 1, "create_order": True},
    ("api/v1/opportunities/<opportunity_id>/lose", "post"): {"version": 1, "reason": "price"},
    ("api/v1/opportunities/<opportunity_id>/reopen", "post"): {"version": 1},
    ("api/v1/opportunities/<opportunity_id>/people", "post"): {"contact_id": 1, "engaged": True},
}
UI_POST = {
    "name": "被篡改",
    "kind": "company",
    "relationship_type": "end",
    "status": "lost",
    "tags": "篡改",
    "user": "PERSONA",
    "team": "TEAM",
    "channel": "visit",
    "direction": "out",
    "summary": "被篡改",
    "display_name": "被篡改",
    "role": "admin",
    "is_active": "on",
    "phones": "13800000000",
    "title": "被篡改",
    "due_on": "2030-01-01",
    "until": "2030-01-01",
    "action": "cancel",
    "reason_kind": "own",
    "reason": "篡改",
    "day": "2030-01-01",
    "key_points": "被篡改",
    "date": "2001-05-20",
}


def _expect_hidden(resp: Any, route: Route, method: str) -> None:
    where = f"{method.upper()} {route.path} -> {resp.status_code}"
    assert resp.status_code in (404, 405), where
    if resp.status_code == 404 and route.is_api:
        assert resp.json()["error"]["code"] == "not_found", where


@pytest.mark.parametrize("persona", ["outsider", "teammate"])
def test_every_object_route_answers_404_outside_scope_and_changes_nothing(world, hidden_objects, persona):
    user = getattr(world, persona)
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    routes = _object_routes()
    before = _snapshot()
    walked: set[str] = set()

    for route in routes:
        url = _url(route, hidden_objects)
        found_404 = False
        if route.is_api:
            methods = _api_methods(route) | {"get", "patch", "delete"}
            for method in sorted(methods):
                body = API_BODIES.get((route.path, method))
                if method in {"post", "patch"} and method in _api_methods(route):
                    assert body is not None, f"teach the walk a body for {method.upper()} {route.path}"
                body = {k: (user.pk if v == "PERSONA" else v) for k, v in (body or {}).items()}
                resp = getattr(client, method)(url, body, content_type="application/json")
                _expect_hidden(resp, route, method)
                found_404 |= resp.status_code == 404
        else:
            data = {k: {"PERSONA": user.pk, "TEAM": user.team_id}.get(v, v) for k, v in UI_POST.items()}
            for method, resp in (("get", client.get(url)), ("post", client.post(url, data))):
                _expect_hidden(resp, route, method)
                found_404 |= resp.status_code == 404
        assert found_404, f"{route.path}: no method reached the object lookup (all 405)"
        walked.add(route.path)

    assert _snapshot() == before, "a request outside the persona's scope changed data"
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    # Coverage: every route with an object id was walked (new routes are picked up automatically).
    expected = {
        r.path
        for r in all_routes()
        if not r.is_admin_site and any(p in OBJECT_PARAMS for p in r.params) and "product_id" not in r.params
    }
    assert walked == expected
    assert len(walked) >= 20  # today: 11 UI routes + 11 API paths; a sudden drop means the walk broke


def test_django_admin_answers_the_same_for_existing_and_missing_objects(world, hidden_objects):
    """Non-staff users are sent to the login before any lookup: the admin reveals nothing."""
    client = Client()
    client.force_login(world.outsider)
    admin_routes = [r for r in all_routes() if r.is_admin_site and r.params and not r.is_regex]
    assert admin_routes
    before = _snapshot()
    for route in admin_routes:
        present_url = _url(route, {"object_id": world.customer.pk, "content_type_id": 1})
        absent_url = _url(route, {"object_id": 987654, "content_type_id": 987654})
        for method in ("get", "post"):
            present = getattr(client, method)(present_url)
            absent = getattr(client, method)(absent_url)
            assert present.status_code in (302, 404), (route.path, present.status_code)
            assert present.status_code == absent.status_code, route.path
            assert present.get("Location", "").replace(present_url, "URL") == absent.get(
                "Location", ""
            ).replace(absent_url, "URL"), route.path
    assert _snapshot() == before


ADMIN_ONLY = [
    "/manage/users/",
    "/manage/users/new/",
    "/manage/teams/new/",
    "/manage/playbooks/",
    "/manage/playbooks/channel/",
]


@pytest.mark.parametrize("persona", ["owner", "teammate", "outsider", "manager"])
def test_admin_pages_answer_404_to_non_admins(world, client_for, persona):
    client = client_for(getattr(world, persona))
    pages = [*ADMIN_ONLY, f"/manage/users/{world.owner.pk}/", f"/manage/teams/{world.east.pk}/"]
    before = _snapshot()
    for page in pages:
        assert client.get(page).status_code == 404, page
        assert (
            client.post(
                page, {"name": "黑客组", "username": "mallory", "role": "admin", "cadence_days": "1"}
            ).status_code
            == 404
        )
    assert _snapshot() == before


def test_admin_pages_work_for_the_admin(world, client_for):
    client = client_for(world.admin)
    for page in [*ADMIN_ONLY, f"/manage/users/{world.owner.pk}/", f"/manage/teams/{world.east.pk}/"]:
        assert client.get(page).status_code == 200, page
