from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from amends.cases.choices import CaseStatus, Outcome
from amends.cases.services.workflow import case_reopen, case_resolve
from amends.channels.models import OutboundEmail
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.testing import hook_recorded
from amends.feedback.choices import FollowUpReason, SurveyStatus
from amends.feedback.models import Compliment, FollowUp, Survey, SurveySettings
from amends.feedback.services.dispatch import survey_sweep
from amends.feedback.services.surveys import (
    survey_answer,
    survey_exclude_case,
    survey_get_by_token,
    survey_opt_out,
)
from amends.feedback.tests.factories import Org, resolved_case, sent_survey

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_survey_schedule_waits_the_configured_delay_then_the_sweep_sends_it_once(org: Org) -> None:
    # Given the admin set surveys to go out 6 hours after the resolve
    SurveySettings.objects.create(delay_hours=6, expiry_days=10, reminder_after_hours=48)
    with time_machine.travel(MONDAY, tick=False):
        case = resolved_case(org)
    survey = Survey.objects.get(case=case)
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.send_after == MONDAY + timedelta(hours=6)
    assert survey.staff == org.agent
    assert survey.team == org.team
    # When the sweep runs a minute too early, nothing goes out
    assert survey_sweep(now=MONDAY + timedelta(hours=5, minutes=59)) == 0
    assert not OutboundEmail.objects.filter(dedupe_key=f"survey:{survey.pk}").exists()
    # Then on time it is sent, once, with a link that expires in 10 days
    with time_machine.travel(MONDAY + timedelta(hours=6), tick=False):
        assert survey_sweep(now=timezone.now()) == 1
        assert survey_sweep(now=timezone.now()) == 0
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    assert survey.expires_at == MONDAY + timedelta(hours=6, days=10)
    mail = OutboundEmail.objects.get(dedupe_key=f"survey:{survey.pk}")
    assert mail.to == case.customer.email
    assert "/survey/" in mail.body
    assert "/c/" in mail.body  # the customer's portal page for the case


def test_survey_sweep_reminds_once_and_then_expires_the_link(org: Org) -> None:
    SurveySettings.objects.create(delay_hours=0, expiry_days=7, reminder_after_hours=72)
    with time_machine.travel(MONDAY, tick=False):
        survey, _ = sent_survey(org, now=MONDAY)
    sent_at = survey.sent_at
    assert sent_at is not None
    survey_sweep(now=sent_at + timedelta(hours=71))
    assert not OutboundEmail.objects.filter(dedupe_key=f"survey-reminder:{survey.pk}").exists()
    survey_sweep(now=sent_at + timedelta(hours=72))
    survey_sweep(now=sent_at + timedelta(hours=100))
    assert OutboundEmail.objects.filter(dedupe_key=f"survey-reminder:{survey.pk}").count() == 1
    survey_sweep(now=sent_at + timedelta(days=7))
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.EXPIRED


def test_survey_one_per_case_even_when_reopened_and_resolved_again(org: Org) -> None:
    case = resolved_case(org)
    case = case_reopen(case=case, version=None, actor=org.agent, reason="Still broken")
    case_resolve(
        case=case, outcome=Outcome.UPHELD, version=None, actor=org.agent, confirm_undetermined=True
    )
    assert Survey.objects.filter(case=case).count() == 1


def test_survey_none_when_customer_opted_out(org: Org) -> None:
    from amends.customers.tests.factories import CustomerFactory

    customer = CustomerFactory()
    survey_opt_out(customer_id=customer.pk)
    case = resolved_case(org, customer=customer)
    assert not Survey.objects.filter(case=case).exists()


def test_survey_none_for_a_case_staff_opened_internally(org: Org) -> None:
    from amends.cases.tests.factories import case_in_status

    case = case_in_status(CaseStatus.IN_RECOVERY, actor=org.agent, team=org.team)
    survey_exclude_case(case=case, reason="Opened to track a supplier fault", actor=org.agent)
    from amends.cases.tests.factories import steps_complete

    steps_complete(case)
    case_resolve(
        case=case, outcome=Outcome.UPHELD, version=None, actor=org.agent, confirm_undetermined=True
    )
    assert not Survey.objects.filter(case=case).exists()


def test_survey_requested_hook_schedules_for_an_incident_round(org: Org) -> None:
    from amends.cases.tests.factories import CaseFactory

    case = CaseFactory(team=org.team)
    hooks.survey_requested.emit(
        hooks.SurveyRequested(case_id=case.pk, reason="incident_recovery", incident_id=7)
    )
    assert Survey.objects.get(case=case).incident_id == 7


def test_survey_get_by_token_changes_nothing_and_refuses_forgeries(org: Org) -> None:
    survey, token = sent_survey(org)
    assert survey_get_by_token(token=token).pk == survey.pk
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    with pytest.raises(Survey.DoesNotExist):
        survey_get_by_token(token=f"{survey.pk}:forged")
    with pytest.raises(Survey.DoesNotExist):
        survey_get_by_token(token=token + "x")


def test_survey_answer_records_once_and_emits_the_hook(org: Org) -> None:
    survey, token = sent_survey(org)
    with hook_recorded(hooks.survey_answered) as seen:
        survey_answer(
            token=token,
            csat="5",
            nps="9",
            would_use_again=5,
            fair_outcome=4,
            fair_process=5,
            fair_treatment=5,
            promises_kept="yes",
            comment="Quick and kind.",
            compliment="Alex listened.",
        )
    survey.refresh_from_db()
    assert (survey.status, survey.csat, survey.nps, survey.fair_process) == ("answered", 5, 9, 5)
    assert [p.survey_id for p in seen] == [survey.pk]
    assert [(p.fair_outcome, p.fair_process, p.fair_treatment) for p in seen] == [(4, 5, 5)]
    assert Compliment.objects.get(survey=survey).staff == org.agent
    assert not FollowUp.objects.exists()
    with pytest.raises(ApplicationError) as err:
        survey_answer(token=token, csat=1)
    assert err.value.status == 409
    survey.refresh_from_db()
    assert survey.csat == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("csat", 0),
        ("csat", 6),
        ("nps", 11),
        ("fair_outcome", "-1"),
        ("csat", "9" * 30),
        ("csat", ""),
    ],
)
def test_survey_answer_out_of_range_is_refused_with_nothing_written(
    org: Org, field: str, value: object
) -> None:
    survey, token = sent_survey(org)
    answers: dict[str, object] = {"csat": 3, field: value}
    with pytest.raises(ApplicationError) as err:
        survey_answer(token=token, **answers)  # type: ignore[arg-type]
    assert err.value.status == 422
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    assert survey.csat is None


def test_survey_answer_after_expiry_is_refused(org: Org) -> None:
    survey, token = sent_survey(org)
    assert survey.expires_at is not None
    with pytest.raises(ApplicationError) as err:
        survey_answer(token=token, csat=4, now=survey.expires_at + timedelta(seconds=1))
    assert err.value.status == 410


def test_survey_detractor_opens_a_follow_up_for_the_owners_supervisor(org: Org) -> None:
    survey, token = sent_survey(org)
    with time_machine.travel(MONDAY, tick=False):
        survey_answer(token=token, csat=2, nps=8, promises_kept="no", now=MONDAY)
    follow_up = FollowUp.objects.get(survey=survey)
    assert follow_up.assignee == org.supervisor
    assert follow_up.reasons == [FollowUpReason.LOW_CSAT, FollowUpReason.PROMISES]
    assert follow_up.due_at > MONDAY
    assert follow_up.case.events.filter(kind="follow_up_opened").exists()


@pytest.mark.parametrize(
    ("answers", "opens"),
    [
        ({"csat": 3, "nps": 7}, False),
        ({"csat": 3, "nps": 6}, True),
        ({"csat": 3, "promises_kept": "partly"}, True),
        ({"csat": 2}, True),
        ({"csat": 3, "promises_kept": "yes", "nps": 10}, False),
    ],
)
def test_survey_detractor_thresholds(org: Org, answers: dict[str, object], opens: bool) -> None:
    survey, token = sent_survey(org)
    survey_answer(token=token, **answers)  # type: ignore[arg-type]
    assert FollowUp.objects.filter(survey=survey).exists() is opens


def test_feedback_event_kinds_have_timeline_labels() -> None:
    from amends.cases.event_kinds import event_kind_label

    assert event_kind_label("follow_up_opened") == "Detractor follow-up opened"
    assert event_kind_label("survey_excluded") == "No survey: opened internally"
