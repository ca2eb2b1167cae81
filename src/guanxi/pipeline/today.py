"""The pipeline's part of the Today page: next steps due or overdue on the user's open deals, and
deals whose expected close date has passed or comes within a week (update it, or close the deal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.accounts.models import User
from guanxi.pipeline import selectors

CLOSING_DAYS = 7


def sections(*, user: User, day: dt.date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    no_step, overdue, past_close = _("（未写下一步）"), _("逾期"), _("已过预计成交日")
    steps = selectors.next_steps_due(user, day)
    if steps:
        out.append(
            {
                "key": "pipeline_next_steps",
                "title": _("商机的下一步（今天及逾期）"),
                "items": [
                    {
                        "label": f"{o.customer.name} · {o.name}: {o.next_step or no_step}"
                        + (f" ({overdue})" if o.next_step_on and o.next_step_on < day else ""),
                        "url": reverse("pipeline:detail", args=[o.pk]),
                        "due": o.next_step_on,
                    }
                    for o in steps
                ],
            }
        )
    closing = selectors.closing_soon(user, day, days=CLOSING_DAYS)
    if closing:
        out.append(
            {
                "key": "pipeline_closing",
                "title": _("预计成交日已到或将到的商机"),
                "items": [
                    {
                        "label": f"{o.customer.name} · {o.name} · ¥{o.amount:,.0f}"
                        + (f" ({past_close})" if o.expected_close_on < day else ""),
                        "url": reverse("pipeline:detail", args=[o.pk]),
                        "due": o.expected_close_on,
                    }
                    for o in closing
                ],
            }
        )
    return out
