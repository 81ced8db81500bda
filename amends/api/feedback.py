"""Surveys, staff reviews, KPIs, compliments, follow-ups and second looks (issue 19)."""

from __future__ import annotations

from datetime import date, datetime

from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from amends.accounts.selectors import staff_get_by_username
from amends.api.schemas import ERRORS, Id, InSchema, PageOut, page_out, username_of
from amends.cases.selectors import case_get_for_user
from amends.core.types import AuthedRequest
from amends.feedback.models import Compliment, FollowUp, SecondLook, StaffReview, Survey
from amends.feedback.selectors import (
    follow_up_get_for_user,
    follow_up_queue,
    kpi_figures,
    kpi_scope_for,
    parse_period,
    second_look_get_for_user,
    staff_record,
    staff_review_get_for_user,
    staff_review_list,
    survey_get_for_user,
    survey_list,
)
from amends.feedback.services.compliments import compliment_log
from amends.feedback.services.detractors import follow_up_complete
from amends.feedback.services.reviews import (
    staff_review_account,
    staff_review_decide,
    staff_review_open,
)
from amends.feedback.services.second_looks import second_look_answer, second_look_request
from amends.feedback.services.surveys import survey_exclude_case

router = Router(tags=["feedback"])


# ---- surveys -------------------------------------------------------------------------------


class SurveyOut(Schema):
    id: int
    case: str
    customer_id: int
    staff: str | None
    team_id: int | None
    category_id: int | None
    service_id: int | None
    incident_id: int | None
    status: str
    send_after: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None
    csat: int | None
    nps: int | None
    would_use_again: int | None
    fair_outcome: int | None
    fair_process: int | None
    fair_treatment: int | None
    promises_kept: str
    comment: str

    @staticmethod
    def resolve_case(obj: Survey) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_staff(obj: Survey) -> str | None:
        return username_of(obj.staff)


@router.get("/surveys", response={200: PageOut[SurveyOut], **ERRORS}, summary="List surveys")
def survey_list_endpoint(
    request: AuthedRequest,
    status: str | None = None,
    answered: bool | None = None,
    page: int = 1,
    size: int | None = None,
) -> dict[str, object]:
    """Surveys you may see (yours; your team's as a supervisor; all as a manager)."""
    qs = survey_list(user=request.user, status=status, answered=answered)
    return page_out(qs, page=page, size=size)


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS})
def survey_get_endpoint(request: AuthedRequest, survey_id: Id) -> Survey:
    return survey_get_for_user(survey_id=survey_id, user=request.user)


class SurveyExclusionIn(InSchema):
    reason: str = Field(min_length=1, max_length=300)


class SurveyExclusionOut(Schema):
    case: str
    reason: str
    created_at: datetime


@router.post(
    "/cases/{ref}/survey-exclusion",
    response={201: SurveyExclusionOut, **ERRORS},
    summary="Mark a case as internal: no survey",
)
def survey_exclude_endpoint(
    request: AuthedRequest, ref: str, payload: SurveyExclusionIn
) -> Status[dict[str, object]]:
    case = case_get_for_user(ref=ref, user=request.user)
    exclusion = survey_exclude_case(case=case, reason=payload.reason, actor=request.user)
    return Status(
        201, {"case": case.ref, "reason": exclusion.reason, "created_at": exclusion.created_at}
    )


# ---- staff reviews -------------------------------------------------------------------------


class StaffReviewOpenIn(InSchema):
    case: str = Field(min_length=1, max_length=30, description="Case reference, e.g. AM-000123")
    staff: str = Field(min_length=1, max_length=150, description="Username of the staff member")
    complaint: str = Field(min_length=1, max_length=10_000)


class StaffReviewAccountIn(InSchema):
    account: str = Field(min_length=1, max_length=10_000)


class StaffReviewDecideIn(InSchema):
    outcome: str = Field(description="not_upheld, coaching or process_change")
    note: str = Field(default="", max_length=10_000)


class StaffRecordOut(Schema):
    compliments: int
    csat_average: float | None
    csat_count: int
    reviews: int
    upheld: int
    development: int = Field(description="Coaching outcomes: development, not strikes.")


class StaffReviewOut(Schema):
    id: int
    case: str
    staff: str
    opened_by: str
    complaint: str
    status: str
    staff_account: str
    account_at: datetime | None
    outcome: str
    is_development: bool
    note: str
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_case(obj: StaffReview) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_staff(obj: StaffReview) -> str:
        return obj.staff.username

    @staticmethod
    def resolve_opened_by(obj: StaffReview) -> str:
        return obj.opened_by.username

    @staticmethod
    def resolve_decided_by(obj: StaffReview) -> str | None:
        return username_of(obj.decided_by)


class StaffReviewDetailOut(StaffReviewOut):
    record: StaffRecordOut = Field(description="The staff member's past year, beside the review.")

    @staticmethod
    def resolve_record(obj: StaffReview) -> dict[str, object]:
        return staff_record(staff=obj.staff).__dict__


@router.get("/staff-reviews", response={200: PageOut[StaffReviewOut], **ERRORS})
def staff_review_list_endpoint(
    request: AuthedRequest, staff: str | None = None, page: int = 1, size: int | None = None
) -> dict[str, object]:
    """Reviews you may see: about you, or about people you manage (admins: all)."""
    staff_user = staff_get_by_username(username=staff, field="staff") if staff else None
    return page_out(staff_review_list(user=request.user, staff=staff_user), page=page, size=size)


@router.post(
    "/staff-reviews", response={201: StaffReviewDetailOut, **ERRORS}, summary="Open a review"
)
def staff_review_open_endpoint(
    request: AuthedRequest, payload: StaffReviewOpenIn
) -> Status[StaffReview]:
    case = case_get_for_user(ref=payload.case, user=request.user)
    review = staff_review_open(
        case=case,
        staff=staff_get_by_username(username=payload.staff, field="staff"),
        complaint=payload.complaint,
        actor=request.user,
    )
    return Status(201, review)


@router.get("/staff-reviews/{review_id}", response={200: StaffReviewDetailOut, **ERRORS})
def staff_review_get_endpoint(request: AuthedRequest, review_id: Id) -> StaffReview:
    return staff_review_get_for_user(review_id=review_id, user=request.user)


@router.post("/staff-reviews/{review_id}/account", response={200: StaffReviewDetailOut, **ERRORS})
def staff_review_account_endpoint(
    request: AuthedRequest, review_id: Id, payload: StaffReviewAccountIn
) -> StaffReview:
    """The staff member gives their own account."""
    review = staff_review_get_for_user(review_id=review_id, user=request.user)
    return staff_review_account(review=review, account=payload.account, actor=request.user)


@router.post("/staff-reviews/{review_id}/decide", response={200: StaffReviewDetailOut, **ERRORS})
def staff_review_decide_endpoint(
    request: AuthedRequest, review_id: Id, payload: StaffReviewDecideIn
) -> StaffReview:
    review = staff_review_get_for_user(review_id=review_id, user=request.user)
    return staff_review_decide(
        review=review, outcome=payload.outcome, note=payload.note, actor=request.user
    )


# ---- KPIs ----------------------------------------------------------------------------------


class FigureOut(Schema):
    key: str
    label: str
    value: float | None
    unit: str
    count: int = Field(description="How many cases, answers or decisions the figure rests on.")
    count_label: str
    drill_down: str = Field(description="The page listing what is behind the figure.")


class KpiOut(Schema):
    scope: str
    team_id: int | None
    person: str | None
    start: date
    end: date
    figures: list[FigureOut]
    note: str


class KpiQuery(InSchema):
    team: Id | None = None
    person: str | None = Field(default=None, max_length=150)
    from_: str | None = Field(default=None, alias="from", max_length=32)
    to: str | None = Field(default=None, max_length=32)


@router.get("/kpis", response={200: KpiOut, **ERRORS}, summary="KPIs for a person or team")
def kpi_endpoint(request: AuthedRequest, query: Query[KpiQuery]) -> dict[str, object]:
    """Yours by default; a supervisor may ask for their team and its members, a manager for
    anyone. Dates are the organisation's days (its time zone's midnight to midnight),
    inclusive (`from=2026-01-01&to=2026-01-31`); by default the last 30 ending today."""
    start, end = parse_period(query.from_, query.to)
    scope = kpi_scope_for(
        user=request.user, team_id=query.team, person=query.person, start=start, end=end
    )
    params = f"from={start.isoformat()}&to={end.isoformat()}"
    if scope.team is not None:
        params += f"&team={scope.team.pk}"
    if scope.person is not None:
        params += f"&person={scope.person.username}"
    result = kpi_figures(scope=scope)
    return {
        "scope": scope.label,
        "team_id": scope.team.pk if scope.team else None,
        "person": username_of(scope.person),
        "start": start,
        "end": end,
        "figures": [
            {
                **figure.__dict__,
                "drill_down": reverse("web:feedback-kpi-drill", args=[figure.drill]) + "?" + params,
            }
            for figure in result.figures
        ],
        "note": "Coaching outcomes of staff reviews are development, not strikes; "
        "no figure counts them.",
    }


# ---- compliments, follow-ups, second looks -------------------------------------------------


class ComplimentIn(InSchema):
    staff: str = Field(min_length=1, max_length=150)
    text: str = Field(min_length=1, max_length=5000)
    channel: str = Field(default="", max_length=40)
    case: str | None = Field(default=None, max_length=30)


class ComplimentOut(Schema):
    id: int
    staff: str
    source: str
    channel: str
    text: str
    case: str | None
    created_at: datetime

    @staticmethod
    def resolve_staff(obj: Compliment) -> str:
        return obj.staff.username

    @staticmethod
    def resolve_case(obj: Compliment) -> str | None:
        return obj.case.ref if obj.case else None


@router.post("/compliments", response={201: ComplimentOut, **ERRORS}, summary="Log a compliment")
def compliment_log_endpoint(request: AuthedRequest, payload: ComplimentIn) -> Status[Compliment]:
    case = case_get_for_user(ref=payload.case, user=request.user) if payload.case else None
    compliment = compliment_log(
        staff=staff_get_by_username(username=payload.staff, field="staff"),
        text=payload.text,
        channel=payload.channel,
        case=case,
        actor=request.user,
    )
    return Status(201, compliment)


class FollowUpOut(Schema):
    id: int
    case: str
    survey_id: int
    assignee: str
    reasons: list[str]
    due_at: datetime
    status: str
    outcome: str
    note: str
    done_at: datetime | None

    @staticmethod
    def resolve_case(obj: FollowUp) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_assignee(obj: FollowUp) -> str:
        return obj.assignee.username


class FollowUpCompleteIn(InSchema):
    outcome: str = Field(description="put_right, further_action, no_reply or no_action")
    note: str = Field(default="", max_length=5000)


@router.get("/follow-ups", response={200: PageOut[FollowUpOut], **ERRORS})
def follow_up_list_endpoint(
    request: AuthedRequest, page: int = 1, size: int | None = None
) -> dict[str, object]:
    """My open detractor follow-ups, soonest due first."""
    qs = follow_up_queue(user=request.user).select_related("assignee")
    return page_out(qs, page=page, size=size)


@router.post("/follow-ups/{follow_up_id}/complete", response={200: FollowUpOut, **ERRORS})
def follow_up_complete_endpoint(
    request: AuthedRequest, follow_up_id: Id, payload: FollowUpCompleteIn
) -> FollowUp:
    follow_up = follow_up_get_for_user(follow_up_id=follow_up_id, user=request.user)
    return follow_up_complete(
        follow_up=follow_up, outcome=payload.outcome, note=payload.note, actor=request.user
    )


class SecondLookIn(InSchema):
    subject: str = Field(description="draft_reply or proposed_outcome")
    draft: str = Field(min_length=1, max_length=20_000)
    reviewer: str | None = Field(default=None, max_length=150, description="Empty: the team")


class SecondLookAnswerIn(InSchema):
    approve: bool
    comment: str = Field(default="", max_length=20_000)


class SecondLookOut(Schema):
    id: int
    case: str
    requester: str
    reviewer: str | None
    subject: str
    draft: str
    due_at: datetime
    status: str
    answer: str
    answered_at: datetime | None

    @staticmethod
    def resolve_case(obj: SecondLook) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_requester(obj: SecondLook) -> str:
        return obj.requester.username

    @staticmethod
    def resolve_reviewer(obj: SecondLook) -> str | None:
        return username_of(obj.reviewer)


@router.post("/cases/{ref}/second-looks", response={201: SecondLookOut, **ERRORS})
def second_look_request_endpoint(
    request: AuthedRequest, ref: str, payload: SecondLookIn
) -> Status[SecondLook]:
    case = case_get_for_user(ref=ref, user=request.user)
    reviewer = (
        staff_get_by_username(username=payload.reviewer, field="reviewer")
        if payload.reviewer
        else None
    )
    look = second_look_request(
        case=case,
        subject=payload.subject,
        draft=payload.draft,
        reviewer=reviewer,
        actor=request.user,
    )
    return Status(201, look)


@router.post("/second-looks/{look_id}/answer", response={200: SecondLookOut, **ERRORS})
def second_look_answer_endpoint(
    request: AuthedRequest, look_id: Id, payload: SecondLookAnswerIn
) -> SecondLook:
    look = second_look_get_for_user(look_id=look_id, user=request.user)
    return second_look_answer(
        look=look, approve=payload.approve, comment=payload.comment, actor=request.user
    )
