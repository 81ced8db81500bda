from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from amends.feedback.choices import SurveyStatus
from amends.feedback.models import FollowUp, Survey, SurveyOptOut
from amends.feedback.tests.factories import Org, sent_survey

pytestmark = pytest.mark.django_db


def test_survey_page_get_shows_questions_and_records_nothing(org: Org) -> None:
    survey, token = sent_survey(org)
    response = Client().get(reverse("web:survey", args=[token]))
    assert response.status_code == 200
    assert b"How did we do?" in response.content
    assert b'name="fair_treatment"' in response.content
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT


def test_survey_page_post_records_the_answer_once(org: Org) -> None:
    survey, token = sent_survey(org)
    client = Client()
    url = reverse("web:survey", args=[token])
    response = client.post(
        url, {"csat": "1", "nps": "3", "promises_kept": "no", "comment": "<b>x</b>"}
    )
    assert response.status_code == 200
    assert b"Thank you" in response.content
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.comment) == (1, 3, "<b>x</b>")
    assert FollowUp.objects.filter(survey=survey).exists()
    again = client.post(url, {"csat": "5"})
    assert again.status_code == 409
    survey.refresh_from_db()
    assert survey.csat == 1


def test_survey_page_out_of_range_score_is_422_with_nothing_written(org: Org) -> None:
    survey, token = sent_survey(org)
    response = Client().post(reverse("web:survey", args=[token]), {"csat": "7"})
    assert response.status_code == 422
    survey.refresh_from_db()
    assert survey.answered_at is None


@pytest.mark.parametrize("token", ["1:forged", "nonsense", "9" * 250])
def test_survey_page_forged_link_is_404(token: str) -> None:
    response = Client().get(f"/survey/{token}/")
    assert response.status_code == 404
    assert not Survey.objects.exists()


def test_survey_page_escapes_admin_and_customer_text(org: Org) -> None:
    from amends.feedback.models import SurveySettings

    SurveySettings.objects.create(intro="<script>alert(1)</script>")
    _, token = sent_survey(org)
    response = Client().get(reverse("web:survey", args=[token]))
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_survey_opt_out_records_the_customer(org: Org) -> None:
    survey, token = sent_survey(org)
    response = Client().post(reverse("web:survey-opt-out", args=[token]))
    assert response.status_code == 200
    assert SurveyOptOut.objects.filter(customer=survey.customer).exists()


def test_survey_opt_out_needs_post(org: Org) -> None:
    _survey, token = sent_survey(org)
    assert Client().get(reverse("web:survey-opt-out", args=[token])).status_code == 405
    assert not SurveyOptOut.objects.exists()
