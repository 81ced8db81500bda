from __future__ import annotations

import pytest

from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.services.messages import case_message_add
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.testing import hook_recorded
from amends.insight.models import CaseInsight, TextScore
from amends.insight.services.scoring import text_score_correct
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT, case_with_text, inbound

pytestmark = pytest.mark.django_db


def test_case_description_score_written_when_a_case_opens():
    case = case_with_text(UPSET_TEXT)
    score = TextScore.objects.get(case=case, message__isnull=True)
    assert score.upset
    assert score.churn_intent
    assert score.escalation_threat
    assert {p["signal"] for p in score.phrases} >= {"churn_intent", "escalation_threat", "repeat"}
    insight = CaseInsight.objects.get(case=case)
    assert insight.upset
    assert insight.churn_intent
    assert insight.priority > 1.5


def test_message_score_on_inbound_only_and_emits_message_scored():
    with hook_recorded(hooks.message_scored) as seen:
        case = case_with_text(CALM_TEXT)
        message = inbound(case, "Still not fixed. I will switch provider.")
        case_message_add(
            case=case, direction=MessageDirection.INTERNAL, body="Call them back", actor=None
        )
    assert TextScore.objects.filter(case=case).count() == 2
    assert TextScore.objects.get(message=message).churn_intent is True
    assert [s.message_id for s in seen] == [None, message.pk]
    assert seen[1].churn_intent is True
    assert seen[1].customer_id == case.customer_id


def test_case_insight_latest_words_set_mood_but_churn_stays():
    case = case_with_text("I will cancel my account, this is unacceptable!!")
    inbound(case, "Thank you, that is great, all working now.")
    insight = CaseInsight.objects.get(case=case)
    assert insight.upset is False
    assert insight.churn_intent is True


def test_text_score_correct_records_who_and_refreshes_the_case():
    agent = UserFactory()
    case = case_with_text(CALM_TEXT)
    score = TextScore.objects.get(case=case)
    score = text_score_correct(score=score, actor=agent, labels=["disappointment"], upset=True)
    assert score.corrected_by == agent
    assert score.corrected_at is not None
    assert score.effective_labels == ["disappointment"]
    assert CaseInsight.objects.get(case=case).upset is True


@pytest.mark.parametrize(("labels", "upset"), [(["bored"], None), ([], None), (None, None)])
def test_text_score_correct_refuses_bad_input_and_changes_nothing(labels, upset):
    case = case_with_text(CALM_TEXT)
    score = TextScore.objects.get(case=case)
    with pytest.raises(ApplicationError):
        text_score_correct(score=score, actor=UserFactory(), labels=labels, upset=upset)
    score.refresh_from_db()
    assert score.corrected_at is None


def test_scoring_failure_never_loses_the_case(monkeypatch):
    from amends.insight.services import scoring

    def broken(text):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(scoring, "text_analyse_configured", broken)
    case = case_with_text(UPSET_TEXT)
    assert case.pk is not None
    assert not TextScore.objects.filter(case=case).exists()


def test_emotion_model_used_when_configured(emotion_model_path, amends_overrides):
    amends_overrides(EMOTION_MODEL=str(emotion_model_path))
    case = case_with_text("@airline my flight was cancelled and nobody at the desk can help")
    score = TextScore.objects.get(case=case)
    assert "+emotion-" in score.model_version
    assert score.upset is True


def test_emotion_model_missing_file_falls_back_to_rules(tmp_path, amends_overrides):
    amends_overrides(EMOTION_MODEL=str(tmp_path / "nope.skops"))
    case = case_with_text(UPSET_TEXT)
    assert TextScore.objects.get(case=case).model_version == "rules-1"


def test_a_score_written_at_intake_reads_back_as_the_orm_would_store_it():
    case = case_with_text(UPSET_TEXT)
    score = TextScore.objects.get(case=case, message__isnull=True)
    # JSON lists stored as JSON, a JSON field left empty stored as NULL (not JSON null)
    assert isinstance(score.labels, list)
    assert score.labels
    assert TextScore.objects.filter(pk=score.pk, corrected_labels__isnull=True).exists()
    assert score.created_at is not None
    assert score.updated_at is not None
    # the insight row's key is the case (not generated)
    assert CaseInsight.objects.get(pk=case.pk).intensity == score.intensity
