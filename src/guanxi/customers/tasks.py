from __future__ import annotations

from django_tasks import task

from guanxi.customers.services import search_scopes_repair


@task()
def repair_search_scopes() -> int:
    """Daily safety net for the visibility keys in the search index (see search_scopes_repair)."""
    return search_scopes_repair()
