from __future__ import annotations

from decimal import Decimal

import pytest

from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory
from amends.core.exceptions import ApplicationError
from amends.incidents.models import Impact
from amends.incidents.selectors import incident_funnel
from amends.incidents.services.impacts import AffectedRow, impacts_add, incident_link_cases
from amends.incidents.services.links import impact_for_token, impact_open, impact_token
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make
from amends.remedies.choices import MenuStatus, RemedyStatus
from amends.remedies.models import ChoiceMenu, Remedy

pytestmark = pytest.mark.django_db


def _impact(ops: Ops, **inputs: object) -> Impact:
    [customer] = customers_make(1)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(customer.external_ref or "", inputs=dict(inputs))],
        actor=ops.analyst,
    )
    return Impact.objects.get(customer=customer)


def test_impact_open_opens_the_case_with_menu_and_care_once(ops: Ops) -> None:
    impact = _impact(ops, distance_km=800, intra_eu=True, overnight=True)
    url = impact_open(impact=impact_for_token(impact_token(impact_id=impact.pk)))
    again = impact_open(impact=impact)
    impact.refresh_from_db()
    assert impact.case is not None
    assert impact.case.channel == "import"
    assert "/c/" in url
    assert again.split("/c/")[0] == url.split("/c/")[0]
    menu = ChoiceMenu.objects.get(case=impact.case)
    assert impact.menu_id == menu.pk
    assert menu.status == MenuStatus.OPEN
    assert menu.created_by == ops.owner
    options = sorted((r.kind.code, str(r.amount)) for r in menu.options.all())
    assert options == [("compensation", "250.00"), ("voucher", "300.00")]
    care = Remedy.objects.filter(case=impact.case, menu__isnull=True)
    assert sorted(r.kind.code for r in care) == ["hotel", "meals"]
    assert {r.status for r in care} == {RemedyStatus.GRANTED}
    assert impact.opened_at is not None
    funnel = incident_funnel(incident=ops.incident)
    assert funnel.opened == 1
    assert funnel.cost == Decimal("0.00")  # care carries no amount; nothing chosen yet


def test_impact_open_uses_the_complaint_already_linked(ops: Ops) -> None:
    case = CaseFactory(team=ops.team)
    incident_link_cases(incident=ops.incident, case_ids=[case.pk], actor=ops.analyst)
    impact = Impact.objects.get()
    impact_open(impact=impact)
    impact.refresh_from_db()
    assert impact.case_id == case.pk
    assert Case.objects.count() == 1  # no second case for the same complaint


@pytest.mark.parametrize("token", ["", "x" * 500, "12", "12:forged", "a\x00b"])
def test_forged_or_mangled_links_are_refused(ops: Ops, token: str) -> None:
    with pytest.raises(ApplicationError) as err:
        impact_for_token(token)
    assert err.value.status == 404
