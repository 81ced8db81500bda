from __future__ import annotations

import random

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.channels.models import OutboundEmail
from amends.demo.services.incidents import demo_incident_build
from amends.incidents.models import Impact, Incident, NotificationRound
from amends.incidents.services.counters import incident_funnel_recount
from amends.remedies.models import Remedy

pytestmark = pytest.mark.django_db


def test_seed_demo_has_a_flight_delay_under_eu261_with_a_round_sent_and_choices_made() -> None:
    # Given the demo's manager and supervisor (demo_build makes them with the rest)
    team = TeamFactory(name="Travel recovery")
    users = {
        "morgan": UserFactory(username="morgan", role=Role.MANAGER, team=team),
        "sky": UserFactory(username="sky", role=Role.SUPERVISOR, team=team),
    }
    made = demo_incident_build(rng=random.Random(3), now=timezone.now(), users=users)
    incident = Incident.objects.select_related("kind", "policy").get(pk=made["incident"])
    # A flight delay declared under the EU 261 policy, every passenger evaluated with inputs
    assert incident.kind.code == "flight_delay"
    assert incident.policy is not None
    assert incident.policy.name == "EU 261/2004"
    impacts = list(Impact.objects.filter(incident=incident).select_related("customer"))
    assert len({i.customer.name.split()[0] for i in impacts}) == 30  # varied names
    assert len(impacts) == made["affected"] == 30
    assert {i.inputs["distance_km"] for i in impacts} == {1450, 2320, 6640}
    amounts = {
        line["amount"] for i in impacts for line in i.lines if line["remedy"] == "compensation"
    }
    # the three bands, and a halved short-haul amount for a passenger re-routed within 2 hours
    assert {"250.00", "400.00", "600.00", "125.00"} <= amounts
    assert any(line["remedy"] == "hotel" for i in impacts for line in i.lines)
    # The first notice went to every passenger, once each
    [notice] = NotificationRound.objects.filter(incident=incident)
    assert (notice.status, notice.sent) == ("done", 30)
    assert OutboundEmail.objects.filter(kind="incident_notice").count() == 30
    # Some opened their link, a few chose in the portal: the funnel shows it
    chosen = [i for i in impacts if i.chose_at is not None]
    assert len(chosen) == made["chose"] > 0
    assert all(i.case_id is not None for i in chosen)
    assert Remedy.objects.filter(
        case_id__in=[i.case_id for i in chosen], kind__code="voucher"
    ).exists()
    assert Remedy.objects.filter(
        case_id__in=[i.case_id for i in chosen], kind__code="compensation"
    ).exists()
    incident.refresh_from_db()
    counters = (
        incident.affected_count,
        incident.notified_count,
        incident.opened_count,
        incident.chose_count,
    )
    assert counters == (30, 30, made["opened"], len(chosen))
    # and the counters agree with the rows
    recounted = incident_funnel_recount(incident=incident)
    assert (recounted.opened_count, recounted.chose_count) == counters[2:]
