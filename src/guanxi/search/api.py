"""One search box over customers, contacts and interaction notes, scoped by visibility."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from guanxi.core.api import ERRORS, actor
from guanxi.search.selectors import search_all

router = Router(tags=["search"])


class Hit(Schema):
    id: int
    name: str
    detail: str
    customer_id: int


class SearchOut(Schema):
    query: str
    customers: list[Hit]
    contacts: list[Hit]
    interactions: list[Hit]


@router.get("/search", response={200: SearchOut, **ERRORS}, summary="Search customers, contacts and notes")
def search(
    request: HttpRequest,
    q: Annotated[str, Field(min_length=1, max_length=100)],
    limit: Annotated[int, Field(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    return search_all(user=actor(request), query=q, limit=limit).as_dict()
