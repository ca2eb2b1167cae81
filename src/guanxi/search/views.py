from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from guanxi.accounts.models import User
from guanxi.core.http import HtmxHttpRequest
from guanxi.search.selectors import search_all


@login_required
def search(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    query = request.GET.get("q", "")[:100]
    results = search_all(user=user, query=query, limit=20)
    template = "search/_results.html" if request.htmx else "search/results.html"
    return render(request, template, {"results": results, "q": query})
