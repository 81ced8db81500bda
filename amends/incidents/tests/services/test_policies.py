from __future__ import annotations

from decimal import Decimal

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.incidents.eu261 import eu261_rules
from amends.incidents.models import Impact, RecoveryPolicy
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.services.policies import policy_create
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import IncidentFactory, customers_make, incident_kind

pytestmark = pytest.mark.django_db


def test_policy_create_versions_and_keeps_old_impacts_on_their_version(ops: Ops) -> None:
    customers_make(2)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow("P-0", inputs={"distance_km": 800})],
        actor=ops.analyst,
    )
    rules = eu261_rules()
    rules[0]["amount"] = "300.00"  # a more generous short-haul compensation
    v2 = policy_create(
        kind=incident_kind("flight_delay"),
        name="EU261 plus",
        rules=rules,
        owner=ops.owner,
        actor=ops.owner,
    )
    assert v2.version == ops.policy.version + 1
    assert RecoveryPolicy.objects.get(pk=ops.policy.pk).active is False
    later = IncidentFactory(policy=v2, kind=v2.kind)
    impacts_add(
        incident=later, rows=[AffectedRow("P-1", inputs={"distance_km": 800})], actor=ops.analyst
    )
    old = Impact.objects.get(incident=ops.incident)
    new = Impact.objects.get(incident=later)
    assert (old.policy_id, new.policy_id) == (ops.policy.pk, v2.pk)
    assert old.lines[0]["amount"] == "250.00"
    assert new.lines[0]["amount"] == "300.00"


def test_policy_create_names_the_conflict(ops: Ops) -> None:
    rules = eu261_rules()
    rules.append(
        {
            "code": "extra",
            "remedy": "compensation",
            "amount": "100",
            "when": [["magnitude", ">=", 500]],
        }
    )
    with pytest.raises(ApplicationError) as err:
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=rules,
            owner=ops.owner,
            actor=ops.owner,
        )
    assert err.value.code == "policy_conflict"
    assert any("'compensation_short' and 'extra' overlap" in p for p in err.value.detail["rules"])
    assert RecoveryPolicy.objects.count() == 1


def test_policy_create_needs_the_owners_authority_for_every_remedy(ops: Ops) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=ops.team)  # no authority rows
    with pytest.raises(ApplicationError) as err:
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=eu261_rules(),
            owner=supervisor,
            actor=ops.owner,
        )
    assert any("may not grant Compensation" in p for p in err.value.detail["rules"])


def test_policy_create_refuses_amounts_above_the_owners_limit(ops: Ops) -> None:
    rules = eu261_rules()
    rules[4]["amount"] = "900.00"  # the long-haul band; its voucher would be 1080.00
    with pytest.raises(ApplicationError) as err:
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=rules,
            owner=ops.owner,
            actor=ops.owner,
        )
    assert any("up to 1000.00" in p for p in err.value.detail["rules"])


def test_policy_create_refuses_unknown_remedy_kinds_and_agents(ops: Ops) -> None:
    bad = [{"code": "a", "remedy": "teleport", "amount": "5"}]
    with pytest.raises(ApplicationError) as err:
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=bad,
            owner=ops.owner,
            actor=ops.owner,
        )
    assert "Unknown remedy kind 'teleport'." in err.value.detail["rules"]
    with pytest.raises(PermissionDeniedError):
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=eu261_rules(),
            owner=ops.owner,
            actor=ops.agent,
        )


def test_policy_create_checks_the_budget_cap(ops: Ops) -> None:
    with pytest.raises(ApplicationError):
        policy_create(
            kind=incident_kind("flight_delay"),
            name="x",
            rules=eu261_rules(),
            owner=ops.owner,
            actor=ops.owner,
            budget_cap=Decimal("-1"),
        )
