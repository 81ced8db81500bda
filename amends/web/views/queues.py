"""Queues: my cases, a team's cases, all open cases; nearest SLA due time first."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render

from amends.accounts.models import Team
from amends.accounts.selectors import staff_profile_of, team_list_for_user
from amends.cases.listing import case_count, case_queue_search
from amends.cases.selectors import CaseFilters
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.web.decorators import staff_required
from amends.web.forms.cases import QueueFilterForm
from amends.web.forms.common import valid
from amends.web.overview import lands_on_overview, overview_for
from amends.web.partials import render_page


def _render_queue(
    request: AuthedRequest,
    *,
    heading: str,
    team: Team | None = None,
    mine: bool = False,
    unrouted: bool = False,
) -> HttpResponse:
    form = valid(QueueFilterForm(request.GET))
    data = form.cleaned_data
    filters = CaseFilters(
        status=data["status"] or None,
        severity=data["severity"],
        category_id=data["category"].pk if data["category"] else None,
        sla_state=data["sla_state"] or None,
        unassigned=data["unassigned"],
        tag=data["tag"] or None,
        upset=data["upset"],
        churn_intent=data["churn"],
        repeat_failure=data["repeat"],
    )
    queue = case_queue_search(
        user=request.user,
        mine=mine,
        team_id=team.pk if team else None,
        unrouted=unrouted,
        filters=filters,
        text=data["q"],
        sort=data["sort"] or None,
    )
    page = paginate(queue, page=data["page"] or 1)
    query = request.GET.copy()
    query.pop("page", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    context: dict[str, Any] = {
        "heading": heading,
        "team": team,
        "mine": mine,
        "form": form,
        "page": page,
        "total": case_count(queue),
        "searching": bool(data["q"]),
        "sort": data["sort"] or ("relevance" if data["q"] else "due"),
        "query": query.urlencode(),
        "query_unsorted": unsorted.urlencode(),
        "show_assignee": not mine,
    }
    return render_page(
        request,
        page="web/cases/queue.html",
        partial="web/cases/_queue_results.html",
        context=context,
    )


@staff_required
def queue_view(request: AuthedRequest) -> HttpResponse:
    """The landing page: an agent's own queue; supervisors, managers and admins see their
    team's overview (their own queue is at /mine/)."""
    if lands_on_overview(user=request.user) and not request.GET:
        context = {"overview": overview_for(user=request.user)}
        return render(request, "web/cases/overview.html", context)
    return _render_queue(request, heading="My queue", mine=True)


@staff_required
def my_queue_view(request: AuthedRequest) -> HttpResponse:
    return _render_queue(request, heading="My queue", mine=True)


@staff_required
def team_queue_view(request: AuthedRequest, team_id: int) -> HttpResponse:
    team = team_list_for_user(user=request.user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team")
    return _render_queue(request, heading=f"{team.name} queue", team=team)


@staff_required
def all_queue_view(request: AuthedRequest) -> HttpResponse:
    if not staff_profile_of(user=request.user).sees_all_teams:
        raise Http404("No such queue")
    return _render_queue(request, heading="All open cases")


@staff_required
def unrouted_queue_view(request: AuthedRequest) -> HttpResponse:
    """Open cases no team owns yet; anyone may take one (or a supervisor route it)."""
    return _render_queue(request, heading="Unrouted cases", unrouted=True)


@staff_required
def team_queues_view(request: AuthedRequest) -> HttpResponse:
    teams = list(team_list_for_user(user=request.user))
    sees_all = staff_profile_of(user=request.user).sees_all_teams
    return render(request, "web/cases/team_queues.html", {"teams": teams, "sees_all": sees_all})
