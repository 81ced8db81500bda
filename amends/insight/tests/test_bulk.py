"""insight on cases opened set-based (imports): description scores and insight rows per batch."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from amends.cases.choices import CaseStatus, Outcome
from amends.cases.models import Case
from amends.cases.services.batch import NewCase, cases_open_many
from amends.customers.services import CustomerKey
from amends.customers.tests.factories import CustomerFactory
from amends.insight.bulk import descriptions_score_many
from amends.insight.choices import TextSource
from amends.insight.models import CaseInsight, TextScore
from amends.insight.scoring import text_analyse

pytestmark = pytest.mark.django_db

ANGRY = (
    "This is the third time you have overcharged me. I am furious and I will cancel my "
    "account and go to a competitor if this is not fixed today."
)


def _closed(key: CustomerKey) -> NewCase:
    """An angry case imported already closed: history no queue shows, never scored."""
    return NewCase(
        customer=key,
        title="Closed before the import",
        description=ANGRY,
        status=CaseStatus.CLOSED,
        outcome=Outcome.UPHELD,
    )


def test_imported_cases_are_scored_after_commit(django_capture_on_commit_callbacks: Any) -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    with django_capture_on_commit_callbacks(execute=True):
        angry, calm, history = cases_open_many(
            specs=[
                NewCase(customer=key, title="Overcharged", description=ANGRY),
                NewCase(customer=key, title="Address change"),
                _closed(key),
            ]
        )
    scores = {s.case_id: s for s in TextScore.objects.all()}
    assert set(scores) == {angry, calm}  # not the closed one
    assert not CaseInsight.objects.filter(case_id=history).exists()
    expected = text_analyse(ANGRY)
    assert scores[angry].source == TextSource.DESCRIPTION
    assert scores[angry].message_id is None
    assert scores[angry].upset == expected.upset
    assert scores[angry].churn_intent == expected.churn_intent is True
    assert scores[angry].labels == list(expected.labels)
    insight = CaseInsight.objects.get(case_id=angry)
    assert insight.churn_intent is True
    assert insight.priority > CaseInsight.objects.get(case_id=calm).priority


def test_scoring_twice_keeps_one_score_per_case(django_assert_max_num_queries: Any) -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    ids = tuple(cases_open_many(specs=[NewCase(customer=key, title=f"T{i}") for i in range(40)]))
    with django_assert_max_num_queries(6):
        assert descriptions_score_many(case_ids=ids) == 40
    descriptions_score_many(case_ids=ids)
    assert TextScore.objects.count() == CaseInsight.objects.count() == 40


def test_imported_open_cases_get_their_flags_on_the_case_closed_history_none(
    django_capture_on_commit_callbacks: Any,
) -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    with django_capture_on_commit_callbacks(execute=True):
        angry, calm, history = cases_open_many(
            specs=[
                NewCase(customer=key, title="Overcharged", description=ANGRY),
                NewCase(customer=key, title="Address change"),
                _closed(key),
            ]
        )
    cases = Case.objects.in_bulk([angry, calm, history])
    expected = text_analyse(ANGRY)
    assert cases[angry].upset is expected.upset
    assert cases[angry].churn_intent is True
    assert cases[angry].attention == pytest.approx(CaseInsight.objects.get(case_id=angry).priority)
    assert cases[angry].attention > 0
    assert cases[calm].attention == CaseInsight.objects.get(case_id=calm).priority
    assert cases[calm].churn_intent is False
    assert (cases[history].attention, cases[history].upset, cases[history].churn_intent) == (
        0,
        False,
        False,
    )


def test_a_case_scored_before_keeps_its_reading(django_capture_on_commit_callbacks: Any) -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    with django_capture_on_commit_callbacks(execute=True):
        (case_id,) = cases_open_many(specs=[NewCase(customer=key, title="T", description=ANGRY)])
    Case.objects.filter(pk=case_id).update(attention=9.0)  # moved on since (a later message)
    descriptions_score_many(case_ids=(case_id,))
    assert Case.objects.get(pk=case_id).attention == 9.0


def test_flag_queries_do_not_grow_with_the_batch(django_assert_num_queries: Any) -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    small = tuple(cases_open_many(specs=[NewCase(customer=key, title=f"S{i}") for i in range(3)]))
    large = tuple(
        cases_open_many(
            specs=[NewCase(customer=key, title=f"L{i}", description=ANGRY) for i in range(90)]
        )
    )
    # the texts, the scores, the insight rows, the cases' flags, in a savepoint
    with django_assert_num_queries(6):
        assert descriptions_score_many(case_ids=small) == 3
    with django_assert_num_queries(6):
        assert descriptions_score_many(case_ids=large) == 90
    assert Case.objects.filter(pk__in=large, attention__gt=0, churn_intent=True).count() == 90


def test_the_reading_is_written_with_the_case_before_any_commit() -> None:
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    # No on-commit callback runs here: what the case holds came with its INSERT.
    angry, history = cases_open_many(
        specs=[
            NewCase(customer=key, title="Overcharged", description=ANGRY),
            _closed(key),
        ]
    )
    cases = Case.objects.in_bulk([angry, history])
    assert cases[angry].churn_intent is True
    assert cases[angry].upset is text_analyse(ANGRY).upset
    assert cases[angry].attention > 0
    assert (cases[history].attention, cases[history].churn_intent) == (0, False)
    assert not TextScore.objects.exists()  # the rows come after the commit


def test_after_commit_the_review_notes_are_written_without_reading_or_updating_cases(
    django_capture_on_commit_callbacks: Any,
    django_assert_num_queries: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from amends.core import hooks
    from amends.insight import bulk

    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    captured: list[hooks.CasesOpenedBulk] = []
    monkeypatch.setattr(hooks.cases_opened_bulk, "_subscribers", [captured.append])
    with django_capture_on_commit_callbacks(execute=True):
        ids = cases_open_many(
            specs=[NewCase(customer=key, title=f"T{i}", description=ANGRY) for i in range(30)]
        )
    assert not TextScore.objects.exists()
    (payload,) = captured
    assert len(payload.notes[bulk.NOTES]) == 30
    # SQLite: a savepoint, the scores, the insight rows, the release; PostgreSQL: each COPY
    # (not counted: it bypasses the statement log) in a savepoint of its own. No SELECT or
    # UPDATE of cases.
    with django_assert_num_queries(6 if connection.vendor == "postgresql" else 4) as queries:
        bulk.on_cases_opened_bulk(payload)
    assert not [q for q in queries.captured_queries if "cases_case" in q["sql"]]
    assert TextScore.objects.filter(case_id__in=ids).count() == 30
    insight = CaseInsight.objects.get(case_id=ids[0])
    assert insight.priority == pytest.approx(Case.objects.get(pk=ids[0]).attention)


def test_a_failed_review_leaves_the_reading_to_after_the_commit(
    django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amends.insight import bulk
    from amends.insight.services.scoring import text_analyse_configured as real

    calls: list[str] = []

    def fails_once(text: str) -> Any:
        calls.append(text)
        if len(calls) == 1:
            raise RuntimeError("scorer down")
        return real(text)

    monkeypatch.setattr(bulk, "text_analyse_configured", fails_once)
    customer = CustomerFactory()
    key = CustomerKey(customer.pk, customer.tier, customer.special_handling)
    with django_capture_on_commit_callbacks(execute=True):
        (case_id,) = cases_open_many(specs=[NewCase(customer=key, title="T", description=ANGRY)])
    case = Case.objects.get(pk=case_id)
    assert case.churn_intent is True  # set after the commit instead
    assert TextScore.objects.filter(case_id=case_id).count() == 1
