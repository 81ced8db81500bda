"""Insight in the staff UI: the case panel, the apology coach, the upset-first queue, coaching.

Business errors raised by services become flash messages in ApplicationErrorMiddleware.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from amends.cases.event_kinds import display_names
from amends.cases.models import Case
from amends.cases.selectors import case_get_for_user
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.insight.choices import QueueFlag
from amends.insight.selectors import (
    apology_pass_rate,
    case_insight_panel,
    insight_queue,
    text_score_get_for_user,
)
from amends.insight.services.coach import apology_check_record
from amends.insight.services.scoring import text_score_correct
from amends.insight.services.triage import triage_suggestion_accept
from amends.web.decorators import staff_required
from amends.web.forms.common import valid
from amends.web.forms.insight import (
    ApologyCheckForm,
    CoachingForm,
    InsightQueueForm,
    ScoreCorrectForm,
)
from amends.web.partials import render_page


def _panel(request: AuthedRequest, case: Case, *, changed: bool = False) -> HttpResponse:
    response = render(
        request,
        "web/insight/_case_panel.html",
        {"case": case, "panel": case_insight_panel(case=case), "request": request},
    )
    if changed:
        response["HX-Trigger"] = "caseChanged"
    return response


@staff_required
@require_GET
def insight_panel_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    return _panel(request, case)


@staff_required
@require_POST
def apology_check_view(request: AuthedRequest, ref: str) -> HttpResponse:
    """The Check button on the reply form: the coach's findings on the draft, never a block."""
    case = case_get_for_user(ref=ref, user=request.user)
    form = valid(ApologyCheckForm(request.POST))
    report, _ = apology_check_record(
        case=case, author=request.user, draft=form.cleaned_data["body"]
    )
    return render(request, "web/insight/_apology_result.html", {"report": report, "case": case})


@staff_required
@require_POST
def triage_accept_view(request: AuthedRequest, ref: str) -> HttpResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    triage_suggestion_accept(case=case, actor=request.user)
    return _panel(request, case_get_for_user(ref=ref, user=request.user), changed=True)


@staff_required
@require_POST
def score_correct_view(request: AuthedRequest, score_id: int) -> HttpResponse:
    score = text_score_get_for_user(score_id=score_id, user=request.user)
    form = valid(ScoreCorrectForm(request.POST))
    text_score_correct(
        score=score,
        actor=request.user,
        labels=form.cleaned_data["labels"] or None,
        upset=form.cleaned_data["upset"],
    )
    return _panel(request, case_get_for_user(ref=score.case.ref, user=request.user))


@staff_required
@require_GET
def insight_queue_view(request: AuthedRequest) -> HttpResponse:
    """Open cases, most upset or at risk first: filter by upset, churn intent, threat, repeat."""
    form = valid(InsightQueueForm(request.GET))
    flag = form.cleaned_data["flag"] or QueueFlag.UPSET
    page = paginate(
        insight_queue(user=request.user, flag=flag), page=form.cleaned_data["page"] or 1
    )
    context = {
        "page": page,
        "flag": flag,
        "flags": QueueFlag.choices,
        "query": f"flag={flag}",
    }
    return render_page(
        request,
        page="web/insight/queue.html",
        partial="web/insight/_queue_results.html",
        context=context,
    )


@staff_required
@require_GET
def coaching_view(request: AuthedRequest) -> HttpResponse:
    """First-draft pass rate of the apology coach per person (own, team or everyone by role)."""
    form = valid(CoachingForm(request.GET))
    days = form.cleaned_data["days"] or 30
    until = timezone.now()
    rows = apology_pass_rate(user=request.user, since=until - timedelta(days=days), until=until)
    names = display_names(row.username for row in rows)
    people = [(names.get(row.username, row.username), row) for row in rows]
    return render(request, "web/insight/coaching.html", {"people": people, "days": days})
