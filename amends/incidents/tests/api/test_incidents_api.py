from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from amends.incidents.choices import RoundKind
from amends.incidents.eu261 import eu261_rules
from amends.incidents.models import Impact, Incident, NotificationRound, RecoveryPolicy
from amends.incidents.services.notify import round_run_to_end
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import IncidentFactory, customers_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(ops: Ops, api_client_for: Any) -> Any:
    return api_client_for(ops.analyst)


def test_post_incident_answers_201_with_id(ops: Ops, api: Any) -> None:
    response = api.post(
        "/api/v1/incidents",
        {
            "title": "AB123 delayed",
            "kind": "flight_delay",
            "magnitude": 200,
            "started_at": (timezone.now() - timedelta(hours=4)).isoformat(),
            "severity": 2,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert Incident.objects.get(pk=body["id"]).policy_id == ops.policy.pk
    assert body["policy_id"] == ops.policy.pk


@pytest.mark.parametrize(
    "changes",
    [
        {"magnitude": "1e999"},
        {"magnitude": -3},
        {"severity": 7},
        {"kind": "meteor"},
        {"title": "bad\u0000title"},
        {"started_at": "9999-12-31T00:00:00Z"},
        {"started_at": "not a date"},
    ],
)
def test_post_incident_bad_input_is_4xx_and_writes_nothing(
    ops: Ops, api: Any, changes: dict[str, Any]
) -> None:
    data = {
        "title": "x",
        "kind": "flight_delay",
        "magnitude": 5,
        "started_at": timezone.now().isoformat(),
        "severity": 2,
        **changes,
    }
    response = api.post("/api/v1/incidents", data)
    assert 400 <= response.status_code < 500, response.content
    assert Incident.objects.count() == 1


def test_affected_batch_counts_and_detail_counters(ops: Ops, api: Any) -> None:
    customers_make(3)
    payload = {
        "customers": [
            {"external_ref": "P-0", "name": "A", "email": "a@example.com", "distance_km": 800},
            {"external_ref": "P-1", "inputs": {"distance_km": 2000, "intra_eu": True}},
            {"external_ref": "P-404"},
        ]
    }
    first = api.post(f"/api/v1/incidents/{ops.incident.pk}/affected", payload).json()
    assert (first["added"], first["already"], first["rejected_count"]) == (2, 0, 1)
    assert first["rejected"][0]["code"] == "unknown_customer"
    again = api.post(f"/api/v1/incidents/{ops.incident.pk}/affected", payload).json()
    assert (again["added"], again["already"]) == (0, 2)
    assert Impact.objects.get(customer__external_ref="P-0").email == "a@example.com"
    detail = api.get(f"/api/v1/incidents/{ops.incident.pk}").json()
    counters = detail["counters"]
    assert counters["affected"] == 2
    assert counters["notified"] == 0
    assert counters["reserved"] == "780.00"  # 300 + 480 (vouchers)
    assert {"chose", "complained", "surveyed", "cost"} <= set(counters)


def test_affected_batch_over_ten_thousand_is_422(ops: Ops, api: Any) -> None:
    payload = {"customers": [{"external_ref": f"X{i}"} for i in range(10_001)]}
    response = api.post(f"/api/v1/incidents/{ops.incident.pk}/affected", payload)
    assert response.status_code == 422
    assert not Impact.objects.exists()


def test_notify_starts_a_round_and_progress_is_reported(ops: Ops, api: Any) -> None:
    customers_make(2)
    api.post(
        f"/api/v1/incidents/{ops.incident.pk}/affected",
        {"customers": [{"external_ref": "P-0"}, {"external_ref": "P-1"}]},
    )
    preview = api.post(f"/api/v1/incidents/{ops.incident.pk}/notify/preview", {}).json()
    assert "Passenger 0" in preview["body"]
    response = api.post(f"/api/v1/incidents/{ops.incident.pk}/notify", {"kind": "initial"})
    assert response.status_code == 202
    assert response.json()["total"] == 2
    round_run_to_end(notice=NotificationRound.objects.get())
    progress = api.get(f"/api/v1/incidents/{ops.incident.pk}/progress").json()
    assert (progress["done"], progress["status"]) == (2, "done")
    again = api.post(f"/api/v1/incidents/{ops.incident.pk}/notify", {"kind": RoundKind.INITIAL})
    assert again.status_code == 409


def test_dry_run_explains_what_a_customer_would_get(ops: Ops, api: Any) -> None:
    response = api.post(
        f"/api/v1/incidents/{ops.incident.pk}/dry-run",
        {"inputs": {"distance_km": 4000, "intra_eu": False}, "magnitude": 250},
    )
    body = response.json()
    given = [
        (ln["remedy"], ln["amount"], ln["status"])
        for ln in body["lines"]
        if ln["status"] != "not_applicable"
    ]
    assert ("compensation", "600.00", "option") in given
    assert ("meals", None, "owed") in given
    assert body["policy_id"] == ops.policy.pk
    assert not Impact.objects.exists()


def test_policy_crud_versions_and_refuses_conflicts(ops: Ops, api_client_for: Any) -> None:
    api = api_client_for(ops.owner)
    data = {"kind": "flight_delay", "name": "EU261", "owner": "olga", "rules": eu261_rules()}
    created = api.post("/api/v1/recovery-policies", data)
    assert created.status_code == 201, created.content
    assert created.json()["version"] == ops.policy.version + 1
    conflict = {**data, "rules": [*eu261_rules(), {"code": "x", "remedy": "hotel", "when": []}]}
    refused = api.post("/api/v1/recovery-policies", conflict)
    assert refused.status_code == 422
    assert refused.json()["code"] == "policy_conflict"
    assert "'hotel' and 'x' overlap" in refused.json()["message"]
    listed = api.get("/api/v1/recovery-policies").json()
    assert [p["version"] for p in listed] == [2, 1]
    dry = api.post(
        f"/api/v1/recovery-policies/{created.json()['id']}/dry-run",
        {"magnitude": 200, "inputs": {"distance_km": 500}},
    ).json()
    assert dry["lines"][0]["amount"] == "250.00"
    off = api.post(f"/api/v1/recovery-policies/{created.json()['id']}/deactivate")
    assert off.json()["active"] is False
    assert not RecoveryPolicy.objects.filter(active=True).exists()


def test_incident_list_is_paginated_with_pinned_queries(
    ops: Ops, api: Any, django_assert_num_queries: Any
) -> None:
    for _ in range(5):
        IncidentFactory(policy=ops.policy)
    api.get("/api/v1/incidents")  # warm the token lookup caches
    with django_assert_num_queries(2) as ctx:
        response = api.get("/api/v1/incidents", size=3)
    body = response.json()
    assert "incidents_incident" in ctx.captured_queries[-1]["sql"]
    assert len(body["items"]) == 3
    assert body["has_next"] is True


def test_close_through_the_api(ops: Ops, api: Any) -> None:
    from amends.taxonomy.models import RootCause

    cause = RootCause.objects.create(name="Crew")
    response = api.post(
        f"/api/v1/incidents/{ops.incident.pk}/close",
        {
            "root_cause_id": cause.pk,
            "prevention": "Standby crew",
            "prevention_owner": "olga",
            "prevention_due_at": (timezone.now() + timedelta(days=10)).isoformat(),
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert response.json()["problem_id"] is not None
    closed = api.post(f"/api/v1/incidents/{ops.incident.pk}/notify", {"kind": "update"})
    assert closed.status_code == 409
    assert closed.json()["code"] == "incident_closed"


def test_agents_may_read_but_not_declare(ops: Ops, api_client_for: Any) -> None:
    api = api_client_for(ops.agent)
    assert api.get(f"/api/v1/incidents/{ops.incident.pk}").status_code == 200
    response = api.post(
        "/api/v1/incidents",
        {
            "title": "x",
            "kind": "flight_delay",
            "magnitude": 1,
            "started_at": timezone.now().isoformat(),
            "severity": 3,
        },
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path", ["/api/v1/incidents/99999999999999999999999", "/api/v1/incidents/0"]
)
def test_absurd_ids_are_4xx(ops: Ops, api: Any, path: str) -> None:
    assert 400 <= api.get(path).status_code < 500


def test_nul_in_a_notice_is_refused(ops: Ops, api: Any) -> None:
    response = api.post(
        f"/api/v1/incidents/{ops.incident.pk}/notify", {"kind": "initial", "body": "a\u0000b"}
    )
    assert response.status_code == 422
    assert not NotificationRound.objects.exists()


def test_incident_detail_counters_and_rounds_without_a_query_per_round(
    ops: Ops, api: Any, django_assert_max_num_queries: Any
) -> None:
    from amends.incidents.choices import IncidentStatus
    from amends.incidents.services.incidents import incident_status_set
    from amends.incidents.services.notify import round_start

    customers = customers_make(3)
    api.post(
        f"/api/v1/incidents/{ops.incident.pk}/affected",
        {"customers": [{"external_ref": c.external_ref} for c in customers]},
    )
    path = f"/api/v1/incidents/{ops.incident.pk}"
    round_run_to_end(
        notice=round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    )
    api.get(path)
    with django_assert_max_num_queries(10) as one_round:
        api.get(path)
    round_run_to_end(
        notice=round_start(incident=ops.incident, kind=RoundKind.UPDATE, actor=ops.analyst)
    )
    incident_status_set(incident=ops.incident, status=IncidentStatus.RESOLVED, actor=ops.analyst)
    round_start(incident=ops.incident, kind=RoundKind.RESOLVED, actor=ops.analyst)
    with django_assert_max_num_queries(len(one_round.captured_queries)):
        body = api.get(path).json()
    assert [r["kind"] for r in body["rounds"]] == ["initial", "update", "resolved"]
    assert [r["done"] for r in body["rounds"]] == [3, 3, 0]
    assert body["counters"]["affected"] == 3
    assert body["counters"]["notified"] == 3
