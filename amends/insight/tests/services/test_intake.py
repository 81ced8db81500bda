"""Insight advises the intake before a case's first save: severity, category and the reading
the queues use arrive in the case's INSERT, not in later updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amends.cases.choices import CaseEventKind
from amends.cases.models import Case, CaseEvent
from amends.cases.tests.factories import CaseFactory
from amends.core import hooks
from amends.customers.tests.factories import CustomerFactory
from amends.insight.models import CaseInsight, RepeatLink, TextScore
from amends.insight.services.intake import case_intake_review
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT, case_with_text, inbound
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_an_upset_description_sets_the_queue_flags_in_the_first_save():
    case = case_with_text(UPSET_TEXT)
    stored = Case.objects.get(pk=case.pk)
    insight = CaseInsight.objects.get(case=case)
    assert stored.upset is True
    assert stored.churn_intent is True
    assert stored.repeat_failure is False
    assert stored.attention == pytest.approx(insight.priority)
    assert stored.attention > 0
    # No second write of the case for insight: one "created" event and nothing else.
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        CaseEventKind.CREATED
    ]


def test_a_calm_description_leaves_the_case_unflagged():
    case = Case.objects.get(pk=case_with_text(CALM_TEXT).pk)
    assert (case.upset, case.churn_intent, case.repeat_failure) == (False, False, False)


def test_a_repeat_opens_with_its_severity_raised_and_says_why_in_the_created_event():
    customer = CustomerFactory()
    billing = CategoryFactory(name="Billing")
    with time_machine.travel(T0, tick=False):
        first = CaseFactory(customer=customer, category=billing, description="Charged twice")
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        second = CaseFactory(customer=customer, category=billing, description="A wrong bill")
    second = Case.objects.get(pk=second.pk)
    assert second.severity == 2
    assert second.repeat_failure is True
    assert RepeatLink.objects.get(case=second).earlier_case_id == first.pk
    events = list(CaseEvent.objects.filter(case=second))
    assert [e.kind for e in events] == [CaseEventKind.CREATED]
    assert events[0].data["severity"] == 2
    assert "repeat failure" in " ".join(events[0].data["advised"])


def test_a_repeat_gets_its_insight_row_in_one_insert_with_the_score():
    customer = CustomerFactory()
    with time_machine.travel(T0, tick=False):
        first = CaseFactory(customer=customer, description=UPSET_TEXT)
    with (
        time_machine.travel(T0 + timedelta(days=3), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        second = CaseFactory(customer=customer, description=UPSET_TEXT)
    insight_sql = [q["sql"] for q in queries.captured_queries if "insight_caseinsight" in q["sql"]]
    assert len(insight_sql) == 1
    assert insight_sql[0].startswith("INSERT")
    insight = CaseInsight.objects.get(case=second)
    score = TextScore.objects.get(case=second, message__isnull=True)
    assert insight.repeat is True
    assert (insight.upset, insight.churn_intent) == (True, True)
    assert insight.intensity == pytest.approx(score.intensity)
    assert insight.priority > CaseInsight.objects.get(case=first).priority  # the repeat counts
    assert RepeatLink.objects.get(case=second).earlier_case_id == first.pk


def test_a_message_from_the_customer_updates_the_case_flags():
    case = case_with_text(CALM_TEXT)
    inbound(case, UPSET_TEXT)
    stored = Case.objects.get(pk=case.pk)
    assert stored.upset is True
    assert stored.churn_intent is True
    assert stored.attention == pytest.approx(CaseInsight.objects.get(case=case).priority)


def test_findings_of_a_review_whose_intake_failed_are_not_used_by_another_case():
    customer = CustomerFactory()
    # A review whose case never got saved (the intake failed after asking).
    case_intake_review(
        hooks.CaseIntakeReview(
            customer_id=customer.pk,
            title="Never saved",
            description=UPSET_TEXT,
            channel="phone",
            category_id=None,
            service_id=None,
            severity=3,
            now=datetime.now(UTC),
        )
    )
    hooks.case_intake_review.unsubscribe(_subscriber())
    try:
        case = CaseFactory(customer=customer, title="Another", description=CALM_TEXT)
    finally:
        hooks.case_intake_review.subscribe(_subscriber())
    score = TextScore.objects.get(case=case, message__isnull=True)
    assert score.upset is False  # read afresh from its own calm description
    assert Case.objects.get(pk=case.pk).upset is False


def _subscriber():
    from amends.insight.subscribers import on_case_intake_review

    return on_case_intake_review


def test_the_backfill_copies_insight_rows_onto_cases_scored_before():
    from importlib import import_module

    from django.apps import apps

    case = case_with_text(UPSET_TEXT)
    Case.objects.filter(pk=case.pk).update(attention=0, upset=False, churn_intent=False)
    import_module("amends.insight.migrations.0002_case_attention_backfill").forwards(apps, None)
    stored = Case.objects.get(pk=case.pk)
    assert stored.upset is True
    assert stored.churn_intent is True
    assert stored.attention == pytest.approx(CaseInsight.objects.get(case=case).priority)


def test_many_cases_get_their_reading_in_one_statement(django_assert_num_queries):
    from amends.cases.services.attention import cases_attention_set_many

    cases = [case_with_text(CALM_TEXT) for _ in range(3)]
    readings = [(c.pk, 1.5 + i, True, i == 1, i == 2) for i, c in enumerate(cases)]
    with django_assert_num_queries(1):
        assert cases_attention_set_many(readings=readings) == 3
    stored = {c.pk: c for c in Case.objects.filter(pk__in=[c.pk for c in cases])}
    for case_id, attention, upset, churn, repeat in readings:
        row = stored[case_id]
        assert (row.attention, row.upset, row.churn_intent, row.repeat_failure) == (
            attention,
            upset,
            churn,
            repeat,
        )
    assert cases_attention_set_many(readings=[]) == 0


def test_the_intake_findings_are_written_from_the_case_row_without_a_second_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The case_opened reaction matches the review's findings on a few columns of the new
    # case; if they did not match, insight would read the text a second time (the fallback).
    from amends.insight.services.intake import case_opened_write as real

    written: list[bool] = []

    def spy(**kwargs: Case) -> bool:
        written.append(real(**kwargs))
        return written[-1]

    monkeypatch.setattr("amends.insight.subscribers.case_opened_write", spy)
    case = case_with_text(UPSET_TEXT)
    assert written == [True]
    assert TextScore.objects.get(case=case, message__isnull=True).upset is True
