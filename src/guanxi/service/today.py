"""The service package's sections of the Today page: complaints escalated to me, complaints due or
overdue that I handle, and my promises due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.service.models import ComplaintStatus
from guanxi.service.selectors import complaints as complaint_sel
from guanxi.service.selectors import promises as promise_sel


def sections(*, user: User, day: dt.date) -> list[dict[str, Any]]:
    now = timezone.now()
    out: list[dict[str, Any]] = []
    complaints = complaint_sel.complaints_due(user, now)
    escalated = [c for c in complaints if c.escalated_to_id == user.pk]
    mine = [c for c in complaints if c.escalated_to_id != user.pk]

    def item(c: Any) -> dict[str, Any]:
        deadline = c.respond_by if c.status == ComplaintStatus.OPEN else c.resolve_by
        late = deadline <= now
        label = f"{c.customer} · {c.summary} · {timezone.localtime(deadline):%H:%M}"
        if late:
            label = f"{_('已逾期')} · {label}"
        return {
            "label": label,
            "url": reverse("service:complaint", args=[c.pk]),
            "due": timezone.localdate(
                deadline
            ),  # the section schema carries a date; the time is in the label
        }

    if escalated:
        out.append(
            {
                "key": "complaints_escalated",
                "title": _("升级给我的投诉"),
                "items": [item(c) for c in escalated],
            }
        )
    if mine:
        out.append(
            {"key": "complaints_due", "title": _("投诉：即将到期或已逾期"), "items": [item(c) for c in mine]}
        )
    promises = promise_sel.promises_due(user, day)
    if promises:
        out.append(
            {
                "key": "promises_due",
                "title": _("到期的承诺"),
                "items": [
                    {
                        "label": (f"{_('已逾期')} · " if p.due_on < day else "") + f"{p.customer} · {p.what}",
                        "url": reverse("service:promise", args=[p.pk]),
                        "due": p.due_on,
                    }
                    for p in promises
                ],
            }
        )
    return out
