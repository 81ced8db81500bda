"""Surveys (customer pages, no login), KPIs, champions, reviews, follow-ups and second looks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from amends.accounts.selectors import staff_list, staff_profile_of, team_list_for_user
from amends.cases.selectors import case_get_for_user
from amends.core.exceptions import ApplicationError
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest
from amends.feedback.access import manages
from amends.feedback.choices import CheckSubject, FollowUpOutcome, PromisesKept, ReviewOutcome
from amends.feedback.selectors import (
    KpiScope,
    champions,
    compliment_list_for_staff,
    follow_up_get_for_user,
    follow_up_queue,
    kpi_approvals,
    kpi_cases,
    kpi_compliments,
    kpi_figures,
    kpi_scope_for,
    kpi_surveys,
    parse_period,
    second_look_asked_by,
    second_look_get_for_user,
    second_look_habits,
    second_look_queue,
    staff_record,
    staff_review_get_for_user,
    staff_review_list,
    survey_list,
    survey_settings,
)
from amends.feedback.services.compliments import compliment_log
from amends.feedback.services.detractors import follow_up_complete
from amends.feedback.services.reviews import (
    staff_review_account,
    staff_review_decide,
    staff_review_open,
)
from amends.feedback.services.second_looks import second_look_answer, second_look_request
from amends.feedback.services.surveys import (
    survey_answer,
    survey_exclude_case,
    survey_get_by_token,
    survey_id_from_token,
    survey_opt_out,
)
from amends.web.decorators import staff_required
from amends.web.forms.common import valid

# ---- the customer's survey page (no account) ------------------------------------------------

SCORES_1_5 = [1, 2, 3, 4, 5]
SCORES_0_10 = list(range(11))


def _survey_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, ApplicationError):
        status, message = exc.status, exc.message
    else:
        status, message = 404, "This survey link is not valid."
    return render(request, "web/feedback/survey_closed.html", {"message": message}, status=status)


def survey_page_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the questions and writes nothing (mail scanners open links); POST answers."""
    try:
        survey = survey_get_by_token(token=token)
    except (ApplicationError, ObjectDoesNotExist) as exc:
        return _survey_error(request, exc)
    config = survey_settings()
    staff_name = ""
    if survey.staff is not None:
        staff_name = survey.staff.first_name or survey.staff.get_full_name() or "our team"
    context: dict[str, Any] = {
        "survey": survey,
        "config": config,
        "token": token,
        "q_compliment": config.q_compliment.replace("{staff}", staff_name or "our team"),
        "scores_1_5": SCORES_1_5,
        "scores_0_10": SCORES_0_10,
        "promises": PromisesKept.choices,
        "scales": [
            ("would_use_again", config.q_would_use_again, "Not at all likely", "Very likely"),
            ("fair_outcome", config.q_fair_outcome, "Not at all", "Completely"),
            ("fair_process", config.q_fair_process, "Not at all", "Completely"),
            ("fair_treatment", config.q_fair_treatment, "Not at all", "Completely"),
        ],
        "values": {},
        "error": None,
    }
    if request.method != "POST":
        return render(request, "web/feedback/survey.html", context)
    data = request.POST
    try:
        survey_answer(
            token=token,
            csat=data.get("csat"),
            nps=data.get("nps"),
            would_use_again=data.get("would_use_again"),
            fair_outcome=data.get("fair_outcome"),
            fair_process=data.get("fair_process"),
            fair_treatment=data.get("fair_treatment"),
            promises_kept=data.get("promises_kept", ""),
            comment=data.get("comment", ""),
            compliment=data.get("compliment", ""),
        )
    except ApplicationError as exc:
        if exc.status != 422:
            return _survey_error(request, exc)
        context.update(error=exc, values=data)
        return render(request, "web/feedback/survey.html", context, status=422)
    except ObjectDoesNotExist as exc:
        return _survey_error(request, exc)
    return render(request, "web/feedback/survey_thanks.html", {"token": token})


@require_POST
def survey_opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    survey_id = survey_id_from_token(token)
    from amends.feedback.models import Survey

    survey = Survey.objects.filter(pk=survey_id).first() if survey_id else None
    if survey is None:
        return _survey_error(request, Survey.DoesNotExist())
    survey_opt_out(customer_id=survey.customer_id)
    return render(request, "web/feedback/survey_opted_out.html")


# ---- KPIs and champions -------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApplicationError(
            f"{name} must be a number.",
            code="invalid_filter",
            status=422,
            detail={name: ["A number."]},
        )
    return int(raw)


def _scope(request: AuthedRequest) -> KpiScope:
    start, end = parse_period(request.GET.get("from"), request.GET.get("to"))
    return kpi_scope_for(
        user=request.user,
        team_id=_int_param(request, "team"),
        person=request.GET.get("person") or None,
        start=start,
        end=end,
    )


def _scope_query(scope: KpiScope) -> str:
    parts = [f"from={scope.start.isoformat()}", f"to={scope.end.isoformat()}"]
    if scope.team is not None:
        parts.append(f"team={scope.team.pk}")
    if scope.person is not None:
        parts.append(f"person={scope.person.username}")
    return "&".join(parts)


def _render_scoped_error(request: AuthedRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": exc.message}, status=exc.status)


@staff_required
def kpi_view(request: AuthedRequest) -> HttpResponse:
    try:
        scope = _scope(request)
    except ApplicationError as exc:
        return _render_scoped_error(request, exc)
    profile = staff_profile_of(user=request.user)
    members = staff_list(team=scope.team) if scope.team is not None else []
    return render(
        request,
        "web/feedback/kpis.html",
        {
            "kpis": kpi_figures(scope=scope),
            "scope": scope,
            "query": _scope_query(scope),
            "habits": second_look_habits(scope=scope) if scope.person is None else None,
            "teams": team_list_for_user(user=request.user),
            "members": members,
            "profile": profile,
        },
    )


DRILLS = {
    "cases": kpi_cases,
    "surveys": kpi_surveys,
    "compliments": kpi_compliments,
    "approvals": kpi_approvals,
}


@staff_required
def kpi_drill_view(request: AuthedRequest, measure: str) -> HttpResponse:
    if measure not in DRILLS:
        return render(request, "web/forbidden.html", {"message": "Unknown figure."}, status=404)
    try:
        scope = _scope(request)
        page = paginate(
            DRILLS[measure](scope=scope), page=_int_param(request, "page") or 1, size=50
        )
    except ApplicationError as exc:
        return _render_scoped_error(request, exc)
    return render(
        request,
        "web/feedback/kpi_drill.html",
        {"scope": scope, "measure": measure, "page": page, "query": _scope_query(scope)},
    )


@staff_required
def champions_view(request: AuthedRequest) -> HttpResponse:
    """Praise is for everyone to see: any staff member may look at any team's champions."""
    try:
        start, end = parse_period(request.GET.get("from"), request.GET.get("to"))
        team_id = _int_param(request, "team")
    except ApplicationError as exc:
        return _render_scoped_error(request, exc)
    from amends.accounts.models import Team

    teams = list(Team.objects.order_by("name"))
    team = next((t for t in teams if t.pk == team_id), None)
    if team is None and team_id is None:
        own = staff_profile_of(user=request.user).team_id
        team = next((t for t in teams if t.pk == own), None)
    scope = KpiScope(start=start, end=end, team=team)
    return render(
        request,
        "web/feedback/champions.html",
        {"champions": champions(scope=scope), "scope": scope, "teams": teams},
    )


# ---- people: profile and compliments -------------------------------------------------------


class ComplimentForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    channel = forms.CharField(required=False, max_length=40)
    case_ref = forms.CharField(required=False, max_length=30, label="Case")


@staff_required
def profile_view(request: AuthedRequest, username: str) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("staff__team"), username=username)
    staff_profile_of(user=person)
    show_record = person.pk == request.user.pk or manages(actor=request.user, staff=person)
    return render(
        request,
        "web/feedback/profile.html",
        {
            "person": person,
            "page": paginate(
                compliment_list_for_staff(staff=person),
                page=_int_param(request, "page") or 1,
                size=20,
            ),
            "record": staff_record(staff=person) if show_record else None,
            "form": ComplimentForm(),
        },
    )


@staff_required
@require_POST
def compliment_log_view(request: AuthedRequest, username: str) -> HttpResponse:
    person = get_object_or_404(User, username=username)
    form = valid(ComplimentForm(request.POST))
    ref = form.cleaned_data["case_ref"].strip()
    case = case_get_for_user(ref=ref, user=request.user) if ref else None
    compliment_log(
        staff=person,
        text=form.cleaned_data["text"],
        channel=form.cleaned_data["channel"],
        case=case,
        actor=request.user,
    )
    return HttpResponseRedirect(reverse("web:feedback-profile", kwargs={"username": username}))


# ---- surveys (staff) -----------------------------------------------------------------------


class ExcludeForm(forms.Form):
    case_ref = forms.CharField(max_length=30, label="Case")
    reason = forms.CharField(max_length=300)


@staff_required
def survey_list_view(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    page = paginate(
        survey_list(user=request.user, status=status), page=_int_param(request, "page") or 1
    )
    return render(
        request,
        "web/feedback/surveys.html",
        {"page": page, "status": status or "", "form": ExcludeForm()},
    )


@staff_required
@require_POST
def survey_exclude_view(request: AuthedRequest) -> HttpResponse:
    form = valid(ExcludeForm(request.POST))
    case = case_get_for_user(ref=form.cleaned_data["case_ref"], user=request.user)
    survey_exclude_case(case=case, reason=form.cleaned_data["reason"], actor=request.user)
    return HttpResponseRedirect(reverse("web:feedback-surveys"))


# ---- detractor follow-ups ------------------------------------------------------------------


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(choices=FollowUpOutcome.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000
    )


@staff_required
def follow_up_list_view(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "web/feedback/follow_ups.html",
        {"items": list(follow_up_queue(user=request.user)[:200]), "form": FollowUpForm()},
    )


@staff_required
@require_POST
def follow_up_complete_view(request: AuthedRequest, follow_up_id: int) -> HttpResponse:
    follow_up = follow_up_get_for_user(follow_up_id=follow_up_id, user=request.user)
    form = valid(FollowUpForm(request.POST))
    follow_up_complete(
        follow_up=follow_up,
        outcome=form.cleaned_data["outcome"],
        note=form.cleaned_data["note"],
        actor=request.user,
    )
    return HttpResponseRedirect(reverse("web:feedback-follow-ups"))


# ---- second pair of eyes -------------------------------------------------------------------


class SecondLookForm(forms.Form):
    case_ref = forms.CharField(max_length=30, label="Case")
    subject = forms.ChoiceField(choices=CheckSubject.choices)
    draft = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    reviewer = forms.ModelChoiceField(
        queryset=staff_list(), required=False, empty_label="Anyone in my team"
    )


class SecondLookAnswerForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("comment", "Comment")])
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=20_000
    )


@staff_required
def second_look_list_view(request: AuthedRequest) -> HttpResponse:
    initial = {"case_ref": request.GET.get("case", "")[:30]}
    return render(
        request,
        "web/feedback/second_looks.html",
        {
            "queue": list(second_look_queue(user=request.user)[:200]),
            "asked": list(second_look_asked_by(user=request.user)[:50]),
            "form": SecondLookForm(initial=initial),
            "answer_form": SecondLookAnswerForm(),
        },
    )


@staff_required
@require_POST
def second_look_request_view(request: AuthedRequest) -> HttpResponse:
    form = valid(SecondLookForm(request.POST))
    case = case_get_for_user(ref=form.cleaned_data["case_ref"], user=request.user)
    second_look_request(
        case=case,
        subject=form.cleaned_data["subject"],
        draft=form.cleaned_data["draft"],
        reviewer=form.cleaned_data["reviewer"],
        actor=request.user,
    )
    return HttpResponseRedirect(reverse("web:feedback-second-looks"))


@staff_required
@require_POST
def second_look_answer_view(request: AuthedRequest, look_id: int) -> HttpResponse:
    look = second_look_get_for_user(look_id=look_id, user=request.user)
    form = valid(SecondLookAnswerForm(request.POST))
    second_look_answer(
        look=look,
        approve=form.cleaned_data["decision"] == "approve",
        comment=form.cleaned_data["comment"],
        actor=request.user,
    )
    return HttpResponseRedirect(reverse("web:feedback-second-looks"))


# ---- staff reviews -------------------------------------------------------------------------


class ReviewOpenForm(forms.Form):
    case_ref = forms.CharField(max_length=30, label="Case")
    staff = forms.ModelChoiceField(queryset=staff_list())
    complaint = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10_000)


class ReviewAccountForm(forms.Form):
    account = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=10_000)


class ReviewDecideForm(forms.Form):
    outcome = forms.ChoiceField(choices=ReviewOutcome.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=10_000
    )


@staff_required
def review_list_view(request: AuthedRequest) -> HttpResponse:
    page = paginate(staff_review_list(user=request.user), page=_int_param(request, "page") or 1)
    return render(request, "web/feedback/reviews.html", {"page": page, "form": ReviewOpenForm()})


@staff_required
@require_POST
def review_open_view(request: AuthedRequest) -> HttpResponse:
    form = valid(ReviewOpenForm(request.POST))
    case = case_get_for_user(ref=form.cleaned_data["case_ref"], user=request.user)
    review = staff_review_open(
        case=case,
        staff=form.cleaned_data["staff"],
        complaint=form.cleaned_data["complaint"],
        actor=request.user,
    )
    return HttpResponseRedirect(
        reverse("web:feedback-review-detail", kwargs={"review_id": review.pk})
    )


@staff_required
def review_detail_view(request: AuthedRequest, review_id: int) -> HttpResponse:
    review = staff_review_get_for_user(review_id=review_id, user=request.user)
    from amends.cases.selectors import case_message_list

    return render(
        request,
        "web/feedback/review_detail.html",
        {
            "review": review,
            "record": staff_record(staff=review.staff),
            "messages_on_case": case_message_list(case=review.case, limit=20),
            "is_staff_member": review.staff_id == request.user.pk,
            "can_decide": manages(actor=request.user, staff=review.staff),
            "account_form": ReviewAccountForm(),
            "decide_form": ReviewDecideForm(),
        },
    )


@staff_required
@require_POST
def review_account_view(request: AuthedRequest, review_id: int) -> HttpResponse:
    review = staff_review_get_for_user(review_id=review_id, user=request.user)
    form = valid(ReviewAccountForm(request.POST))
    staff_review_account(review=review, account=form.cleaned_data["account"], actor=request.user)
    return HttpResponseRedirect(
        reverse("web:feedback-review-detail", kwargs={"review_id": review_id})
    )


@staff_required
@require_POST
def review_decide_view(request: AuthedRequest, review_id: int) -> HttpResponse:
    review = staff_review_get_for_user(review_id=review_id, user=request.user)
    form = valid(ReviewDecideForm(request.POST))
    staff_review_decide(
        review=review,
        outcome=form.cleaned_data["outcome"],
        note=form.cleaned_data["note"],
        actor=request.user,
    )
    return HttpResponseRedirect(
        reverse("web:feedback-review-detail", kwargs={"review_id": review_id})
    )
