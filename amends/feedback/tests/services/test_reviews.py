from __future__ import annotations

import pytest

from amends.commitments.models import Notification
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.feedback.choices import ReviewOutcome, ReviewStatus
from amends.feedback.models import StaffReview
from amends.feedback.selectors import staff_record, staff_review_list
from amends.feedback.services.reviews import (
    staff_review_account,
    staff_review_decide,
    staff_review_open,
)
from amends.feedback.tests.factories import Org, resolved_case

pytestmark = pytest.mark.django_db


def _open(org: Org) -> StaffReview:
    return staff_review_open(
        case=resolved_case(org), staff=org.agent, complaint="Raised voice.", actor=org.supervisor
    )


def test_staff_review_open_asks_the_staff_member_for_an_account(org: Org) -> None:
    review = _open(org)
    assert review.status == ReviewStatus.AWAITING_ACCOUNT
    assert Notification.objects.filter(recipient=org.agent, kind="staff_review").exists()
    # The case timeline says a review exists, not what the complaint says
    event = review.case.events.get(kind="staff_review_opened")
    assert "Raised voice" not in str(event.data)


@pytest.mark.parametrize("who", ["agent", "colleague", "outsider", "other_supervisor"])
def test_staff_review_open_refused_without_the_right(org: Org, who: str) -> None:
    with pytest.raises(PermissionDeniedError):
        staff_review_open(
            case=resolved_case(org), staff=org.agent, complaint="x", actor=getattr(org, who)
        )
    assert not StaffReview.objects.exists()


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("agent", True),  # the staff member
        ("supervisor", True),  # their team's supervisor
        ("manager", True),
        ("admin", True),
        ("colleague", False),
        ("outsider", False),
        ("other_supervisor", False),
    ],
)
def test_staff_review_visible_only_to_the_person_their_managers_and_admins(
    org: Org, who: str, sees: bool
) -> None:
    review = _open(org)
    visible = list(staff_review_list(user=getattr(org, who)))
    assert (review in visible) is sees


def test_staff_review_decide_needs_the_account_first_and_only_a_manager(org: Org) -> None:
    review = _open(org)
    with pytest.raises(ApplicationError) as err:
        staff_review_decide(review=review, outcome="coaching", note="", actor=org.supervisor)
    assert err.value.code == "account_pending"
    with pytest.raises(PermissionDeniedError):
        staff_review_account(review=review, account="Mine", actor=org.colleague)
    staff_review_account(review=review, account="The customer shouted first.", actor=org.agent)
    with pytest.raises(PermissionDeniedError):
        staff_review_decide(review=review, outcome="coaching", note="", actor=org.agent)
    decided = staff_review_decide(
        review=review, outcome=ReviewOutcome.COACHING, note="Talk it through", actor=org.supervisor
    )
    assert decided.status == ReviewStatus.DECIDED
    assert decided.is_development
    with pytest.raises(ApplicationError):
        staff_review_decide(review=review, outcome="not_upheld", note="", actor=org.manager)


def test_staff_record_counts_coaching_as_development_not_upheld(org: Org) -> None:
    review = _open(org)
    staff_review_account(review=review, account="…", actor=org.agent)
    staff_review_decide(review=review, outcome="coaching", note="", actor=org.supervisor)
    record = staff_record(staff=org.agent)
    assert (record.reviews, record.upheld, record.development) == (1, 0, 1)


def test_staff_review_bad_outcome_is_422_and_nothing_changes(org: Org) -> None:
    review = _open(org)
    staff_review_account(review=review, account="…", actor=org.agent)
    with pytest.raises(ApplicationError) as err:
        staff_review_decide(review=review, outcome="fired", note="", actor=org.supervisor)
    assert err.value.status == 422
    review.refresh_from_db()
    assert review.status == ReviewStatus.UNDER_REVIEW
