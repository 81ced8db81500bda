"""A second pair of eyes: ask a colleague (or anyone in the team) to look before sending."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from amends.cases.choices import MessageDirection
from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.cases.services.events import case_event_record
from amends.cases.services.messages import case_message_add
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.feedback.access import profile_or_none, team_id_of
from amends.feedback.choices import CheckStatus, CheckSubject, FeedbackEventKind, NotificationKind
from amends.feedback.models import SecondLook
from amends.policies.business_hours import add_business_time
from amends.policies.selectors import business_calendar_for

MAX_TEXT = 20_000


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code="invalid_second_look", status=422, detail={field: [message]}
    )


@transaction.atomic
def second_look_request(
    *, case: Case, subject: str, draft: str, actor: User, reviewer: User | None = None
) -> SecondLook:
    if subject not in CheckSubject.values:
        raise _invalid("subject", f"One of {', '.join(CheckSubject.values)}.")
    draft = draft.strip()
    if not draft or len(draft) > MAX_TEXT or "\x00" in draft:
        raise _invalid("draft", f"Between 1 and {MAX_TEXT} characters.")
    if not case_visible_to(user=actor).filter(pk=case.pk).exists():
        raise Case.DoesNotExist
    team_id = team_id_of(actor)
    if reviewer is not None:
        if reviewer.pk == actor.pk:
            raise _invalid("reviewer", "Ask someone else: a second pair of eyes.")
        if profile_or_none(reviewer) is None or not reviewer.is_active:
            raise _invalid("reviewer", "Not a staff member.")
        if not case_visible_to(user=reviewer).filter(pk=case.pk).exists():
            raise _invalid("reviewer", "This colleague cannot see the case.")
        team_id = team_id_of(reviewer)
    elif team_id is None:
        raise _invalid("reviewer", "Name a colleague: you have no team to ask.")
    hours = float(amends_setting("SECOND_LOOK_HOURS", 4))
    calendar = business_calendar_for(playbook=case.playbook)
    look = SecondLook.objects.create(
        case=case,
        requester=actor,
        reviewer=reviewer,
        team_id=team_id,
        subject=subject,
        draft=draft,
        due_at=add_business_time(
            calendar=calendar, start=timezone.now(), delta=timedelta(hours=hours)
        ),
    )
    case_event_record(
        case=case,
        kind=FeedbackEventKind.CHECK_REQUESTED,
        actor=actor,
        data={
            "second_look_id": look.pk,
            "subject": subject,
            "reviewer": reviewer.username if reviewer else "team",
            "due_at": look.due_at.isoformat(),
        },
    )
    if reviewer is not None:
        notifications_create(
            specs=[
                NotificationSpec(
                    recipient_id=reviewer.pk,
                    kind=NotificationKind.CHECK,
                    message=f"{actor.get_full_name() or actor.username} asks you to look at a "
                    f"{CheckSubject(subject).label.lower()} on {case.ref}.",
                    dedupe_key=f"second-look:{look.pk}",
                    case_id=case.pk,
                    url=reverse("web:feedback-second-looks"),
                )
            ]
        )
    return look


def second_look_can_answer(*, look: SecondLook, user: User) -> bool:
    if user.pk == look.requester_id or look.status != CheckStatus.OPEN:
        return False
    if look.reviewer_id is not None:
        return look.reviewer_id == user.pk
    return look.team_id is not None and team_id_of(user) == look.team_id


@transaction.atomic
def second_look_answer(*, look: SecondLook, approve: bool, comment: str, actor: User) -> SecondLook:
    """Approve or comment; the answer goes on the case as an internal note."""
    look = SecondLook.objects.select_for_update().select_related("case").get(pk=look.pk)
    if look.status != CheckStatus.OPEN:
        raise ApplicationError("This request is already answered.", code="answered", status=409)
    if not second_look_can_answer(look=look, user=actor):
        raise PermissionDeniedError("This request was made to someone else.")
    comment = comment.strip()
    if len(comment) > MAX_TEXT or "\x00" in comment:
        raise _invalid("comment", f"At most {MAX_TEXT} characters.")
    if not approve and not comment:
        raise _invalid("comment", "Say what you would change, or approve.")
    now = timezone.now()
    look.status = CheckStatus.APPROVED if approve else CheckStatus.COMMENTED
    look.answer = comment
    look.answered_by = actor
    look.answered_at = now
    look.answer_seconds = max(0, int((now - look.created_at).total_seconds()))
    look.save()
    verdict = "Approved" if approve else "Comments"
    note = f"Second look on the {CheckSubject(look.subject).label.lower()}: {verdict}."
    if comment:
        note += f"\n\n{comment}"
    case_message_add(case=look.case, direction=MessageDirection.INTERNAL, body=note, actor=actor)
    case_event_record(
        case=look.case,
        kind=FeedbackEventKind.CHECK_ANSWERED,
        actor=actor,
        data={"second_look_id": look.pk, "status": look.status},
    )
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=look.requester_id,
                kind=NotificationKind.CHECK,
                message=f"{verdict} on your {CheckSubject(look.subject).label.lower()} "
                f"({look.case.ref}).",
                dedupe_key=f"second-look-answer:{look.pk}",
                case_id=look.case_id,
                url=reverse("web:case-detail", kwargs={"ref": look.case.ref}),
            )
        ]
    )
    return look
