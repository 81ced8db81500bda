"""The detractor loop: a poor survey answer opens a follow-up for the owner's supervisor."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from amends.cases.services.events import case_event_record
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.feedback.access import supervisor_of
from amends.feedback.choices import (
    FeedbackEventKind,
    FollowUpOutcome,
    FollowUpReason,
    FollowUpStatus,
    NotificationKind,
    PromisesKept,
)
from amends.feedback.models import FollowUp, Survey
from amends.feedback.selectors import survey_settings
from amends.policies.business_hours import add_business_time
from amends.policies.selectors import business_calendar_for


def follow_up_reasons(survey: Survey) -> list[str]:
    """CSAT of 2 or less, NPS of 6 or less, or promises not (all) done."""
    reasons = []
    if survey.csat is not None and survey.csat <= 2:
        reasons.append(FollowUpReason.LOW_CSAT.value)
    if survey.nps is not None and survey.nps <= 6:
        reasons.append(FollowUpReason.DETRACTOR.value)
    if survey.promises_kept in (PromisesKept.NO, PromisesKept.PARTLY):
        reasons.append(FollowUpReason.PROMISES.value)
    return reasons


def follow_up_open_if_needed(*, survey: Survey, now: datetime | None = None) -> FollowUp | None:
    reasons = follow_up_reasons(survey)
    if not reasons:
        return None
    now = now or timezone.now()
    case = survey.case
    assignee = supervisor_of(staff=survey.staff, team_id=case.team_id)
    if assignee is None:
        return None  # nobody above the owner: the survey list still shows the answer
    hours = timedelta(hours=survey_settings().follow_up_hours)
    calendar = business_calendar_for(playbook=case.playbook)
    follow_up = FollowUp.objects.create(
        case=case,
        survey=survey,
        assignee=assignee,
        reasons=reasons,
        due_at=add_business_time(calendar=calendar, start=now, delta=hours),
    )
    case_event_record(
        case=case,
        kind=FeedbackEventKind.FOLLOW_UP_OPENED,
        actor=None,
        data={
            "follow_up_id": follow_up.pk,
            "assignee": assignee.username,
            "reasons": reasons,
            "due_at": follow_up.due_at.isoformat(),
        },
    )
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=assignee.pk,
                kind=NotificationKind.FOLLOW_UP,
                message=f"Follow up a disappointed customer on {case.ref}.",
                dedupe_key=f"follow-up:{follow_up.pk}",
                case_id=case.pk,
                url=reverse("web:feedback-follow-ups"),
            )
        ]
    )
    return follow_up


@transaction.atomic
def follow_up_complete(*, follow_up: FollowUp, outcome: str, note: str, actor: User) -> FollowUp:
    """Record what the follow-up achieved (the assignee, or anyone who manages them)."""
    from amends.feedback.access import manages

    follow_up = FollowUp.objects.select_for_update().select_related("assignee").get(pk=follow_up.pk)
    if actor.pk != follow_up.assignee_id and not manages(actor=actor, staff=follow_up.assignee):
        raise PermissionDeniedError("This follow-up is someone else's.")
    if follow_up.status != FollowUpStatus.OPEN:
        raise ApplicationError("This follow-up is already done.", code="follow_up_done", status=409)
    note = note.strip()
    if outcome not in FollowUpOutcome.values:
        raise ApplicationError(
            f"Choose an outcome: {', '.join(FollowUpOutcome.values)}.",
            code="invalid_outcome",
            status=422,
            detail={"outcome": [f"One of {', '.join(FollowUpOutcome.values)}."]},
        )
    if len(note) > 5000 or "\x00" in note:
        raise ApplicationError(
            "The note is too long.", code="invalid_note", status=422, detail={"note": ["Max 5000."]}
        )
    follow_up.status = FollowUpStatus.DONE
    follow_up.outcome = outcome
    follow_up.note = note
    follow_up.done_at = timezone.now()
    follow_up.done_by = actor
    follow_up.save()
    case_event_record(
        case=follow_up.case,
        kind=FeedbackEventKind.FOLLOW_UP_DONE,
        actor=actor,
        data={"follow_up_id": follow_up.pk, "outcome": outcome, "note": note[:500]},
    )
    return follow_up
