"""Idempotency-Key on the incidents API's POSTs: a retried request has one effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from amends.incidents.choices import IncidentEventKind
from amends.incidents.models import Impact, Incident, IncidentEvent, NotificationRound
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make

pytestmark = pytest.mark.django_db


def _post(api: Any, path: str, data: dict[str, Any], key: str) -> Any:
    return api.client.post(path, data, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def test_declaring_twice_with_one_key_declares_once(ops: Ops, api_client_for: Any) -> None:
    api = api_client_for(ops.analyst)
    data = {
        "title": "AB77 Porto-Nice delayed",
        "kind": "flight_delay",
        "magnitude": 240,
        "started_at": (timezone.now() - timedelta(hours=5)).isoformat(),
        "severity": 2,
    }
    first = _post(api, "/api/v1/incidents", data, "declare-ab77")
    again = _post(api, "/api/v1/incidents", data, "declare-ab77")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.filter(title="AB77 Porto-Nice delayed").count() == 1
    # A new key is a new incident
    other = _post(api, "/api/v1/incidents", data, "declare-ab77-bis")
    assert other.status_code == 201
    assert other.json()["id"] != first.json()["id"]


def test_adding_a_batch_twice_with_one_key_adds_once_and_replays_the_counts(
    ops: Ops, api_client_for: Any
) -> None:
    api = api_client_for(ops.analyst)
    customers = customers_make(5)
    path = f"/api/v1/incidents/{ops.incident.pk}/affected"
    data = {
        "customers": [
            {"external_ref": c.external_ref, "distance_km": 900, "intra_eu": True}
            for c in customers
        ]
        + [{"external_ref": "NOBODY"}]
    }
    first = _post(api, path, data, "batch-1")
    again = _post(api, path, data, "batch-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["added"] == 5
    assert first.json()["rejected_count"] == 1
    assert again.json() == first.json()  # the first answer, not "already there 5"
    assert again["Idempotent-Replayed"] == "true"
    assert Impact.objects.filter(incident=ops.incident).count() == 5
    assert (
        IncidentEvent.objects.filter(
            incident=ops.incident, kind=IncidentEventKind.AFFECTED_ADDED
        ).count()
        == 1
    )
    ops.incident.refresh_from_db()
    assert ops.incident.affected_count == 5


def test_starting_a_round_twice_with_one_key_starts_one_round(
    ops: Ops, api_client_for: Any
) -> None:
    api = api_client_for(ops.analyst)
    [customer] = customers_make(1)
    _post(
        api,
        f"/api/v1/incidents/{ops.incident.pk}/affected",
        {"customers": [{"external_ref": customer.external_ref}]},
        "add-one",
    )
    path = f"/api/v1/incidents/{ops.incident.pk}/notify"
    first = _post(api, path, {"kind": "initial"}, "notify-1")
    again = _post(api, path, {"kind": "initial"}, "notify-1")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert NotificationRound.objects.filter(incident=ops.incident).count() == 1
    assert (
        IncidentEvent.objects.filter(
            incident=ops.incident, kind=IncidentEventKind.ROUND_STARTED
        ).count()
        == 1
    )
    # Without the key the same request is a second attempt, refused: the round exists
    retry = api.post(path, {"kind": "initial"})
    assert retry.status_code == 409
    assert NotificationRound.objects.filter(incident=ops.incident).count() == 1


def test_the_same_key_on_another_incident_is_refused(ops: Ops, api_client_for: Any) -> None:
    from amends.incidents.tests.factories import IncidentFactory

    api = api_client_for(ops.analyst)
    [customer] = customers_make(1)
    other = IncidentFactory(policy=ops.policy, created_by=ops.analyst)
    body = {"customers": [{"external_ref": customer.external_ref}]}
    assert _post(api, f"/api/v1/incidents/{ops.incident.pk}/affected", body, "k").status_code == 200
    reused = _post(api, f"/api/v1/incidents/{other.pk}/affected", body, "k")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert not Impact.objects.filter(incident=other).exists()
