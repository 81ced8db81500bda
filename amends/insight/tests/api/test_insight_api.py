"""The insight REST API (amends/api/insight.py): contract, errors, visibility."""

from __future__ import annotations

import pytest

from amends.cases.tests.factories import CaseFactory
from amends.insight.models import ApologyCheck, TextScore
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT, inbound
from amends.insight.tests.test_apology import GOOD

pytestmark = pytest.mark.django_db


def test_analyse_contract(org, api_client_for):
    r = api_client_for(org.agent).post("/api/v1/insight/analyse", {"text": UPSET_TEXT})
    assert r.status_code == 200, r.json()
    data = r.json()
    assert 0.0 <= data["intensity"] <= 1.0
    assert data["upset"] is True
    assert data["churn_intent"] is True
    assert data["escalation_threat"] is True
    assert isinstance(data["labels"], list)
    assert data["labels"]
    assert {"signal": "churn_intent", "text": "cancel my contract"} in data["phrases"]


@pytest.mark.parametrize(
    "text", ["", "😡😡😡", "<b></b>", "Merci beaucoup pour votre aide rapide.", "x" * 1_000_000]
)
def test_analyse_bad_input_answers_sane_scores(org, api_client_for, text):
    r = api_client_for(org.agent).post("/api/v1/insight/analyse", {"text": text})
    assert r.status_code == 200
    assert 0.0 <= r.json()["intensity"] <= 1.0


@pytest.mark.parametrize(
    "body",
    [{}, {"text": 5}, {"text": "a\x00b"}, {"text": "x" * 1_000_001}, {"text": None}],
)
def test_analyse_invalid_input_is_422(org, api_client_for, body):
    r = api_client_for(org.agent).post("/api/v1/insight/analyse", body)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"


def test_analyse_needs_authentication(client):
    r = client.post("/api/v1/insight/analyse", {"text": "hi"}, content_type="application/json")
    assert r.status_code == 401


def test_apology_check_contract(org, api_client_for):
    r = api_client_for(org.agent).post(
        "/api/v1/insight/apology-check",
        {"draft": "We apologise for any inconvenience.", "customer_text": UPSET_TEXT},
    )
    assert r.status_code == 200
    data = r.json()
    assert data["passes"] is False
    codes = {f["code"] for f in data["findings"]}
    assert "insincere_apology" in codes
    assert all(f["message"] and f["suggestion"] for f in data["findings"])
    assert not ApologyCheck.objects.exists()  # without a case nothing is recorded


def test_apology_check_on_a_case_is_recorded(org, api_client_for):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    r = api_client_for(org.agent).post(
        "/api/v1/insight/apology-check", {"draft": GOOD, "case": case.ref}
    )
    assert r.status_code == 200
    assert r.json()["passes"] is True
    check = ApologyCheck.objects.get()
    assert check.author == org.agent
    assert check.first_draft is True


def test_apology_check_on_an_invisible_case_is_404_and_records_nothing(org, api_client_for):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    r = api_client_for(org.outsider).post(
        "/api/v1/insight/apology-check", {"draft": GOOD, "case": case.ref}
    )
    assert r.status_code == 404
    assert not ApologyCheck.objects.exists()


def test_case_insight_endpoint(org, api_client_for):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    inbound(case, CALM_TEXT)
    r = api_client_for(org.agent).get(f"/api/v1/insight/cases/{case.ref}")
    assert r.status_code == 200
    data = r.json()
    assert data["churn_intent"] is True
    assert data["upset"] is False  # the latest words are calm
    assert data["description_score"]["upset"] is True
    assert data["latest_score"]["source"] == "message"
    assert data["triage"] is None
    assert api_client_for(org.outsider).get(f"/api/v1/insight/cases/{case.ref}").status_code == 404


def test_case_scores_endpoint_paginates(org, api_client_for, django_assert_num_queries):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    for n in range(4):
        inbound(case, f"Still waiting for the refund, day {n}")
    api = api_client_for(org.agent)
    r = api.get(f"/api/v1/insight/cases/{case.ref}/scores", size=3)
    assert r.status_code == 200
    assert len(r.json()["items"]) == 3
    assert r.json()["has_next"] is True
    assert r.json()["items"][0]["source"] == "description"


def test_score_correct_endpoint(org, api_client_for):
    case = CaseFactory(team=org.team, description=CALM_TEXT)
    score = TextScore.objects.get(case=case)
    api = api_client_for(org.agent)
    r = api.post(f"/api/v1/insight/scores/{score.pk}/correct", {"labels": ["anger"], "upset": True})
    assert r.status_code == 200, r.json()
    assert r.json()["labels"] == ["anger"]
    assert r.json()["corrected"] is True
    bad = api.post(f"/api/v1/insight/scores/{score.pk}/correct", {"labels": ["bored"]})
    assert bad.status_code == 422
    hidden = api_client_for(org.outsider).post(
        f"/api/v1/insight/scores/{score.pk}/correct", {"upset": False}
    )
    assert hidden.status_code == 404
    huge = api.post("/api/v1/insight/scores/99999999999999999999/correct", {"upset": False})
    assert huge.status_code == 422
    score.refresh_from_db()
    assert score.corrected_upset is True


def test_triage_accept_without_suggestion_is_409(org, api_client_for):
    case = CaseFactory(team=org.team)
    r = api_client_for(org.agent).post(f"/api/v1/insight/cases/{case.ref}/triage/accept")
    assert r.status_code == 409
    assert r.json()["code"] == "no_suggestion"


def test_queue_sorts_by_priority_and_filters(org, api_client_for, django_assert_num_queries):
    calm = CaseFactory(team=org.team, description=CALM_TEXT)
    angry = CaseFactory(team=org.team, description=UPSET_TEXT)
    mild = CaseFactory(team=org.team, description="The bill was wrong and nobody replied.")
    CaseFactory(team=org.other_team, description=UPSET_TEXT)  # not visible to ann
    api = api_client_for(org.agent)
    r = api.get("/api/v1/insight/queue", flag="all")
    refs = [i["ref"] for i in r.json()["items"]]
    assert refs == [angry.ref, mild.ref, calm.ref]
    r = api.get("/api/v1/insight/queue", flag="churn")
    assert [i["ref"] for i in r.json()["items"]] == [angry.ref]
    assert api.get("/api/v1/insight/queue", flag="bogus").status_code == 422
    for _ in range(5):
        CaseFactory(team=org.team, description=UPSET_TEXT)
    # the token (with its user and profile) and one page: the same whatever the page holds
    with django_assert_num_queries(2):
        r = api.get("/api/v1/insight/queue", flag="upset", size=10)
    assert len(r.json()["items"]) == 7


def test_coaching_endpoint_shows_own_figures_to_agents(org, api_client_for):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    api = api_client_for(org.agent)
    api.post("/api/v1/insight/apology-check", {"draft": GOOD, "case": case.ref})
    api_client_for(org.supervisor).post(
        "/api/v1/insight/apology-check", {"draft": "Sorry for any inconvenience.", "case": case.ref}
    )
    mine = api.get("/api/v1/insight/coaching").json()
    assert mine == [{"username": "ann", "first_drafts": 1, "passed": 1, "pass_rate": 1.0}]
    team = api_client_for(org.supervisor).get("/api/v1/insight/coaching").json()
    assert {r["username"] for r in team} == {"ann", "sam"}
    bad = api.get(
        "/api/v1/insight/coaching", since="2026-02-01T00:00:00Z", until="2026-01-01T00:00:00Z"
    )
    assert bad.status_code == 422


def test_case_and_message_outputs_carry_insight(org, api_client_for):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    api = api_client_for(org.agent)
    data = api.get(f"/api/v1/cases/{case.ref}").json()
    assert data["insight"]["churn_intent"] is True
    assert data["insight"]["upset"] is True
    assert data["insight"]["triage"] is None
    added = api.post(
        f"/api/v1/cases/{case.ref}/messages",
        {"direction": "inbound", "body": "Still not fixed, I will switch provider."},
    )
    assert added.status_code == 201, added.json()
    assert added.json()["score"]["churn_intent"] is True
    api.post(f"/api/v1/cases/{case.ref}/messages", {"direction": "internal", "body": "note"})
    listed = api.get(f"/api/v1/cases/{case.ref}/messages").json()
    assert [m["score"] is not None for m in listed] == [True, False]
    assert {"signal": "churn_intent", "text": "switch provider"} in listed[0]["score"]["phrases"]


def test_case_output_carries_the_triage_prediction(
    org, api_client_for, triage_model_path, amends_overrides
):
    from amends.taxonomy.tests.factories import CategoryFactory

    amends_overrides(TRIAGE_MODEL=str(triage_model_path), TRIAGE_APPLY_THRESHOLD=1.01)
    CategoryFactory(name="Mortgage")
    case = CaseFactory(
        team=org.team,
        description="My mortgage servicer refused my escrow payment and started foreclosure.",
    )
    triage = api_client_for(org.agent).get(f"/api/v1/cases/{case.ref}").json()["insight"]["triage"]
    assert triage["label"] == "Mortgage"
    assert triage["category"] == "Mortgage"
    assert triage["applied"] is False
    assert 0 < triage["confidence"] <= 1
