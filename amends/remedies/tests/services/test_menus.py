from __future__ import annotations

import pytest

from amends.cases.models import CaseEvent
from amends.core.exceptions import ApplicationError
from amends.remedies.choices import MenuStatus, RemedyEventKind, RemedyStatus
from amends.remedies.models import ChoiceMenu, Remedy
from amends.remedies.services.menus import menu_choose, menu_create
from amends.remedies.services.remedies import RemedyInput

pytestmark = pytest.mark.django_db


def offer(org, *amounts):
    return menu_create(
        case=org.case,
        options=[RemedyInput(kind="refund", amount=a, currency="USD") for a in amounts],
        note="Refund now or more later",
        actor=org.agent,
    )


def test_menu_create_offers_options_without_granting_anything(org):
    menu = offer(org, "40.00", "90.00")
    assert sorted(o.status for o in menu.options.all()) == [RemedyStatus.OFFERED] * 2
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.MENU_OFFERED)
    assert len(event.data["options"]) == 2
    # Offered options do not use up limits.
    assert offer(org, "50.00", "50.00").status == MenuStatus.OPEN


def test_menu_create_needs_two_to_six_valid_options(org):
    with pytest.raises(ApplicationError) as exc:
        offer(org, "40.00")
    assert exc.value.code == "invalid_menu"
    with pytest.raises(ApplicationError) as exc:
        offer(org, "40.00", "-1")
    assert exc.value.code == "invalid_amount"
    assert not ChoiceMenu.objects.exists()
    assert not Remedy.objects.exists()


def test_menu_choose_grants_the_chosen_within_authority_and_cancels_the_rest(org):
    menu = offer(org, "40.00", "45.00", "30.00")
    chosen_id = menu.options.get(amount="40.00").pk
    chosen = menu_choose(menu=menu, remedy_id=chosen_id, actor=org.agent)
    assert chosen.status == RemedyStatus.GRANTED
    statuses = dict(menu.options.values_list("amount", "status"))
    assert statuses == {
        chosen.amount: RemedyStatus.GRANTED,
        **{a: RemedyStatus.CANCELLED for a in statuses if a != chosen.amount},
    }
    menu.refresh_from_db()
    assert menu.status == MenuStatus.CHOSEN
    assert menu.chosen_id == chosen_id
    assert CaseEvent.objects.filter(case=org.case, kind=RemedyEventKind.CHOSEN).exists()
    assert org.case.steps.get(step="compensate").state == "done"


def test_menu_choose_routes_above_authority_for_approval(org):
    menu = offer(org, "40.00", "120.00")
    chosen = menu_choose(menu=menu, remedy_id=menu.options.get(amount="120.00").pk, actor=org.agent)
    assert chosen.status == RemedyStatus.PENDING_APPROVAL
    assert chosen.approver == org.supervisor


def test_menu_choose_refuses_a_second_choice_and_foreign_options(org):
    menu = offer(org, "40.00", "45.00")
    other = offer(org, "10.00", "20.00")
    with pytest.raises(ApplicationError) as exc:
        menu_choose(menu=menu, remedy_id=other.options.first().pk, actor=org.agent)
    assert exc.value.code == "invalid_choice"
    menu_choose(menu=menu, remedy_id=menu.options.first().pk, actor=org.agent)
    with pytest.raises(ApplicationError) as exc:
        menu_choose(menu=menu, remedy_id=menu.options.last().pk, actor=org.agent)
    assert (exc.value.status, exc.value.code) == (409, "menu_closed")


def test_menu_choose_granted_event_records_offered_to_granted(org):
    menu = offer(org, "40.00", "45.00")
    menu_choose(menu=menu, remedy_id=menu.options.get(amount="40.00").pk, actor=org.agent)
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.GRANTED)
    assert event.data["status"] == {"from": "offered", "to": "granted"}
