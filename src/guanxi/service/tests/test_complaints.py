from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import time_machine
from django.conf import settings

from guanxi.accounts.models import Role
from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.engagement.selectors import customer_timeline
from guanxi.followup.models import FollowUpTask
from guanxi.service import escalation, services
from guanxi.service.models import Complaint, ComplaintStatus, EscalationReason, Notice, NoticeKind
from guanxi.service.policy import (
    RelationshipServicePolicy,
    ServicePolicy,
    ValueTermsServicePolicy,
    deadlines_for,
)
from guanxi.service.selectors import complaints as sel
from guanxi.service.tests.conftest import NOW
from guanxi.testing.factories import TeamFactory, UserFactory

H = dt.timedelta(hours=1)


def _log(world, **kw):
    data = {
        "summary": "交货延迟两周",
        "category": "delivery",
        "severity": "medium",
        "customer": world.customer,
    }
    data.update(kw)
    return services.complaint_create(actor=world.owner, source=Source.UI, **data)


def test_deadlines_come_from_policy_by_relationship_and_severity(world):
    # the world's customer is a channel: 8 h to respond, 72 h to resolve at medium severity
    respond_by, resolve_by = deadlines_for(customer=world.customer, severity="medium", received_at=NOW)
    assert (respond_by - NOW, resolve_by - NOW) == (8 * H, 72 * H)
    respond_by, resolve_by = deadlines_for(customer=world.customer, severity="critical", received_at=NOW)
    assert (respond_by - NOW, resolve_by - NOW) == (2 * H, 18 * H)
    world.customer.relationship_type = "end"
    respond_by, resolve_by = deadlines_for(customer=world.customer, severity="low", received_at=NOW)
    assert (respond_by - NOW, resolve_by - NOW) == (48 * H, 240 * H)


def test_deadlines_follow_the_service_policy_of_the_customers_value_class(world):
    from guanxi.value.models import ServicePolicy as ValuePolicy
    from guanxi.value.services import service_policy_save

    assert settings.GUANXI_SERVICE_POLICY.endswith("ValueTermsServicePolicy")
    # Not yet classified: the relationship rules (a channel: 8 h / 72 h at medium severity).
    respond_by, resolve_by = deadlines_for(customer=world.customer, severity="medium", received_at=NOW)
    assert (respond_by - NOW, resolve_by - NOW) == (8 * H, 72 * H)
    # Class A: the administrator's policy for A, scaled by severity.
    a = ValuePolicy.objects.filter(value_class="A", tier="").first()
    service_policy_save(
        actor=world.admin,
        source=Source.UI,
        policy=a,
        **({} if a else {"value_class": "A"}),
        complaint_response_hours=4,
        complaint_resolution_hours=48,
    )
    world.customer.value_class = "A"
    policy = ValueTermsServicePolicy()
    assert policy.hours(world.customer, "medium") == (4.0, 48.0)
    assert policy.hours(world.customer, "high") == (2.0, 24.0)
    assert policy.hours(world.customer, "low") == (8.0, 96.0)
    respond_by, resolve_by = deadlines_for(customer=world.customer, severity="critical", received_at=NOW)
    assert (respond_by - NOW, resolve_by - NOW) == (2 * H, 12 * H)  # floors: 2 h, 8 h; 48 × ¼ = 12
    assert isinstance(RelationshipServicePolicy(), ServicePolicy)


def test_log_complaint_sets_deadlines_and_records_on_both_timelines(world):
    with time_machine.travel(NOW, tick=False):
        c = _log(world, customer_words="你们说好的周一到货！", customer_wants="本周内补发")
        assert c.respond_by == NOW + 8 * H and c.resolve_by == NOW + 72 * H
        assert c.handler == world.owner and c.status == ComplaintStatus.OPEN
        services.complaint_acknowledge(actor=world.owner, source=Source.UI, complaint=c, note="已致电道歉")
        services.complaint_add_action(actor=world.owner, source=Source.UI, complaint=c, note="安排加急补发")
        services.complaint_resolve(
            actor=world.owner, source=Source.UI, complaint=c, resolution="已补发，客户签收"
        )
        services.complaint_reopen(actor=world.owner, source=Source.UI, complaint=c, reason="补发的型号不对")
    steps = [e.action for e in sel.complaint_timeline(c)]
    assert steps == [
        "complaint.create",
        "complaint.acknowledge",
        "complaint.action",
        "complaint.resolve",
        "complaint.reopen",
    ]
    on_customer = {e.event.action for e in customer_timeline(world.customer) if e.kind == "event"}
    assert set(steps) <= on_customer
    notes = [e.changes.get("_note", [None, None])[1] for e in sel.complaint_timeline(c)]
    assert "安排加急补发" in notes and "补发的型号不对" in notes
    c.refresh_from_db()
    assert c.status == ComplaintStatus.ACKNOWLEDGED and c.resolved_at is None


def test_acknowledging_twice_and_resolving_without_text_are_refused(world):
    c = _log(world)
    services.complaint_acknowledge(actor=world.owner, source=Source.UI, complaint=c)
    with pytest.raises(Conflict):
        services.complaint_acknowledge(actor=world.owner, source=Source.UI, complaint=c)
    with pytest.raises(ValidationFailed) as exc:
        services.complaint_resolve(actor=world.owner, source=Source.UI, complaint=c, resolution="  ")
    assert exc.value.message_zh and exc.value.message_en


def test_bad_input_is_rejected_and_nothing_written(world):
    for bad in ({"severity": "apocalyptic"}, {"category": "x"}, {"summary": ""}, {"summary": "长" * 201}):
        with pytest.raises(ValidationFailed) as exc:
            _log(world, **bad)
        assert exc.value.message_zh and exc.value.message_en
    assert not Complaint.objects.exists()


def test_outsider_cannot_log_or_see_a_complaint(world):
    c = _log(world)
    with pytest.raises(NotFound):
        services.complaint_create(
            actor=world.outsider, source=Source.UI, customer=world.customer, summary="x", category="other"
        )
    with pytest.raises(NotFound):
        sel.complaint_get_for_user(user=world.outsider, complaint_id=c.pk)
    with pytest.raises(NotFound):
        sel.complaint_get_for_user(user=world.teammate, complaint_id=c.pk)
    assert sel.complaint_get_for_user(user=world.manager, complaint_id=c.pk)
    assert sel.complaint_get_for_user(user=world.admin, complaint_id=c.pk)
    assert not sel.complaint_stats(world.outsider, group="category")


def test_deadline_warning_then_automatic_escalation_to_the_manager_once(
    world, smtp_server, django_capture_on_commit_callbacks
):
    world.manager.email = "manager@example.com"
    world.manager.save()
    world.owner.email = "alice@example.com"
    world.owner.save()
    with time_machine.travel(NOW, tick=False):
        c = _log(world)  # respond by NOW + 8 h
    # 5 h in: more than a quarter of the window left, nothing happens
    with time_machine.travel(NOW + 5 * H, tick=False):
        assert services.complaint_check_deadlines() == {"warnings": 0, "escalations": 0}
    # 6.5 h in: the response warning goes to the handler, once
    with time_machine.travel(NOW + 6.5 * H, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.complaint_check_deadlines()["warnings"] == 1
        assert services.complaint_check_deadlines()["warnings"] == 0
    assert Notice.objects.get(kind=NoticeKind.RESPONSE_WARNING).user == world.owner
    assert [m.rcpt_tos for m in smtp_server.messages] == [["alice@example.com"]]
    # one second before the deadline: still not escalated
    with time_machine.travel(NOW + 8 * H - dt.timedelta(seconds=1), tick=False):
        assert services.complaint_check_deadlines()["escalations"] == 0
    with time_machine.travel(NOW + 8 * H, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.complaint_check_deadlines()["escalations"] == 1
        assert services.complaint_check_deadlines()["escalations"] == 0  # the tick again: idempotent
    c.refresh_from_db()
    assert c.escalated_to == world.manager and c.escalation_level == 1
    assert c.escalation_reason == EscalationReason.RESPONSE_OVERDUE
    # an in-app notice, a follow-up task and one e-mail to the manager
    assert Notice.objects.filter(user=world.manager, kind=NoticeKind.ESCALATED).count() == 1
    assert FollowUpTask.objects.filter(assignee=world.manager, customer=world.customer).count() == 1
    to_manager = [m for m in smtp_server.messages if m.rcpt_tos == ["manager@example.com"]]
    assert len(to_manager) == 1
    assert escalation.notice_deliver(Notice.objects.get(user=world.manager).pk) is False  # sent once
    msg = message_from_bytes(to_manager[0].original_content)
    assert "投诉升级" in str(make_header(decode_header(msg["Subject"])))
    assert AuditEvent.objects.filter(action="complaint.escalate", customer_id=world.customer.pk).count() == 1
    # the manager sees it on their Today page
    from guanxi.service.today import sections

    with time_machine.travel(NOW + 8 * H, tick=False):
        keys = [s["key"] for s in sections(user=world.manager, day=dt.date(2026, 6, 15))]
    assert "complaints_escalated" in keys


def test_resolution_deadline_climbs_one_more_level(world):
    head = UserFactory(username="head", role=Role.MANAGER)
    region = TeamFactory(name="大区", manager=head)
    world.east.parent = region
    world.east.save()
    with time_machine.travel(NOW, tick=False):
        c = _log(world)
    with time_machine.travel(NOW + 9 * H, tick=False):
        services.complaint_check_deadlines()
    c.refresh_from_db()
    assert c.escalated_to == world.manager
    with time_machine.travel(NOW + 72 * H, tick=False):
        services.complaint_check_deadlines()
        services.complaint_check_deadlines()
    c.refresh_from_db()
    assert c.escalated_to == head and c.escalation_level == 2
    assert c.escalation_reason == EscalationReason.RESOLUTION_OVERDUE
    assert sel.complaint_get_for_user(user=head, complaint_id=c.pk)


def test_acknowledged_in_time_is_not_escalated_for_response(world):
    with time_machine.travel(NOW, tick=False):
        c = _log(world)
        services.complaint_acknowledge(actor=world.owner, source=Source.UI, complaint=c)
    with time_machine.travel(NOW + 10 * H, tick=False):
        assert services.complaint_check_deadlines()["escalations"] == 0


def test_beyond_my_authority_escalates_at_once(world):
    with time_machine.travel(NOW, tick=False):
        c = _log(world, beyond_authority=True)
    c.refresh_from_db()
    assert c.escalated_to == world.manager and c.escalation_reason == EscalationReason.BEYOND_AUTHORITY
    assert c.escalated_at == NOW


def test_chain_skips_an_inactive_or_absent_manager_and_ends_at_an_admin(world):
    head = UserFactory(username="head", role=Role.MANAGER)
    region = TeamFactory(name="大区", manager=head)
    world.east.parent = region
    world.east.save()
    day = dt.date(2026, 6, 15)
    assert escalation.escalation_target(world.owner, day=day) == world.manager
    # the manager is on leave today → the next manager up the tree
    services.absence_create(
        actor=world.manager,
        source=Source.UI,
        user=world.manager,
        starts_on=day,
        ends_on=day + dt.timedelta(days=3),
    )
    assert escalation.escalation_target(world.owner, day=day) == head
    assert escalation.escalation_target(world.owner, day=day + dt.timedelta(days=4)) == world.manager
    # the head is inactive too → an administrator
    head.is_active = False
    head.save()
    assert escalation.escalation_target(world.owner, day=day) == world.admin
    # a team with no manager at all → an administrator
    world.north.manager = None
    world.north.save()
    assert escalation.escalation_target(world.outsider, day=day) == world.admin


def test_escalation_with_the_manager_absent_goes_to_the_next_one_up(world):
    head = UserFactory(username="head", role=Role.MANAGER)
    world.east.parent = TeamFactory(name="大区", manager=head)
    world.east.save()
    services.absence_create(
        actor=world.admin,
        source=Source.UI,
        user=world.manager,
        starts_on=dt.date(2026, 6, 1),
        ends_on=dt.date(2026, 6, 30),
    )
    with time_machine.travel(NOW, tick=False):
        c = _log(world)
    with time_machine.travel(NOW + 8 * H, tick=False):
        services.complaint_check_deadlines()
    c.refresh_from_db()
    assert c.escalated_to == head


def test_salesperson_cannot_record_someone_elses_absence(world):
    from guanxi.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.absence_create(
            actor=world.owner,
            source=Source.UI,
            user=world.manager,
            starts_on=dt.date(2026, 6, 1),
            ends_on=dt.date(2026, 6, 2),
        )


def test_severity_change_recomputes_deadlines(world):
    with time_machine.travel(NOW, tick=False):
        c = _log(world)
        c = services.complaint_update(actor=world.owner, source=Source.UI, complaint=c, severity="critical")
    assert c.respond_by == NOW + 2 * H


def test_satisfaction_check_after_resolution(world):
    c = _log(world)
    with pytest.raises(ValidationFailed):
        services.complaint_record_satisfaction(
            actor=world.owner, source=Source.UI, complaint=c, satisfaction="4"
        )
    services.complaint_resolve(actor=world.owner, source=Source.UI, complaint=c, resolution="已退款")
    c = services.complaint_record_satisfaction(
        actor=world.owner, source=Source.UI, complaint=c, satisfaction="4", note="电话回访"
    )
    assert c.satisfaction == "4"


def test_statistics_per_category_and_handler(world):
    with time_machine.travel(NOW, tick=False):
        a = _log(world)
        _log(world, category="quality")
    with time_machine.travel(NOW + 2 * H, tick=False):
        services.complaint_acknowledge(actor=world.owner, source=Source.UI, complaint=a)
    with time_machine.travel(NOW + 10 * H, tick=False):
        services.complaint_resolve(actor=world.owner, source=Source.UI, complaint=a, resolution="ok")
    rows = {r["key"]: r for r in sel.complaint_stats(world.manager, group="category")}
    assert rows["delivery"]["total"] == 1 and rows["delivery"]["open"] == 0
    assert rows["delivery"]["response_hours"] == pytest.approx(2.0, abs=0.01)
    assert rows["delivery"]["resolution_hours"] == pytest.approx(10.0, abs=0.01)
    by_handler = sel.complaint_stats(world.manager, group="handler")
    assert by_handler[0]["label"] == str(world.owner) and by_handler[0]["total"] == 2
