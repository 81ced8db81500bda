from __future__ import annotations

from typing import Any

import pytest

from amends.feedback.models import StaffReview
from amends.feedback.services.surveys import survey_answer
from amends.feedback.tests.factories import Org, resolved_case, sent_survey

pytestmark = pytest.mark.django_db


def test_survey_list_is_scoped_and_query_count_is_pinned(
    org: Org, api_client_for: Any, django_assert_num_queries: Any
) -> None:
    for _ in range(3):
        _survey, token = sent_survey(org)
        survey_answer(token=token, csat=4)
    other = resolved_case(org, assignee=org.outsider, team=org.other_team)
    client = api_client_for(org.agent)
    # the token (with user and profile), its last-used time on first use, one page of surveys
    with django_assert_num_queries(3):
        response = client.get("/api/v1/surveys")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 3
    assert all(item["staff"] == "alex" for item in items)
    assert other.ref not in {item["case"] for item in items}
    manager = api_client_for(org.manager).get("/api/v1/surveys").json()["items"]
    assert len(manager) == 4


def test_survey_get_hides_other_peoples_surveys(org: Org, api_client_for: Any) -> None:
    survey, _ = sent_survey(org)
    assert api_client_for(org.agent).get(f"/api/v1/surveys/{survey.pk}").status_code == 200
    assert api_client_for(org.outsider).get(f"/api/v1/surveys/{survey.pk}").status_code == 404
    assert api_client_for(org.agent).get(f"/api/v1/surveys/{2**70}").status_code == 422


def test_staff_review_open_account_decide_flow(org: Org, api_client_for: Any) -> None:
    case = resolved_case(org)
    sup = api_client_for(org.supervisor)
    opened = sup.post(
        "/api/v1/staff-reviews", {"case": case.ref, "staff": "alex", "complaint": "Was curt."}
    )
    assert opened.status_code == 201, opened.json()
    review_id = opened.json()["id"]
    assert opened.json()["record"]["reviews"] == 1
    early = sup.post(f"/api/v1/staff-reviews/{review_id}/decide", {"outcome": "coaching"})
    assert early.status_code == 409
    agent = api_client_for(org.agent)
    account = agent.post(
        f"/api/v1/staff-reviews/{review_id}/account", {"account": "The line was bad."}
    )
    assert account.status_code == 200
    decided = sup.post(
        f"/api/v1/staff-reviews/{review_id}/decide", {"outcome": "coaching", "note": "Pacing."}
    )
    assert decided.status_code == 200
    assert decided.json()["is_development"] is True
    seen = agent.get(f"/api/v1/staff-reviews/{review_id}").json()
    assert seen["outcome"] == "coaching"


@pytest.mark.parametrize("who", ["agent", "colleague", "other_supervisor"])
def test_staff_review_open_without_the_right_is_403_and_writes_nothing(
    org: Org, api_client_for: Any, who: str
) -> None:
    case = resolved_case(org)
    response = api_client_for(getattr(org, who)).post(
        "/api/v1/staff-reviews", {"case": case.ref, "staff": "alex", "complaint": "x"}
    )
    assert response.status_code in (403, 404)
    assert not StaffReview.objects.exists()


def test_staff_review_read_by_a_colleague_is_404(org: Org, api_client_for: Any) -> None:
    case = resolved_case(org)
    review_id = (
        api_client_for(org.supervisor)
        .post("/api/v1/staff-reviews", {"case": case.ref, "staff": "alex", "complaint": "x"})
        .json()["id"]
    )
    for user in (org.colleague, org.outsider, org.other_supervisor):
        assert api_client_for(user).get(f"/api/v1/staff-reviews/{review_id}").status_code == 404
        listed = api_client_for(user).get("/api/v1/staff-reviews").json()["items"]
        assert listed == []
    for user in (org.agent, org.supervisor, org.manager, org.admin):
        assert api_client_for(user).get(f"/api/v1/staff-reviews/{review_id}").status_code == 200


def test_kpis_default_scope_and_counts(org: Org, api_client_for: Any) -> None:
    resolved_case(org)
    body = api_client_for(org.agent).get("/api/v1/kpis").json()
    assert body["person"] == "alex"
    figures = {f["key"]: f for f in body["figures"]}
    assert figures["resolve_time"]["count"] == 1
    assert figures["steps_done"]["value"] == 100.0
    assert figures["steps_done"]["drill_down"].startswith("/feedback/kpis/cases/?")


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"from": "2026-02-01", "to": "2026-01-01"}, 422),
        ({"from": "01/02/2026"}, 422),
        ({"to": "2026-13-45"}, 422),
        ({"team": "abc"}, 422),
        ({"team": str(2**70)}, 422),
        ({"from": "1066-10-14"}, 422),
        ({"person": "casey"}, 403),
        ({"person": "nobody"}, 404),
    ],
)
def test_kpis_bad_input_is_4xx(
    org: Org, api_client_for: Any, query: dict[str, str], status: int
) -> None:
    assert api_client_for(org.agent).get("/api/v1/kpis", **query).status_code == status


def test_kpis_supervisor_sees_team_not_other_team(org: Org, api_client_for: Any) -> None:
    client = api_client_for(org.supervisor)
    assert client.get("/api/v1/kpis", team=str(org.team.pk)).status_code == 200
    assert client.get("/api/v1/kpis", person="casey").status_code == 200
    assert client.get("/api/v1/kpis", team=str(org.other_team.pk)).status_code == 403
    assert client.get("/api/v1/kpis", person="olly").status_code == 403
    manager = api_client_for(org.manager).get("/api/v1/kpis", team=str(org.other_team.pk))
    assert manager.status_code == 200


def test_compliment_and_second_look_endpoints(org: Org, api_client_for: Any) -> None:
    case = resolved_case(org)
    logged = api_client_for(org.colleague).post(
        "/api/v1/compliments", {"staff": "alex", "text": "Great call", "case": case.ref}
    )
    assert logged.status_code == 201
    asked = api_client_for(org.agent).post(
        f"/api/v1/cases/{case.ref}/second-looks",
        {"subject": "proposed_outcome", "draft": "Refund 20", "reviewer": "casey"},
    )
    assert asked.status_code == 201
    look_id = asked.json()["id"]
    wrong = api_client_for(org.supervisor).post(
        f"/api/v1/second-looks/{look_id}/answer", {"approve": True}
    )
    assert wrong.status_code == 403
    ok = api_client_for(org.colleague).post(
        f"/api/v1/second-looks/{look_id}/answer", {"approve": False, "comment": "Make it 30"}
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "commented"


def test_survey_text_with_nul_is_422(org: Org, api_client_for: Any) -> None:
    case = resolved_case(org)
    response = api_client_for(org.agent).post(
        f"/api/v1/cases/{case.ref}/survey-exclusion", {"reason": "a\x00b"}
    )
    assert response.status_code == 422


def test_follow_up_and_review_lists_pin_their_query_counts(
    org: Org, api_client_for: Any, django_assert_num_queries: Any
) -> None:
    from amends.feedback.services.reviews import staff_review_open

    for _ in range(3):
        _, token = sent_survey(org)
        survey_answer(token=token, csat=1)
        staff_review_open(
            case=resolved_case(org), staff=org.agent, complaint="x", actor=org.supervisor
        )
    client = api_client_for(org.supervisor)
    client.get("/api/v1/kpis")  # the token's first use also records its last-used time
    # the token with its user, one page (with its joins)
    with django_assert_num_queries(2):
        follow_ups = client.get("/api/v1/follow-ups")
    assert len(follow_ups.json()["items"]) == 3
    # the token (with user and staff profile), one page
    with django_assert_num_queries(2):
        reviews = client.get("/api/v1/staff-reviews")
    assert len(reviews.json()["items"]) == 3


def test_follow_up_complete_records_the_outcome_once(org: Org, api_client_for: Any) -> None:
    _, token = sent_survey(org)
    survey_answer(token=token, csat=1)
    client = api_client_for(org.supervisor)
    follow_up_id = client.get("/api/v1/follow-ups").json()["items"][0]["id"]
    bad = client.post(f"/api/v1/follow-ups/{follow_up_id}/complete", {"outcome": "shrug"})
    assert bad.status_code == 422
    other = api_client_for(org.colleague).post(
        f"/api/v1/follow-ups/{follow_up_id}/complete", {"outcome": "put_right"}
    )
    assert other.status_code in (403, 404)
    done = client.post(
        f"/api/v1/follow-ups/{follow_up_id}/complete",
        {"outcome": "put_right", "note": "Called, apologised, refund sent."},
    )
    assert done.status_code == 200
    assert done.json()["status"] == "done"
    again = client.post(f"/api/v1/follow-ups/{follow_up_id}/complete", {"outcome": "no_action"})
    assert again.status_code == 409
