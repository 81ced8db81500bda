from __future__ import annotations

from datetime import date

import pytest

from amends.cases.choices import MessageDirection
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.feedback.choices import CheckStatus
from amends.feedback.selectors import KpiScope, second_look_habits, second_look_queue
from amends.feedback.services.second_looks import second_look_answer, second_look_request
from amends.feedback.tests.factories import Org, resolved_case

pytestmark = pytest.mark.django_db


def test_second_look_named_colleague_sees_it_in_their_queue_with_a_due_time(org: Org) -> None:
    case = resolved_case(org)
    look = second_look_request(
        case=case, subject="draft_reply", draft="Dear…", reviewer=org.colleague, actor=org.agent
    )
    assert look.due_at > look.created_at
    assert list(second_look_queue(user=org.colleague)) == [look]
    assert list(second_look_queue(user=org.supervisor)) == []
    assert list(second_look_queue(user=org.agent)) == []


def test_second_look_for_the_team_reaches_every_member_but_the_asker(org: Org) -> None:
    look = second_look_request(
        case=resolved_case(org), subject="proposed_outcome", draft="Refund", actor=org.agent
    )
    assert look in second_look_queue(user=org.colleague)
    assert look in second_look_queue(user=org.supervisor)
    assert look not in second_look_queue(user=org.outsider)
    with pytest.raises(PermissionDeniedError):
        second_look_answer(look=look, approve=True, comment="", actor=org.agent)
    with pytest.raises(PermissionDeniedError):
        second_look_answer(look=look, approve=True, comment="", actor=org.outsider)


def test_second_look_answer_goes_on_the_case_as_an_internal_note(org: Org) -> None:
    case = resolved_case(org)
    look = second_look_request(case=case, subject="draft_reply", draft="Dear…", actor=org.agent)
    answered = second_look_answer(
        look=look, approve=False, comment="Apologise first.", actor=org.colleague
    )
    assert answered.status == CheckStatus.COMMENTED
    note = case.messages.get(direction=MessageDirection.INTERNAL)
    assert "Apologise first." in note.body
    with pytest.raises(ApplicationError) as err:
        second_look_answer(look=look, approve=True, comment="", actor=org.supervisor)
    assert err.value.status == 409


def test_second_look_refuses_asking_yourself_and_empty_drafts(org: Org) -> None:
    case = resolved_case(org)
    with pytest.raises(ApplicationError):
        second_look_request(
            case=case, subject="draft_reply", draft="x", reviewer=org.agent, actor=org.agent
        )
    with pytest.raises(ApplicationError):
        second_look_request(case=case, subject="draft_reply", draft="  ", actor=org.agent)
    with pytest.raises(ApplicationError):
        second_look_request(case=case, subject="poem", draft="x", actor=org.agent)


def test_second_look_habits_are_team_figures(org: Org) -> None:
    case = resolved_case(org)
    first = second_look_request(case=case, subject="draft_reply", draft="a", actor=org.agent)
    second_look_request(case=case, subject="draft_reply", draft="b", actor=org.agent)
    second_look_answer(look=first, approve=True, comment="", actor=org.colleague)
    habits = second_look_habits(
        scope=KpiScope(start=date(2000, 1, 1), end=date(2199, 1, 1), team=org.team)
    )
    assert (habits.asked, habits.answered, habits.answered_in_time) == (2, 1, 1)
