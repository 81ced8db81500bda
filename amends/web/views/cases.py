from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from amends.cases.selectors import case_queue
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest


@login_required
def queue_view(request: AuthedRequest) -> HttpResponse:
    page = paginate(case_queue(user=request.user, mine=True))
    return render(request, "web/cases/queue.html", {"page": page})
