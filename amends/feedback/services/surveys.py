"""Recovery surveys: scheduled after a resolve, sent and reminded by the sweep, answered once.

Hygiene rules: one survey per case ever (a reopened and re-resolved case is not asked again),
none for a customer who opted out, none for a case marked as opened for an internal reason,
none for a customer without an email address. Answers are recorded only by `survey_answer`
(a POST); opening the link changes nothing, because mail scanners open links.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from amends.cases.models import Case
from amends.cases.services.events import case_event_record
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.customers.models import Customer
from amends.feedback.choices import FeedbackEventKind, PromisesKept, SurveyStatus
from amends.feedback.models import Survey, SurveyExclusion, SurveyOptOut
from amends.feedback.selectors import survey_settings
from amends.feedback.services.compliments import compliment_from_survey
from amends.feedback.services.detractors import follow_up_open_if_needed
from amends.feedback.services.kpis import kpi_bucket_refresh, kpi_day

SALT = "amends.feedback.survey"
MAX_TOKEN = 200
MAX_COMMENT = 5000


def survey_token(survey: Survey) -> str:
    """The link's token: the survey id signed with SECRET_KEY (a forged one fails unread)."""
    return signing.Signer(salt=SALT).sign(str(survey.pk))


def survey_id_from_token(token: str) -> int | None:
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        return None
    try:
        value = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if value.isdigit() and len(value) < 19 else None


def survey_skip_reason(*, case: Case) -> str | None:
    """Why this case gets no survey, or None when it may have one."""
    if Survey.objects.filter(case_id=case.pk).exists():
        return "already_surveyed"
    if SurveyExclusion.objects.filter(case_id=case.pk).exists():
        return "internal_case"
    if SurveyOptOut.objects.filter(customer_id=case.customer_id).exists():
        return "opted_out"
    if not Customer.objects.filter(pk=case.customer_id).exclude(email="").exists():
        return "no_email"
    return None


@transaction.atomic
def survey_schedule_for_case(
    *,
    case_id: int,
    actor: User | None = None,
    reason: str = "resolved",
    incident_id: int | None = None,
    now: datetime | None = None,
) -> Survey | None:
    """Schedule the case's survey `delay_hours` from now, unless a hygiene rule says no."""
    case = Case.objects.select_related("customer").filter(pk=case_id).first()
    if case is None or survey_skip_reason(case=case) is not None:
        return None
    now = now or timezone.now()
    config = survey_settings()
    survey = Survey(
        case=case,
        customer_id=case.customer_id,
        staff_id=case.assignee_id,
        team_id=case.team_id,
        category_id=case.category_id,
        service_id=case.service_id,
        incident_id=incident_id or getattr(case, "incident_id", None),
        send_after=now + timedelta(hours=config.delay_hours),
    )
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:  # a concurrent resolve scheduled it first
        return None
    case_event_record(
        case=case,
        kind=FeedbackEventKind.SURVEY_SCHEDULED,
        actor=actor,
        data={"survey_id": survey.pk, "send_after": survey.send_after.isoformat(), "why": reason},
    )
    return survey


@transaction.atomic
def survey_exclude_case(*, case: Case, reason: str, actor: User) -> SurveyExclusion:
    """Mark a case as opened by staff for an internal reason: it never gets a survey, and a
    survey already scheduled (not sent) is cancelled."""
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise ApplicationError(
            "Say in up to 300 characters why the case is internal.",
            code="invalid_exclusion",
            status=422,
            detail={"reason": ["Between 1 and 300 characters."]},
        )
    exclusion, _ = SurveyExclusion.objects.get_or_create(
        case=case, defaults={"reason": reason, "actor": actor}
    )
    Survey.objects.filter(case=case, status=SurveyStatus.SCHEDULED).update(
        status=SurveyStatus.CANCELLED, updated_at=timezone.now()
    )
    case_event_record(
        case=case, kind=FeedbackEventKind.SURVEY_EXCLUDED, actor=actor, data={"reason": reason}
    )
    return exclusion


@transaction.atomic
def survey_opt_out(*, customer_id: int, source: str = "customer") -> SurveyOptOut:
    """The customer asked for no more surveys: record it and cancel any not yet sent."""
    opt_out, _ = SurveyOptOut.objects.get_or_create(
        customer_id=customer_id, defaults={"source": source[:20]}
    )
    Survey.objects.filter(customer_id=customer_id, status=SurveyStatus.SCHEDULED).update(
        status=SurveyStatus.CANCELLED, updated_at=timezone.now()
    )
    return opt_out


def survey_get_by_token(*, token: str, now: datetime | None = None) -> Survey:
    """The survey behind a link, for the customer's page. A forged token is not found (404);
    one that is answered, expired or not yet sent is refused (409/410) with nothing written."""
    survey_id = survey_id_from_token(token)
    if survey_id is None:
        raise Survey.DoesNotExist
    survey = Survey.objects.select_related("case", "customer", "staff").get(pk=survey_id)
    _check_open(survey, now or timezone.now())
    return survey


def _check_open(survey: Survey, now: datetime) -> None:
    if survey.status == SurveyStatus.ANSWERED:
        raise ApplicationError(
            "This survey has already been answered. Thank you!", code="already_answered", status=409
        )
    expired = survey.expires_at is not None and survey.expires_at <= now
    if survey.status in (SurveyStatus.EXPIRED, SurveyStatus.CANCELLED) or expired:
        raise ApplicationError("This survey link has expired.", code="survey_expired", status=410)
    if survey.status != SurveyStatus.SENT:
        raise Survey.DoesNotExist


def _score(name: str, value: object, low: int, high: int, *, required: bool) -> int | None:
    if value is None or value == "":
        if required:
            raise ApplicationError(
                "Please answer the first question.",
                code="invalid_answer",
                status=422,
                detail={name: ["Required."]},
            )
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _out_of_range(name, low, high)
    text = str(value).strip()
    if not text.isdigit() or len(text) > 3 or not low <= int(text) <= high:
        raise _out_of_range(name, low, high)
    return int(text)


def _out_of_range(name: str, low: int, high: int) -> ApplicationError:
    return ApplicationError(
        f"{name} must be a whole number from {low} to {high}.",
        code="invalid_answer",
        status=422,
        detail={name: [f"From {low} to {high}."]},
    )


@transaction.atomic
def survey_answer(
    *,
    token: str,
    csat: object,
    nps: object = None,
    would_use_again: object = None,
    fair_outcome: object = None,
    fair_process: object = None,
    fair_treatment: object = None,
    promises_kept: str = "",
    comment: str = "",
    compliment: str = "",
    now: datetime | None = None,
) -> Survey:
    """Record the customer's one answer. Satisfaction is required, the rest optional; a poor
    answer opens a follow-up for the owner's supervisor, a compliment reaches the staff."""
    now = now or timezone.now()
    scores = {
        "csat": _score("csat", csat, 1, 5, required=True),
        "nps": _score("nps", nps, 0, 10, required=False),
        "would_use_again": _score("would_use_again", would_use_again, 1, 5, required=False),
        "fair_outcome": _score("fair_outcome", fair_outcome, 1, 5, required=False),
        "fair_process": _score("fair_process", fair_process, 1, 5, required=False),
        "fair_treatment": _score("fair_treatment", fair_treatment, 1, 5, required=False),
    }
    promises_kept = (promises_kept or "").strip()
    if promises_kept and promises_kept not in PromisesKept.values:
        raise ApplicationError(
            "Answer yes, partly or no.",
            code="invalid_answer",
            status=422,
            detail={"promises_kept": ["yes, partly or no."]},
        )
    comment = (comment or "").strip()
    compliment = (compliment or "").strip()
    for name, text in (("comment", comment), ("compliment", compliment)):
        if len(text) > MAX_COMMENT or "\x00" in text:
            raise ApplicationError(
                f"The {name} is too long or not valid text.",
                code="invalid_answer",
                status=422,
                detail={name: [f"At most {MAX_COMMENT} characters."]},
            )
    survey_id = survey_id_from_token(token)
    if survey_id is None:
        raise Survey.DoesNotExist
    # Lock the row: two submits racing record one answer, the other gets 409.
    survey = Survey.objects.select_for_update().get(pk=survey_id)
    _check_open(survey, now)
    for field, value in scores.items():
        setattr(survey, field, value)
    survey.promises_kept = promises_kept
    survey.comment = comment
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    survey.save()
    case_event_record(
        case=survey.case,
        kind=FeedbackEventKind.SURVEY_ANSWERED,
        actor=None,
        data={"survey_id": survey.pk, **scores, "promises_kept": promises_kept},
    )
    if compliment and survey.staff_id is not None:
        compliment_from_survey(survey=survey, text=compliment)
    follow_up_open_if_needed(survey=survey, now=now)
    kpi_bucket_refresh(day=kpi_day(now), team_id=survey.team_id, person_id=survey.staff_id)
    hooks.survey_answered.emit(
        hooks.SurveyAnswered(
            survey_id=survey.pk,
            case_id=survey.case_id,
            customer_id=survey.customer_id,
            csat=survey.csat,
            nps=survey.nps,
            would_use_again=survey.would_use_again,
            promises_kept=promises_kept or None,
            fair_outcome=survey.fair_outcome,
            fair_process=survey.fair_process,
            fair_treatment=survey.fair_treatment,
        )
    )
    return survey
