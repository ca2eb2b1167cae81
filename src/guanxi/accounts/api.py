"""The current user and their API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from guanxi.audit.models import Source
from guanxi.core.api import ERRORS, actor

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    team_id: int | None
    team_name: str | None


@router.get("/me", response={200: MeOut, **ERRORS}, summary="Who am I")
def me(request: HttpRequest) -> dict[str, Any]:
    user = actor(request)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "team_id": user.team_id,
        "team_name": user.team.name if user.team else None,
    }


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(max_length=100)] = ""


class TokenCreatedOut(Schema):
    id: int
    name: str
    token: str


@router.post(
    "/tokens", response={201: TokenCreatedOut, **ERRORS}, summary="Create a personal API token (shown once)"
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    from guanxi.accounts.services import token_create

    user = actor(request)
    token, raw = token_create(actor=user, source=Source.API, user=user, name=payload.name)
    return Status(201, {"id": token.pk, "name": token.name, "token": raw})


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, summary="Revoke one of your API tokens")
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    from guanxi.accounts.services import token_revoke

    token_revoke(actor=actor(request), source=Source.API, token_id=token_id)
    return Status(204, None)
