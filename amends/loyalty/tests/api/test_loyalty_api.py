from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.core import hooks
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CustomerRisk, LoyaltyEvent
from amends.loyalty.services.risk import customer_risk_refresh
from amends.loyalty.tests.factories import queued_facts_refresh

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 10, tzinfo=UTC)


@pytest.fixture
def manager_api(api_client_for):
    return api_client_for(UserFactory(role=Role.MANAGER))


def test_overview_endpoint_returns_weeks_and_csv(manager_api) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory()
        queued_facts_refresh()
        # feedback's survey answer, as its hook carries it (with the three fairness answers)
        hooks.survey_answered.emit(
            hooks.SurveyAnswered(
                survey_id=1,
                case_id=case.pk,
                customer_id=case.customer_id,
                csat=4,
                nps=None,
                would_use_again=None,
                promises_kept=None,
                fair_outcome=3,
                fair_process=5,
                fair_treatment=4,
            )
        )
        response = manager_api.get(
            "/api/v1/analytics/overview", since="2026-03-09", until="2026-03-15"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["retention_cost"] == "0.00"  # no win-back offer accepted in the period
        assert body["weeks"] == [
            {
                "week": "2026-03-09",
                "opened": 1,
                "resolved": 0,
                "sla_pct": None,
                "promises_kept_pct": None,
                "cost": "0.00",
                "csat_avg": 4.0,
                "csat_count": 1,
                "fair_outcome_avg": 3.0,
                "fair_outcome_count": 1,
                "fair_process_avg": 5.0,
                "fair_process_count": 1,
                "fair_treatment_avg": 4.0,
                "fair_treatment_count": 1,
            }
        ]
        csv = manager_api.get(
            "/api/v1/analytics/overview", since="2026-03-09", until="2026-03-15", format="csv"
        )
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[1].startswith("2026-03-09,1,0,")
    assert csv.content.decode().splitlines()[1].endswith(",3.0,1,5.0,1,4.0,1")


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-03-10", "until": "2026-03-01"},
        {"since": "1800-01-01"},
        {"until": "9999-12-31"},
        {"team": "99999999999999999999999"},
        {"since": "not-a-date"},
        {"format": "xml"},
    ],
)
def test_analytics_endpoints_refuse_bad_filters_with_422(manager_api, params) -> None:
    for path in ("overview", "operations", "mtbf", "paradox"):
        response = manager_api.get(f"/api/v1/analytics/{path}", **params)
        assert response.status_code == 422, (path, params, response.content)
        assert response.json()["code"] in ("invalid_input", "invalid_period")


def test_analytics_endpoints_refuse_agents(api_client_for) -> None:
    agent_api = api_client_for(UserFactory(role=Role.AGENT))
    for path in ("overview", "operations", "mtbf", "paradox", "at-risk", "cases"):
        assert agent_api.get(f"/api/v1/analytics/{path}").status_code == 403


def test_operations_mtbf_and_paradox_endpoints_answer_json_and_csv(manager_api) -> None:
    with time_machine.travel(NOW, tick=False):
        case_in_status(CaseStatus.RESOLVED, actor=UserFactory(role=Role.MANAGER))
        for path, header in (
            ("operations", "root_cause,service,category,failures"),
            ("mtbf", "service,category,failures"),
            ("paradox", "split,group,count,small"),
        ):
            response = manager_api.get(f"/api/v1/analytics/{path}")
            assert response.status_code == 200, response.content
            csv = manager_api.get(f"/api/v1/analytics/{path}", format="csv")
            assert csv.content.decode().startswith(header)
        paradox = manager_api.get("/api/v1/analytics/paradox", retention_days=30).json()
    assert paradox["recovered"]["count"] == 1
    assert paradox["retention_days"] == 30


def test_at_risk_endpoint_sorts_by_score_then_value(manager_api, django_assert_num_queries) -> None:
    low, high, vip = CustomerFactory(), CustomerFactory(), CustomerFactory(tier="vip")
    for customer, churn in ((low, False), (high, True), (vip, True)):
        CaseFactory(customer=customer)
        CaseFactory(customer=customer)
        queued_facts_refresh()
        customer_risk_refresh(
            customer_id=customer.pk, last_churn_intent_at=timezone.now() if churn else None
        )
    CustomerRisk.objects.filter(customer=low).update(status="at_risk", score=50)
    with django_assert_num_queries(3):  # token, staff profile, one page (no per-row queries)
        response = manager_api.get("/api/v1/analytics/at-risk")
    items = response.json()["items"]
    assert [i["customer_id"] for i in items] == [vip.pk, high.pk, low.pk]
    assert items[0]["factors"][0]["factor"] == "churn_intent"


def test_drill_down_lists_the_cases_behind_a_figure(api_client_for) -> None:
    team, other = TeamFactory(), TeamFactory()
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    with time_machine.travel(NOW, tick=False):
        mine = CaseFactory(team=team)
        CaseFactory(team=other)
        queued_facts_refresh()
        response = api_client_for(supervisor).get(
            "/api/v1/analytics/cases", metric="opened", since="2026-03-01"
        )
    assert response.status_code == 200, response.content
    assert [c["ref"] for c in response.json()["items"]] == [mine.ref]


def test_status_endpoint_marks_lost_with_reason_and_audits(manager_api) -> None:
    customer = CustomerFactory()
    response = manager_api.post(
        f"/api/v1/loyalty/customers/{customer.pk}/status",
        {"status": "lost", "reason": "Moved to a competitor"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["loyalty_status"] == "lost"
    event = LoyaltyEvent.objects.get(customer=customer)
    assert event.data == {"from": "active", "to": "lost", "reason": "Moved to a competitor"}
    again = manager_api.post(
        f"/api/v1/loyalty/customers/{customer.pk}/status", {"status": "at_risk", "reason": "x"}
    )
    assert again.status_code == 409
    assert (
        manager_api.post(
            "/api/v1/loyalty/customers/987654321/status", {"status": "lost", "reason": "x"}
        ).status_code
        == 404
    )


def test_customer_api_shows_risk_score_and_loyalty_status(manager_api) -> None:
    customer = CustomerFactory()
    CaseFactory(customer=customer)
    queued_facts_refresh()
    body = manager_api.get(f"/api/v1/customers/{customer.pk}").json()
    assert body["loyalty_status"] == "active"
    assert body["risk_score"] == 10


def test_campaign_endpoints_are_for_supervisors_and_above(api_client_for) -> None:
    """Agents are refused every campaign operation (the web pages already refused them)."""
    from decimal import Decimal

    from amends.loyalty.models import Campaign, CampaignTarget
    from amends.loyalty.services.status import loyalty_status_change
    from amends.remedies.tests.factories import AuthorityRuleFactory, kind

    refund = kind("refund")
    for role in (Role.AGENT, Role.MANAGER):
        AuthorityRuleFactory(role=role, kind=refund, max_per_remedy=Decimal("50"))
    manager = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory(email="gone@example.com")
    loyalty_status_change(customer=customer, status="lost", reason="Price", actor=manager)
    body = {
        "name": "Win back",
        "remedy_kind": "refund",
        "amount": "20.00",
        "currency": "USD",
        "budget": "100",
        "subject": "We miss you",
        "body": "Here is 20 off.",
    }
    agent_api = api_client_for(UserFactory(role=Role.AGENT, team=TeamFactory()))
    assert agent_api.post("/api/v1/loyalty/campaigns", body).status_code == 403
    assert not Campaign.objects.exists()
    created = api_client_for(manager).post("/api/v1/loyalty/campaigns", body)
    assert created.status_code == 201, created.content
    base = f"/api/v1/loyalty/campaigns/{created.json()['id']}"
    assert agent_api.get(base).status_code == 403
    assert agent_api.post(f"{base}/launch").status_code == 403
    target = agent_api.post(f"{base}/customers/{customer.pk}", {"action": "accept"})
    assert target.status_code == 403
    campaign = Campaign.objects.get()
    assert campaign.launched_at is None
    assert CampaignTarget.objects.get(campaign=campaign).accepted_at is None
    supervisor_api = api_client_for(UserFactory(role=Role.SUPERVISOR, team=TeamFactory()))
    assert supervisor_api.get(base).status_code == 200


def test_ids_beyond_the_database_range_are_422_not_500(manager_api) -> None:
    huge = 8434903853051687143195335530119168
    for method, path in (
        ("get", f"/api/v1/loyalty/customers/{huge}/risk"),
        ("post", f"/api/v1/loyalty/customers/{huge}/status"),
        ("get", f"/api/v1/loyalty/campaigns/{huge}"),
        ("post", f"/api/v1/loyalty/campaigns/{huge}/launch"),
        ("post", f"/api/v1/loyalty/campaigns/1/customers/{huge}"),
    ):
        body = {"status": "lost", "reason": "x", "action": "accept"}
        response = manager_api.get(path) if method == "get" else manager_api.post(path, body)
        assert response.status_code == 422, (path, response.content)
