"""Fair review of a complaint about a staff member's conduct.

Only the staff member, the people who manage them (their team's supervisors, managers) and
admins see a review. The staff member gives their own account before anyone decides; an
outcome of coaching is development, never a strike, and no KPI counts it.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from amends.cases.models import Case
from amends.cases.selectors import case_visible_to
from amends.cases.services.events import case_event_record
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.feedback.access import manages, profile_or_none, team_id_of
from amends.feedback.choices import (
    FeedbackEventKind,
    NotificationKind,
    ReviewOutcome,
    ReviewStatus,
)
from amends.feedback.models import StaffReview

MAX_TEXT = 10_000


def _text(name: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > MAX_TEXT or "\x00" in value:
        raise ApplicationError(
            f"The {name.replace('_', ' ')} needs text (up to {MAX_TEXT} characters).",
            code="invalid_review",
            status=422,
            detail={name: [f"Between 1 and {MAX_TEXT} characters."]},
        )
    return value


def _notify(review: StaffReview, recipient_id: int, message: str, key: str) -> None:
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=recipient_id,
                kind=NotificationKind.REVIEW,
                message=message,
                dedupe_key=f"staff-review:{review.pk}:{key}",
                url=reverse("web:feedback-review-detail", kwargs={"review_id": review.pk}),
            )
        ]
    )


@transaction.atomic
def staff_review_open(*, case: Case, staff: User, complaint: str, actor: User) -> StaffReview:
    """A supervisor of the staff member's team, a manager or an admin opens the review."""
    if profile_or_none(staff) is None:
        raise ApplicationError(
            "Reviews are about staff members.",
            code="invalid_review",
            status=422,
            detail={"staff": ["Not a staff member."]},
        )
    if not manages(actor=actor, staff=staff):
        raise PermissionDeniedError(
            "Only the staff member's supervisor, a manager or an admin can open a review."
        )
    if not case_visible_to(user=actor).filter(pk=case.pk).exists():
        raise Case.DoesNotExist
    review = StaffReview.objects.create(
        case=case,
        staff=staff,
        team_id=team_id_of(staff),
        opened_by=actor,
        complaint=_text("complaint", complaint),
    )
    # The timeline says a review exists, not what it says: its content stays private.
    case_event_record(
        case=case, kind=FeedbackEventKind.REVIEW_OPENED, actor=actor, data={"review_id": review.pk}
    )
    _notify(
        review,
        staff.pk,
        f"A review of a complaint on {case.ref} asks for your account.",
        "opened",
    )
    return review


@transaction.atomic
def staff_review_account(*, review: StaffReview, account: str, actor: User) -> StaffReview:
    """The staff member's own account of what happened."""
    review = StaffReview.objects.select_for_update().get(pk=review.pk)
    if actor.pk != review.staff_id:
        raise PermissionDeniedError("Only the staff member gives their account.")
    if review.status == ReviewStatus.DECIDED:
        raise ApplicationError("This review is decided.", code="review_decided", status=409)
    review.staff_account = _text("account", account)
    review.account_at = timezone.now()
    review.status = ReviewStatus.UNDER_REVIEW
    review.save()
    _notify(review, review.opened_by_id, "The staff member gave their account.", "account")
    return review


@transaction.atomic
def staff_review_decide(
    *, review: StaffReview, outcome: str, note: str, actor: User
) -> StaffReview:
    """Decide once the staff member has given their account."""
    review = StaffReview.objects.select_for_update().select_related("staff").get(pk=review.pk)
    if not manages(actor=actor, staff=review.staff):
        raise PermissionDeniedError(
            "Only the staff member's supervisor, a manager or an admin can decide."
        )
    if review.status == ReviewStatus.DECIDED:
        raise ApplicationError("This review is decided.", code="review_decided", status=409)
    if review.status != ReviewStatus.UNDER_REVIEW:
        raise ApplicationError(
            "Wait for the staff member's account before deciding.",
            code="account_pending",
            status=409,
        )
    if outcome not in ReviewOutcome.values:
        raise ApplicationError(
            f"Choose an outcome: {', '.join(ReviewOutcome.values)}.",
            code="invalid_outcome",
            status=422,
            detail={"outcome": [f"One of {', '.join(ReviewOutcome.values)}."]},
        )
    review.outcome = outcome
    review.note = _text("note", note, required=False)
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.status = ReviewStatus.DECIDED
    review.save()
    _notify(
        review,
        review.staff_id,
        f"Your review was decided: {ReviewOutcome(outcome).label}.",
        "decided",
    )
    return review
