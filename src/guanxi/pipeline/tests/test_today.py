"""The Today page's pipeline section: next steps due/overdue and close dates passing, own deals only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.pipeline.tests.conftest import make_opportunity
from guanxi.pipeline.today import sections

pytestmark = pytest.mark.django_db


def test_next_steps_due_and_closing_deals(world, stages, client_for):
    today = timezone.localdate()
    make_opportunity(
        world.customer,
        name="逾期下一步",
        next_step="回电话",
        next_step_on=today - dt.timedelta(days=2),
        expected_close_on=today + dt.timedelta(days=60),
    )
    make_opportunity(
        world.customer,
        name="以后再说",
        next_step="拜访",
        next_step_on=today + dt.timedelta(days=5),
        expected_close_on=today + dt.timedelta(days=60),
    )
    make_opportunity(world.customer, name="本周成交", expected_close_on=today + dt.timedelta(days=3))
    found = {s["key"]: s for s in sections(user=world.owner, day=today)}
    steps = [i["label"] for i in found["pipeline_next_steps"]["items"]]
    assert len(steps) == 1 and "逾期下一步" in steps[0] and "回电话" in steps[0]
    closing = [i["label"] for i in found["pipeline_closing"]["items"]]
    assert len(closing) == 1 and "本周成交" in closing[0]
    assert sections(user=world.teammate, day=today) == []
    assert sections(user=world.manager, day=today) == []  # their own deals only
    html = client_for(world.owner).get("/today/").content.decode()
    assert "逾期下一步" in html and "本周成交" in html
