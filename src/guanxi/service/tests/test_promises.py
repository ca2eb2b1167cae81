from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from guanxi.audit.models import AuditEvent, Source
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.service import services
from guanxi.service.models import Notice, NoticeKind, PromiseStatus
from guanxi.service.selectors import promises as sel
from guanxi.service.today import sections
from guanxi.testing.factories import make_interaction

DAY = dt.date(2026, 6, 15)
NOON = dt.datetime(2026, 6, 15, 4, 0, tzinfo=dt.UTC)


def _promise(world, due: dt.date, **kw):
    return services.promise_create(
        actor=kw.pop("actor", world.owner),
        source=Source.UI,
        customer=world.customer,
        what="寄送样品",
        due_on=due,
        **kw,
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False):
        yield


def test_promise_states_kept_kept_late_broken_withdrawn(world, frozen):
    kept = _promise(world, DAY)
    late = _promise(world, DAY - dt.timedelta(days=3))
    broken = _promise(world, DAY - dt.timedelta(days=1))
    withdrawn = _promise(world, DAY + dt.timedelta(days=5))
    assert (
        services.promise_close(actor=world.owner, source=Source.UI, promise=kept, outcome="kept").status
        == "kept"
    )
    assert (
        services.promise_close(actor=world.owner, source=Source.UI, promise=late, outcome="kept").status
        == "kept_late"
    )
    with pytest.raises(ValidationFailed) as exc:
        services.promise_close(actor=world.owner, source=Source.UI, promise=broken, outcome="broken")
    assert exc.value.field == "reason"
    services.promise_close(
        actor=world.owner, source=Source.UI, promise=broken, outcome="broken", reason="工厂断货"
    )
    services.promise_close(
        actor=world.owner, source=Source.UI, promise=withdrawn, outcome="withdrawn", reason="客户取消了需求"
    )
    with pytest.raises(Conflict):
        services.promise_close(
            actor=world.owner, source=Source.UI, promise=kept, outcome="broken", reason="x"
        )
    rows = {r["key"]: r for r in sel.promise_rates(world.manager, group="promised_by")}
    mine = rows[world.owner.pk]
    assert (mine["kept"], mine["kept_late"], mine["broken"], mine["withdrawn"]) == (1, 1, 1, 1)
    assert mine["rate"] == pytest.approx(33.3, abs=0.1)  # withdrawn does not count
    team = sel.promise_rates(world.manager, group="team")
    assert team[0]["label"] == world.east.name
    by_customer = sel.promise_rates(world.owner, group="customer")
    assert by_customer[0]["label"] == world.customer.name
    actions = set(AuditEvent.objects.filter(customer_id=world.customer.pk).values_list("action", flat=True))
    assert {
        "promise.create",
        "promise.kept",
        "promise.kept_late",
        "promise.broken",
        "promise.withdrawn",
    } <= actions


def test_promise_links_to_an_interaction_of_the_same_customer_only(world, frozen):
    interaction = make_interaction(world.customer, summary="答应下周寄样品")
    p = _promise(world, DAY, interaction=interaction)
    assert p.interaction == interaction
    from guanxi.testing.factories import make_customer

    other = make_customer(world.owner, name="别的客户")
    with pytest.raises(ValidationFailed):
        services.promise_create(
            actor=world.owner,
            source=Source.UI,
            customer=other,
            what="x",
            due_on=DAY,
            interaction=interaction,
        )


def test_bad_promise_input_is_rejected(world, frozen):
    for kw in ({"what": ""}, {"what": "长" * 301}, {"due_on": dt.date(2062, 1, 1)}, {"due_on": "2026-06-20"}):
        data = {"what": "寄送样品", "due_on": DAY, **kw}
        with pytest.raises(ValidationFailed) as exc:
            services.promise_create(actor=world.owner, source=Source.UI, customer=world.customer, **data)
        assert exc.value.message_zh and exc.value.message_en
    with pytest.raises(ValidationFailed):
        services.promise_close(
            actor=world.owner, source=Source.UI, promise=_promise(world, DAY), outcome="maybe"
        )


def test_outsider_and_teammate_see_no_promise(world, frozen):
    p = _promise(world, DAY)
    for user in (world.outsider, world.teammate):
        with pytest.raises(NotFound):
            sel.promise_get_for_user(user=user, promise_id=p.pk)
        assert not sel.promise_list(user=user, view="all").items
        assert not sel.promise_rates(user)
    assert sel.promise_get_for_user(user=world.manager, promise_id=p.pk)
    with pytest.raises(NotFound):
        services.promise_create(
            actor=world.outsider, source=Source.UI, customer=world.customer, what="x", due_on=DAY
        )


def test_due_reminders_once_a_day_and_on_today_page(world, frozen):
    _promise(world, DAY + dt.timedelta(days=1))
    _promise(world, DAY - dt.timedelta(days=2))
    _promise(world, DAY + dt.timedelta(days=10))
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ):
        assert services.promise_remind_due(DAY) == 2
        assert services.promise_remind_due(DAY) == 0  # the tick again the same day
    kinds = sorted(Notice.objects.values_list("kind", flat=True))
    assert kinds == [NoticeKind.PROMISE_DUE, NoticeKind.PROMISE_OVERDUE]
    section = next(s for s in sections(user=world.owner, day=DAY) if s["key"] == "promises_due")
    assert len(section["items"]) == 2
    assert services.promise_remind_due(DAY + dt.timedelta(days=1)) == 2  # the next day, again


@override_settings(GUANXI_OVERPROMISE_LIMIT=3, GUANXI_OVERPROMISE_DAYS=7)
def test_over_promising_warning(world, frozen):
    for i in range(2):
        _promise(world, DAY + dt.timedelta(days=i))
    assert sel.overpromising(world.owner) == []
    _promise(world, DAY - dt.timedelta(days=1))
    _promise(world, DAY + dt.timedelta(days=30))  # far away: does not count
    warn = sel.overpromising(world.owner)
    assert len(warn) == 1 and warn[0]["count"] == 3 and warn[0]["overdue"] == 1
    assert sel.overpromising(world.manager)[0]["promised_by_id"] == world.owner.pk
    assert sel.overpromising(world.outsider) == []


def test_promise_edit_records_the_moved_date(world, frozen):
    p = _promise(world, DAY)
    services.promise_update(actor=world.owner, source=Source.UI, promise=p, due_on=DAY + dt.timedelta(days=3))
    event = AuditEvent.objects.get(action="promise.update")
    assert event.changes["due_on"] == [DAY.isoformat(), (DAY + dt.timedelta(days=3)).isoformat()]
    services.promise_close(actor=world.owner, source=Source.UI, promise=p, outcome="kept")
    with pytest.raises(ValidationFailed):
        services.promise_update(actor=world.owner, source=Source.UI, promise=p, what="x")
    assert sel.promise_get_for_user(user=world.owner, promise_id=p.pk).status == PromiseStatus.KEPT
