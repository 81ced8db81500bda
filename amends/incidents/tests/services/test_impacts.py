from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Notification
from amends.core import hooks
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.testing import hook_recorded
from amends.customers.models import Customer
from amends.incidents.choices import IncidentStatus
from amends.incidents.models import Impact, Incident
from amends.incidents.services.impacts import (
    AffectedRow,
    impacts_add,
    incident_dry_run,
    incident_link_cases,
)
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import IncidentFactory, customers_make, eu261_policy
from amends.taxonomy.models import RootCause

pytestmark = pytest.mark.django_db


def _rows(customers: list[Customer], **inputs: object) -> list[AffectedRow]:
    return [AffectedRow(external_ref=c.external_ref or "", inputs=dict(inputs)) for c in customers]


def test_impacts_add_same_ten_thousand_twice_gives_ten_thousand_impacts(ops: Ops) -> None:
    customers = customers_make(10_000)
    rows = _rows(customers, distance_km=800, intra_eu=True)
    first = impacts_add(incident=ops.incident, rows=rows, actor=ops.analyst)
    second = impacts_add(incident=ops.incident, rows=rows, actor=ops.analyst)
    assert (first.added, first.already, first.rejected) == (10_000, 0, [])
    assert (second.added, second.already, second.rejected) == (0, 10_000, [])
    assert Impact.objects.filter(incident=ops.incident).count() == 10_000
    ops.incident.refresh_from_db()
    # 250 EUR or a 300 EUR voucher each: the dearest option is reserved, once.
    assert ops.incident.budget_reserved == Decimal("3000000.00")


def test_impacts_add_records_the_policy_version_and_the_outcome_line_by_line(ops: Ops) -> None:
    [customer] = customers_make(1)
    impacts_add(
        incident=ops.incident,
        rows=[
            AffectedRow(
                external_ref="P-0",
                magnitude=Decimal("250"),
                inputs={"distance_km": "4000", "intra_eu": "false"},
            )
        ],
        actor=ops.analyst,
    )
    impact = Impact.objects.get(customer=customer)
    assert impact.policy == ops.policy
    assert impact.inputs["magnitude"] == 250.0
    assert impact.inputs["distance_km"] == 4000
    given = {
        (line["remedy"], line["amount"])
        for line in impact.lines
        if line["status"] != "not_applicable"
    }
    assert given == {("compensation", "600.00"), ("voucher", "720.00"), ("meals", None)}
    assert impact.email == customer.email


def test_impacts_add_rejects_unknown_and_bad_rows_and_adds_the_rest(ops: Ops) -> None:
    customers_make(2)
    result = impacts_add(
        incident=ops.incident,
        rows=[
            AffectedRow(external_ref="P-0"),
            AffectedRow(external_ref="NOPE-1"),
            AffectedRow(external_ref="P-1", email="not an address"),
            AffectedRow(external_ref="P-1", inputs={"Bad Key": 1}),
            AffectedRow(external_ref="bad\x00ref"),
            AffectedRow(external_ref="P-1", magnitude="1e99"),
            AffectedRow(external_ref="P-1"),
        ],
        actor=ops.analyst,
    )
    assert result.added == 2
    codes = sorted((r["row"], r["code"]) for r in result.rejected)
    assert codes == [
        (1, "unknown_customer"),
        (2, "invalid_email"),
        (3, "invalid_inputs"),
        (4, "invalid_ref"),
        (5, "invalid_magnitude"),
    ]


def test_impacts_add_creates_missing_customers_only_when_asked(ops: Ops) -> None:
    row = AffectedRow(external_ref="NEW-1", name="Nia New", email="nia@example.com")
    refused = impacts_add(incident=ops.incident, rows=[row], actor=ops.analyst)
    assert refused.added == 0
    assert refused.rejected[0]["code"] == "unknown_customer"
    created = impacts_add(incident=ops.incident, rows=[row], actor=ops.analyst, create_missing=True)
    assert (created.added, created.created_customers) == (1, 1)
    assert Customer.objects.get(external_ref="NEW-1").email == "nia@example.com"


def test_impacts_add_emits_incident_impacted_with_the_new_customers(ops: Ops) -> None:
    customers = customers_make(3)
    with hook_recorded(hooks.incident_impacted) as seen:
        impacts_add(incident=ops.incident, rows=_rows(customers[:2]), actor=ops.analyst)
        impacts_add(incident=ops.incident, rows=_rows(customers), actor=ops.analyst)
    assert [sorted(p.customer_ids) for p in seen] == [
        sorted(c.pk for c in customers[:2]),
        [customers[2].pk],
    ]


def test_impacts_add_refused_on_a_closed_incident(ops: Ops) -> None:
    customers_make(1)
    Incident.objects.filter(pk=ops.incident.pk).update(
        status=IncidentStatus.CLOSED,
        root_cause=RootCause.objects.create(name="Crew shortage"),
        closed_at=timezone.now(),
    )
    with pytest.raises(ApplicationError) as err:
        impacts_add(
            incident=ops.incident, rows=[AffectedRow(external_ref="P-0")], actor=ops.analyst
        )
    assert err.value.code == "incident_closed"
    assert not Impact.objects.exists()


def test_impacts_add_refused_to_agents(ops: Ops) -> None:
    customers_make(1)
    with pytest.raises(PermissionDeniedError):
        impacts_add(incident=ops.incident, rows=[AffectedRow(external_ref="P-0")], actor=ops.agent)


def test_impacts_add_over_ten_thousand_is_refused_whole(ops: Ops) -> None:
    rows = [AffectedRow(external_ref=f"X-{i}") for i in range(10_001)]
    with pytest.raises(ApplicationError) as err:
        impacts_add(incident=ops.incident, rows=rows, actor=ops.analyst)
    assert err.value.status == 413


def test_budget_cap_reached_leaves_out_options_and_tells_the_owner_once(ops: Ops) -> None:
    policy = eu261_policy(owner=ops.owner, budget_cap=Decimal("700.00"))
    incident = IncidentFactory(policy=policy, kind=policy.kind)
    customers = customers_make(4)
    result = impacts_add(
        incident=incident, rows=_rows(customers, distance_km=800, intra_eu=True), actor=ops.analyst
    )
    assert result.added == 4
    impacts = list(Impact.objects.filter(incident=incident).order_by("id"))
    # 300 + 300 reserved (voucher), then 100 left: nothing fits for the last two.
    assert [i.reserved for i in impacts] == [Decimal("300.00"), Decimal("300.00"), 0, 0]
    assert [i.over_budget for i in impacts] == [False, False, True, True]
    third = {(line["remedy"], line["status"]) for line in impacts[2].lines}
    assert ("compensation", "over_budget") in third
    assert ("meals", "owed") in third
    incident.refresh_from_db()
    assert incident.budget_reserved == Decimal("600.00")
    assert incident.budget_reached_at is not None
    assert (
        Notification.objects.filter(recipient=ops.owner, kind="incident_budget_reached").count()
        == 1
    )
    more = customers_make(1, prefix="Q")
    impacts_add(incident=incident, rows=_rows(more, distance_km=800), actor=ops.analyst)
    assert Notification.objects.filter(recipient=ops.owner).count() == 1


def test_incident_link_cases_links_an_earlier_complaint_without_a_new_case(ops: Ops) -> None:
    case = CaseFactory(team=ops.team)
    result = incident_link_cases(
        incident=ops.incident, case_ids=[case.pk, 999_999], actor=ops.analyst
    )
    assert (result.linked, len(result.rejected)) == (1, 1)
    impact = Impact.objects.get(incident=ops.incident)
    assert impact.case == case
    assert impact.complained_at is not None
    assert case.events.filter(kind="incident_linked").exists()
    # Adding the same customer through a batch afterwards changes nothing.
    again = (
        impacts_add(
            incident=ops.incident,
            rows=[AffectedRow(external_ref=case.customer.external_ref or "")],
            actor=ops.analyst,
        )
        if case.customer.external_ref
        else None
    )
    if again is not None:
        assert again.already == 1
    assert Impact.objects.filter(incident=ops.incident).count() == 1


def test_incident_dry_run_explains_without_writing(ops: Ops) -> None:
    policy, lines = incident_dry_run(
        incident=ops.incident,
        tier="standard",
        magnitude=None,
        inputs={"distance_km": 2000, "intra_eu": True},
    )
    assert policy == ops.policy
    option = next(
        line
        for line in lines
        if line.rule == "compensation_medium_eu" and line.remedy == "compensation"
    )
    assert option.amount == "400.00"
    assert option.status == "option"
    assert not Impact.objects.exists()


def test_impacts_add_customers_sharing_inputs_get_their_own_outcome_when_one_input_differs(
    ops: Ops,
) -> None:
    # Given four passengers on one flight: the same distance, but one with their own shorter
    # delay, one re-routed within 2 hours, one VIP (tier) and one plain
    customers = customers_make(4)
    Customer.objects.filter(pk=customers[2].pk).update(tier="vip")
    rows = [
        AffectedRow("P-0", inputs={"distance_km": 800}),
        AffectedRow("P-1", inputs={"distance_km": 800}, magnitude=Decimal("150")),
        AffectedRow("P-2", inputs={"distance_km": 800}),
        AffectedRow("P-3", inputs={"distance_km": 800, "reroute_delay_minutes": 100}),
    ]
    # When they are added in one batch
    result = impacts_add(incident=ops.incident, rows=rows, actor=ops.analyst)
    assert result.added == 4

    # Then each outcome follows the passenger's own inputs, reasons included
    def compensation(ref: str) -> list[str | None]:
        impact = Impact.objects.get(customer__external_ref=ref)
        return [line["amount"] for line in impact.lines if line["remedy"] == "compensation"]

    assert compensation("P-0") == ["250.00"]
    assert compensation("P-1") == []  # 150 minutes: under 3 hours, no compensation
    assert compensation("P-2") == ["250.00"]
    assert compensation("P-3") == ["125.00"]  # halved
    vip = Impact.objects.get(customer__external_ref="P-2")
    assert vip.inputs["tier"] == "vip"
    assert Impact.objects.get(customer__external_ref="P-0").inputs["tier"] != "vip"
    halved = Impact.objects.get(customer__external_ref="P-3").lines[0]["why"]
    assert any("reroute_delay_minutes" in why for why in halved)
