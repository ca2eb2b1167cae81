"""The administrator's area (users and teams) and each user's API tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.accounts import services
from guanxi.accounts.forms import TeamForm, TokenForm, UserCreateForm, UserEditForm
from guanxi.accounts.models import ApiToken, Team, User
from guanxi.audit.models import Source
from guanxi.core.forms import form_status, save_form


def admin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Administrators only; everyone else gets 404, like any object outside their scope."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:  # type: ignore[union-attr]
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin_required
def users(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/users.html",
        {
            "users": User.objects.select_related("team").order_by("username"),
            "teams": Team.objects.select_related("parent", "manager").order_by("name"),
        },
    )


@admin_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    saved = save_form(
        request,
        form,
        lambda d: services.user_create(
            actor=_user(request),
            source=Source.UI,
            username=d["username"],
            password=d["password"],
            role=d["role"],
            team=d["team"],
            display_name=d["display_name"],
            email=d["email"],
        ),
    )
    if saved:
        return redirect("accounts:users")
    context = {"form": form, "title": _("新建用户")}
    return render(request, "accounts/form.html", context, status=form_status(request))


@admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    target = User.objects.filter(pk=user_id).first()
    if target is None:
        raise Http404
    initial = {
        "display_name": target.display_name,
        "email": target.email,
        "role": target.role,
        "team": target.team,
        "is_active": target.is_active,
    }
    form = UserEditForm(request.POST or None, initial=initial)

    def save(d: dict[str, Any]) -> User:
        # Profile and password in one transaction: a rejected password leaves the profile unchanged too.
        services.user_update(
            actor=_user(request),
            source=Source.UI,
            user=target,
            display_name=d["display_name"],
            email=d["email"],
            role=d["role"],
            team=d["team"],
            is_active=d["is_active"],
        )
        if d["new_password"]:
            services.user_set_password(
                actor=_user(request), source=Source.UI, user=target, password=d["new_password"]
            )
        return target

    if save_form(request, form, save):
        return redirect("accounts:users")
    context = {"form": form, "title": _("编辑用户 %(name)s") % {"name": target.username}}
    return render(request, "accounts/form.html", context, status=form_status(request))


@admin_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None)
    saved = save_form(
        request,
        form,
        lambda d: services.team_create(
            actor=_user(request), source=Source.UI, name=d["name"], parent=d["parent"], manager=d["manager"]
        ),
    )
    if saved:
        return redirect("accounts:users")
    context = {"form": form, "title": _("新建团队")}
    return render(request, "accounts/form.html", context, status=form_status(request))


@admin_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise Http404
    initial = {"name": team.name, "parent": team.parent, "manager": team.manager}
    form = TeamForm(request.POST or None, initial=initial)
    saved = save_form(
        request,
        form,
        lambda d: services.team_update(
            actor=_user(request),
            source=Source.UI,
            team=team,
            name=d["name"],
            parent=d["parent"],
            clear_parent=d["parent"] is None,
            manager=d["manager"],
        ),
    )
    if saved:
        return redirect("accounts:users")
    context = {"form": form, "title": _("编辑团队 %(name)s") % {"name": team.name}}
    return render(request, "accounts/form.html", context, status=form_status(request))


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        _, created = services.token_create(
            actor=user, source=Source.UI, user=user, name=form.cleaned_data["name"]
        )
        form = TokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at"),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    services.token_revoke(actor=_user(request), source=Source.UI, token_id=token_id)
    return redirect("accounts:tokens")
