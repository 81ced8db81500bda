from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from amends.feedback.models import Compliment, SecondLook, StaffReview
from amends.feedback.services.surveys import survey_answer
from amends.feedback.tests.factories import Org, resolved_case, sent_survey

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.mark.parametrize(
    "name",
    [
        "feedback-kpis",
        "feedback-champions",
        "feedback-surveys",
        "feedback-follow-ups",
        "feedback-second-looks",
        "feedback-reviews",
    ],
)
def test_staff_pages_render_for_every_role(org: Org, name: str) -> None:
    _survey, token = sent_survey(org)
    survey_answer(token=token, csat=2, nps=4, compliment="Thank you Alex")
    for user in (org.agent, org.supervisor, org.manager):
        response = _client(user).get(reverse(f"web:{name}"))
        assert response.status_code == 200, (name, user.username)


def test_kpi_page_shows_counts_and_drills_down_to_cases(org: Org) -> None:
    case = resolved_case(org)
    client = _client(org.supervisor)
    response = client.get(reverse("web:feedback-kpis"))
    assert b"1 cases resolved" in response.content
    drill = client.get(reverse("web:feedback-kpi-drill", args=["cases"]))
    assert drill.status_code == 200
    assert case.ref.encode() in drill.content


@pytest.mark.parametrize(
    "query", ["from=2026-02-01&to=2026-01-01", "from=yesterday", "team=abc", "to=99999-01-01"]
)
def test_kpi_page_bad_period_is_4xx(org: Org, query: str) -> None:
    response = _client(org.manager).get(reverse("web:feedback-kpis") + "?" + query)
    assert response.status_code == 422


def test_kpi_page_agent_cannot_see_a_colleague(org: Org) -> None:
    response = _client(org.agent).get(reverse("web:feedback-kpis") + "?person=casey")
    assert response.status_code == 403


def test_profile_logs_a_compliment_from_another_channel(org: Org) -> None:
    client = _client(org.colleague)
    response = client.post(
        reverse("web:feedback-compliment-log", args=["alex"]),
        {"text": "Customer phoned to say thanks", "channel": "phone", "case_ref": ""},
    )
    assert response.status_code == 302
    assert Compliment.objects.get(staff=org.agent).channel == "phone"
    page = _client(org.agent).get(reverse("web:feedback-profile", args=["alex"]))
    assert b"Customer phoned to say thanks" in page.content


def test_second_look_request_and_answer_through_the_pages(org: Org) -> None:
    case = resolved_case(org)
    _client(org.agent).post(
        reverse("web:feedback-second-look-new"),
        {"case_ref": case.ref, "subject": "draft_reply", "draft": "Dear customer…", "reviewer": ""},
    )
    look = SecondLook.objects.get()
    queue = _client(org.colleague).get(reverse("web:feedback-second-looks"))
    assert b"Dear customer" in queue.content
    _client(org.colleague).post(
        reverse("web:feedback-second-look-answer", args=[look.pk]),
        {"decision": "approve", "comment": ""},
    )
    look.refresh_from_db()
    assert look.status == "approved"


def test_review_pages_hide_reviews_from_colleagues(org: Org) -> None:
    case = resolved_case(org)
    _client(org.supervisor).post(
        reverse("web:feedback-review-new"),
        {"case_ref": case.ref, "staff": org.agent.pk, "complaint": "Rude on the phone"},
    )
    review = StaffReview.objects.get()
    url = reverse("web:feedback-review-detail", args=[review.pk])
    assert _client(org.agent).get(url).status_code == 200
    assert _client(org.colleague).get(url).status_code == 404
    assert (
        b"Rude on the phone"
        not in _client(org.colleague).get(reverse("web:feedback-reviews")).content
    )


@pytest.mark.parametrize("measure", ["cases", "surveys", "compliments", "approvals"])
def test_every_kpi_drill_down_renders(org: Org, measure: str) -> None:
    resolved_case(org)
    response = _client(org.manager).get(reverse("web:feedback-kpi-drill", args=[measure]))
    assert response.status_code == 200


def test_kpi_drill_down_unknown_measure_is_404(org: Org) -> None:
    response = _client(org.manager).get(reverse("web:feedback-kpi-drill", args=["salaries"]))
    assert response.status_code == 404
