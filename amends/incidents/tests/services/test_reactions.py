from __future__ import annotations

from decimal import Decimal

import pytest

from amends.cases.choices import MessageDirection
from amends.cases.services.messages import case_message_add
from amends.core import hooks
from amends.incidents.choices import RoundKind
from amends.incidents.models import Impact
from amends.incidents.selectors import incident_funnel
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.services.links import impact_open
from amends.incidents.services.notify import round_run_to_end, round_start
from amends.incidents.services.reactions import on_remedy_changed
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make
from amends.remedies.models import ChoiceMenu
from amends.remedies.services.menus import menu_choose

pytestmark = pytest.mark.django_db


def _notified(ops: Ops, count: int = 2) -> list[Impact]:
    customers = customers_make(count)
    impacts_add(
        incident=ops.incident,
        rows=[
            AffectedRow(c.external_ref or "", inputs={"distance_km": 800, "intra_eu": True})
            for c in customers
        ],
        actor=ops.analyst,
    )
    round_run_to_end(
        notice=round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    )
    impacts = list(Impact.objects.order_by("id"))
    for impact in impacts:
        impact_open(impact=impact)  # each customer followed their link
    return list(Impact.objects.select_related("case").order_by("id"))


def test_a_choice_in_the_menu_moves_chose_and_cost(ops: Ops) -> None:
    impact, _ = _notified(ops)
    assert impact.menu_id is not None
    menu = ChoiceMenu.objects.get(pk=impact.menu_id)
    voucher = menu.options.get(kind__code="voucher")
    chosen = menu_choose(menu=menu, remedy_id=voucher.pk, actor=None)
    # remedies emits remedy_changed once the layers work lands; until then, as it would.
    hooks.remedy_changed.emit(
        hooks.RemedyChanged(
            remedy_id=chosen.pk,
            case_id=menu.case_id,
            before="offered",
            after=chosen.status,
            actor_id=None,
        )
    )
    funnel = incident_funnel(incident=ops.incident)
    assert (funnel.affected, funnel.notified, funnel.chose) == (2, 2, 1)
    assert funnel.cost == Decimal("300.00")


def test_an_inbound_message_counts_as_complained_anyway(ops: Ops) -> None:
    impact, _ = _notified(ops)
    assert impact.case is not None
    case_message_add(
        case=impact.case, direction=MessageDirection.INBOUND, body="Still waiting!", actor=None
    )
    assert incident_funnel(incident=ops.incident).complained == 1


def test_a_survey_answer_is_recorded_on_the_impact(ops: Ops) -> None:
    impact, _ = _notified(ops)
    assert impact.case is not None
    hooks.survey_answered.emit(
        hooks.SurveyAnswered(
            survey_id=1,
            case_id=impact.case.pk,
            customer_id=impact.customer_id,
            csat=4,
            nps=None,
            would_use_again=None,
            promises_kept=None,
        )
    )
    impact.refresh_from_db()
    assert impact.survey_csat == 4
    assert incident_funnel(incident=ops.incident).surveyed == 1


def test_counters_agree_with_the_impact_rows_after_a_whole_story(ops: Ops) -> None:
    from amends.incidents.services.counters import incident_funnel_recount

    first, second = _notified(ops, 2)
    assert first.case is not None
    case_message_add(case=first.case, direction=MessageDirection.INBOUND, body="Hm", actor=None)
    case_message_add(case=first.case, direction=MessageDirection.INBOUND, body="Hm?", actor=None)
    hooks.survey_answered.emit(
        hooks.SurveyAnswered(
            survey_id=1,
            case_id=second.case_id,
            customer_id=second.customer_id,
            csat=2,
            nps=None,
            would_use_again=None,
            promises_kept=None,
        )
    )
    kept = incident_funnel(incident=ops.incident)
    recount = incident_funnel(incident=incident_funnel_recount(incident=ops.incident))
    assert kept == recount
    assert (kept.affected, kept.notified, kept.opened, kept.complained, kept.surveyed) == (
        2,
        2,
        2,
        1,
        1,
    )


def test_choices_sync_catches_a_choice_whose_hook_was_missed(ops: Ops) -> None:
    from django.utils import timezone

    from amends.incidents.services.reactions import impacts_choices_sync

    impact, _ = _notified(ops)
    assert impact.menu_id is not None
    menu = ChoiceMenu.objects.get(pk=impact.menu_id)
    hooks.remedy_changed.unsubscribe(on_remedy_changed)
    try:
        menu_choose(menu=menu, remedy_id=menu.options.get(kind__code="compensation").pk, actor=None)
    finally:
        hooks.remedy_changed.subscribe(on_remedy_changed)
    assert impacts_choices_sync(now=timezone.now()) == 1
    assert impacts_choices_sync(now=timezone.now()) == 0
    funnel = incident_funnel(incident=ops.incident)
    assert funnel.chose == 1
    assert funnel.cost == Decimal("250.00")
