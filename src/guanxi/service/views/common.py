from __future__ import annotations

from django.http import Http404

from guanxi.accounts.models import User
from guanxi.core.http import HtmxHttpRequest
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get_for_user
from guanxi.pipeline.models import Opportunity
from guanxi.pipeline.selectors import opportunity_get_for_user


def user_of(request: HtmxHttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def int_param(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Http404("bad id") from None
    if not 0 < value < 2**63:
        raise Http404("bad id")
    return value


def customer_param(request: HtmxHttpRequest, user: User) -> Customer | None:
    customer_id = int_param(request.GET.get("customer"))
    return customer_get_for_user(user=user, customer_id=customer_id) if customer_id else None


def opportunity_param(request: HtmxHttpRequest, user: User) -> Opportunity | None:
    """The deal named by ``?opportunity=<id>`` (forms opened from the opportunity page); 404 when
    the user may not see it."""
    opportunity_id = int_param(request.GET.get("opportunity"))
    return opportunity_get_for_user(user=user, opportunity_id=opportunity_id) if opportunity_id else None
