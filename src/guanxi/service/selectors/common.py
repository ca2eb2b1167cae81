from __future__ import annotations

from django.db.models import Q

from guanxi.accounts.models import User
from guanxi.accounts.selectors import managed_team_ids
from guanxi.customers.models import CustomerShare


def visible_customer_q(user: User, prefix: str = "customer") -> Q:
    """Rows about a customer the user may see: ``customers.selectors.customer_visibility_q`` written
    over the joined customer's columns (owner, team, explicit shares).

    Complaints, promises, objections and answers are a few per hundred customers, so the database
    should walk *them* and look each customer up by key. ``customer_id IN (visible customers)``
    made SQLite materialise the manager's whole team — ~1 s per query at 100k customers — for the
    3 000 complaints it filtered. Kept beside the rule it mirrors and tested against it."""
    if user.is_admin:
        return Q()
    share_q = Q(user_id=user.pk) | Q(team_id=user.team_id) if user.team_id else Q(user_id=user.pk)
    q = Q(**{f"{prefix}__owner_id": user.pk}) | Q(
        **{f"{prefix}_id__in": CustomerShare.objects.filter(share_q).values("customer_id")}
    )
    if user.is_manager:
        teams = managed_team_ids(user)
        if teams:
            q |= Q(**{f"{prefix}__team_id__in": sorted(teams)})
    return q


def active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)
