"""Compliments: from a survey or logged by staff; each reaches the person it praises."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.services.events import case_event_record
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core.exceptions import ApplicationError
from amends.feedback.access import profile_or_none, team_id_of
from amends.feedback.choices import ComplimentSource, FeedbackEventKind, NotificationKind
from amends.feedback.models import Compliment, Survey
from amends.feedback.services.kpis import kpi_bucket_refresh, kpi_day

MAX_TEXT = 5000


def _notify(compliment: Compliment) -> None:
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=compliment.staff_id,
                kind=NotificationKind.COMPLIMENT,
                message=f"You received a compliment: “{compliment.text[:200]}”",
                dedupe_key=f"compliment:{compliment.pk}",
                case_id=compliment.case_id,
                url=reverse("web:feedback-profile", kwargs={"username": compliment.staff.username}),
            )
        ]
    )


def _after(compliment: Compliment, actor: User | None) -> None:
    if compliment.case is not None:
        case_event_record(
            case=compliment.case,
            kind=FeedbackEventKind.COMPLIMENT,
            actor=actor,
            data={"compliment_id": compliment.pk, "staff": compliment.staff.username},
        )
    kpi_bucket_refresh(
        day=kpi_day(compliment.created_at),
        team_id=compliment.team_id,
        person_id=compliment.staff_id,
    )
    _notify(compliment)


@transaction.atomic
def compliment_from_survey(*, survey: Survey, text: str) -> Compliment:
    assert survey.staff is not None  # noqa: S101  # the caller checks staff_id
    compliment = Compliment.objects.create(
        staff=survey.staff,
        team_id=team_id_of(survey.staff),
        case_id=survey.case_id,
        survey=survey,
        source=ComplimentSource.SURVEY,
        channel="survey",
        text=text[:MAX_TEXT],
    )
    _after(compliment, None)
    return compliment


@transaction.atomic
def compliment_log(
    *, staff: User, text: str, actor: User, case: Case | None = None, channel: str = ""
) -> Compliment:
    """A colleague records praise that arrived another way (a call, a letter, social media)."""
    staff_profile_of(user=actor)
    text = text.strip()
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        raise ApplicationError(
            "A compliment needs some text (up to 5000 characters).",
            code="invalid_compliment",
            status=422,
            detail={"text": ["Between 1 and 5000 characters."]},
        )
    if profile_or_none(staff) is None or not staff.is_active:
        raise ApplicationError(
            "Compliments go to a staff member.",
            code="invalid_compliment",
            status=422,
            detail={"staff": ["Not a staff member."]},
        )
    compliment = Compliment.objects.create(
        staff=staff,
        team_id=team_id_of(staff),
        case=case,
        source=ComplimentSource.LOGGED,
        channel=channel.strip()[:40],
        text=text,
        logged_by=actor,
    )
    _after(compliment, actor)
    return compliment
