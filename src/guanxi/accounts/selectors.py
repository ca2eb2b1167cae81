"""Reads about users and teams; the team tree behind a manager's visibility."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from guanxi.accounts.models import ApiToken, Team, User


def team_subtree_ids(root_ids: set[int]) -> set[int]:
    """The given teams and all their descendants (teams are few; one query per tree level)."""
    seen = set(root_ids)
    frontier = set(root_ids)
    while frontier:
        children = set(Team.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - seen
        seen |= children
        frontier = children
    return seen


def managed_team_ids(user: User) -> set[int]:
    """Teams a manager sees: the teams they manage, their own team, and every sub-team."""
    if not user.is_manager:
        return set()
    roots = set(Team.objects.filter(manager=user).values_list("id", flat=True))
    if user.team_id:
        roots.add(user.team_id)
    return team_subtree_ids(roots)


def user_list_visible(user: User) -> QuerySet[User]:
    """Users a person may pick as owner/participant: admins all, managers their teams, others themselves."""
    qs = User.objects.filter(is_active=True).select_related("team")
    if user.is_admin:
        return qs.order_by("username")
    if user.is_manager:
        return qs.filter(team_id__in=managed_team_ids(user)).union(qs.filter(pk=user.pk)).order_by("username")
    return qs.filter(pk=user.pk)


def user_for_token(raw: str) -> User | None:
    if not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute so reads do not turn into writes on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
