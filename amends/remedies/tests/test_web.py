"""The staff UI for remedies: case panel, approvals page, my authority, the report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_propose
from amends.remedies.tests.factories import CannotDoItemFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def htmx(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_case_page_shows_remedies_panel_with_remaining_limit(org):
    client = client_for(org.agent)
    response = client.get(reverse("web:case-detail", args=[org.case.ref]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="case-remedies"' in html
    assert 'data-remaining="50.00"' in html  # refund is the first kind: 50 per remedy


def test_remedy_headroom_view_shows_remaining_limit_for_the_chosen_kind(org):
    client = client_for(org.agent)
    remedy_propose(
        case=org.case, kind="refund", amount="30.00", currency="USD", reason="r", actor=org.agent
    )
    url = reverse("web:remedy-headroom", args=[org.case.ref])
    html = client.get(url, {"kind": "refund", "currency": "USD"}).content.decode()
    assert 'data-remaining="50.00"' in html  # 100 per case - 30 = 70, per remedy 50
    remedy_propose(
        case=org.case, kind="refund", amount="40.00", currency="USD", reason="r", actor=org.agent
    )
    html = client.get(url, {"kind": "refund", "currency": "USD"}).content.decode()
    assert 'data-remaining="30.00"' in html  # 100 - 70
    remedy_propose(
        case=org.case, kind="refund", amount="30.00", currency="USD", reason="r", actor=org.agent
    )
    html = client.get(url, {"kind": "refund", "currency": "USD"}).content.decode()
    assert "No room left" in html
    html = client.get(url, {"kind": "voucher", "currency": "USD"}).content.decode()
    assert "not within your authority" in html


def test_remedy_propose_view_tells_who_decides_and_by_when(org):
    client = client_for(org.agent)
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        response = htmx(
            client,
            reverse("web:remedy-propose", args=[org.case.ref]),
            {
                "kind": "refund",
                "amount": "120.00",
                "currency": "USD",
                "reason": "Three days without service",
            },
        )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "caseChanged"
    html = response.content.decode()
    assert "Needs approval by" in html
    assert "(sam)" in html
    assert "2 Mar 2026, 14:00" in html
    assert Remedy.objects.get().status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_view_error_goes_to_flash_and_writes_nothing(org):
    client = client_for(org.agent)
    response = htmx(
        client,
        reverse("web:remedy-propose", args=[org.case.ref]),
        {"kind": "refund", "amount": "-1", "currency": "USD", "reason": "x"},
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#flash"
    assert not Remedy.objects.exists()


def test_approval_list_view_sorted_by_due_and_approve_by_htmx(org, django_assert_num_queries):
    with time_machine.travel(datetime(2026, 3, 2, 12, 0, tzinfo=UTC), tick=False):
        later = remedy_propose(
            case=org.case,
            kind="refund",
            amount="60.00",
            currency="USD",
            reason="later",
            actor=org.agent,
        )
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        sooner = remedy_propose(
            case=org.case,
            kind="refund",
            amount="70.00",
            currency="USD",
            reason="sooner",
            actor=org.agent,
        )
    client = client_for(org.supervisor)
    client.get(reverse("web:approval-list"))  # warm the session
    # session, user, staff profile, the page of approvals (one query whatever its length),
    # the nav's pending count, and base.html's team name for the signed-in user
    with django_assert_num_queries(6):
        response = client.get(reverse("web:approval-list"))
    html = response.content.decode()
    assert html.index(f'id="approval-{sooner.pk}"') < html.index(f'id="approval-{later.pk}"')
    response = htmx(client, reverse("web:approval-approve", args=[sooner.pk]), {"reason": "ok"})
    assert response.status_code == 200
    assert 'data-status="approved"' in response.content.decode()
    assert Remedy.objects.get(pk=sooner.pk).status == RemedyStatus.APPROVED


def test_approval_reject_view_without_reason_is_refused(org):
    remedy = remedy_propose(
        case=org.case, kind="refund", amount="60.00", currency="USD", reason="r", actor=org.agent
    )
    client = client_for(org.supervisor)
    response = htmx(client, reverse("web:approval-reject", args=[remedy.pk]), {"reason": ""})
    assert response.status_code == 422
    assert Remedy.objects.get(pk=remedy.pk).status == RemedyStatus.PENDING_APPROVAL


def test_approval_approve_view_hides_other_teams_remedies(org):
    remedy = remedy_propose(
        case=org.case, kind="refund", amount="60.00", currency="USD", reason="r", actor=org.agent
    )
    client = client_for(org.other_supervisor)
    response = client.post(reverse("web:approval-approve", args=[remedy.pk]), {"reason": ""})
    assert response.status_code == 404
    assert Remedy.objects.get(pk=remedy.pk).status == RemedyStatus.PENDING_APPROVAL


def test_nav_shows_pending_approvals_count(org):
    remedy_propose(
        case=org.case, kind="refund", amount="60.00", currency="USD", reason="r", actor=org.agent
    )
    html = client_for(org.supervisor).get(reverse("web:authority-mine")).content.decode()
    assert '>1<span class="visually-hidden"> waiting for you</span>' in html


def test_approving_refreshes_the_nav_count_at_once(org):
    remedy = remedy_propose(
        case=org.case, kind="refund", amount="60.00", currency="USD", reason="r", actor=org.agent
    )
    client = client_for(org.supervisor)
    badge = reverse("web:approval-badge")
    assert "navCountsChanged from:body" in client.get(badge).content.decode()
    assert "> waiting for you" in client.get(badge).content.decode()
    response = htmx(client, reverse("web:approval-approve", args=[remedy.pk]), {"reason": "ok"})
    assert response["HX-Trigger"] == "navCountsChanged"
    assert "waiting for you" not in client.get(badge).content.decode()


def test_authority_mine_view_lists_limits_usage_and_cannot_do(org):
    CannotDoItemFactory(role="agent", text="Waive an early-termination fee")
    remedy_propose(
        case=org.case, kind="refund", amount="30.00", currency="USD", reason="r", actor=org.agent
    )
    html = client_for(org.agent).get(reverse("web:authority-mine")).content.decode()
    assert "Waive an early-termination fee" in html
    assert "50.00" in html
    assert "150.00 per 30 days" in html
    assert "$30.00 (1)" in html


def test_remedy_issue_and_cancel_views_update_the_panel(org):
    first = remedy_propose(
        case=org.case, kind="refund", amount="10.00", currency="USD", reason="r", actor=org.agent
    )
    second = remedy_propose(
        case=org.case, kind="refund", amount="10.00", currency="USD", reason="r", actor=org.agent
    )
    client = client_for(org.agent)
    response = htmx(client, reverse("web:remedy-issue", args=[first.pk]), {"reference": "CN-7"})
    assert "CN-7" in response.content.decode()
    htmx(client, reverse("web:remedy-cancel", args=[second.pk]), {"reason": "Duplicate"})
    assert Remedy.objects.get(pk=first.pk).status == RemedyStatus.ISSUED
    assert Remedy.objects.get(pk=second.pk).status == RemedyStatus.CANCELLED


def test_menu_create_and_choose_views(org):
    client = client_for(org.agent)
    htmx(
        client,
        reverse("web:remedy-menu-create", args=[org.case.ref]),
        {
            "option-0-kind": "refund",
            "option-0-amount": "20.00",
            "option-0-currency": "USD",
            "option-1-kind": "refund",
            "option-1-amount": "30.00",
            "option-1-currency": "USD",
            "option-2-kind": "",
            "note": "Pick one",
        },
    )
    offered = list(Remedy.objects.filter(status=RemedyStatus.OFFERED).order_by("amount"))
    assert len(offered) == 2
    menu = offered[0].menu
    response = htmx(
        client, reverse("web:remedy-menu-choose", args=[menu.pk]), {"remedy_id": offered[1].pk}
    )
    assert response.status_code == 200
    assert Remedy.objects.get(pk=offered[1].pk).status == RemedyStatus.GRANTED
    assert Remedy.objects.get(pk=offered[0].pk).status == RemedyStatus.CANCELLED


def test_remedy_report_view_for_supervisor_and_forbidden_for_agent(org):
    remedy_propose(
        case=org.case, kind="refund", amount="10.00", currency="USD", reason="r", actor=org.agent
    )
    html = client_for(org.supervisor).get(reverse("web:remedy-report")).content.decode()
    assert "Billing" in html
    assert "$10.00" in html
    response = client_for(org.agent).get(reverse("web:remedy-report"))
    assert response.status_code in (302, 403)


def test_remedy_panel_view_query_count_does_not_grow_with_remedies(org, django_assert_num_queries):
    from amends.remedies.services.menus import menu_create
    from amends.remedies.services.remedies import RemedyInput, remedy_approve

    client = client_for(org.agent)
    url = reverse("web:remedy-panel", args=[org.case.ref])
    client.get(url)  # warm the session
    remedy_propose(
        case=org.case, kind="refund", amount="20.00", currency="USD", reason="r", actor=org.agent
    )
    # (one of them: the currencies already in use, for the short currency list)
    with django_assert_num_queries(11):
        assert client.get(url).status_code == 200
    pending = remedy_propose(
        case=org.case, kind="refund", amount="60.00", currency="USD", reason="r", actor=org.agent
    )
    remedy_approve(remedy=pending, reason="ok", actor=org.supervisor)
    remedy_propose(
        case=org.case, kind="refund", amount="70.00", currency="USD", reason="r", actor=org.agent
    )
    menu_create(
        case=org.case,
        options=[RemedyInput(kind="refund", amount="5.00", currency="USD")] * 2,
        actor=org.agent,
    )
    # The same, plus the open menu's options with their kinds and people (one prefetch).
    with django_assert_num_queries(12):
        html = client.get(url).content.decode()
    assert html.count('data-status="') == 5


def test_remedy_propose_view_query_count_is_pinned(org, django_assert_num_queries):
    client = client_for(org.agent)
    client.get(reverse("web:remedy-panel", args=[org.case.ref]))
    url = reverse("web:remedy-propose", args=[org.case.ref])
    data = {"kind": "refund", "amount": "10.00", "currency": "USD", "reason": "Late"}
    htmx(client, url, data)  # warm per-process caches (content types, calendars)
    # Session, user, staff, case, then the propose (as the API) and the re-rendered panel.
    # (+8: the remedy_changed subscribers of the floors above; +1: the currencies in use)
    with django_assert_num_queries(31):
        response = htmx(client, url, {**data, "amount": "80.00"})
    assert response.status_code == 200
    assert response["HX-Trigger"] == "caseChanged"
    assert Remedy.objects.get(amount="80.00").status == RemedyStatus.PENDING_APPROVAL


def test_remedy_tables_stack_into_cards_on_a_phone(org):
    # .table-stack (shared stylesheet) turns each row into a card under 700px; every cell
    # needs a data-label for that, or a phone shows values without saying what they are.
    remedy_propose(
        case=org.case, kind="refund", amount="80.00", currency="USD", reason="r", actor=org.agent
    )
    pages = [
        (org.agent, reverse("web:remedy-panel", args=[org.case.ref]), 'id="case-remedies"'),
        (org.supervisor, reverse("web:approval-list"), 'id="approvals"'),
        (org.agent, reverse("web:authority-mine"), 'id="authority-limits"'),
    ]
    for user, url, marker in pages:
        html = client_for(user).get(url).content.decode()
        assert marker in html
        assert 'class="table table-stack"' in html, url
        assert html.count("<td") == html.count("<td data-label=") + html.count(
            '<td class="small" data-label='
        ) + html.count('<td class="small muted" data-label='), url


def test_remedy_views_hide_other_teams_cases_and_write_nothing(org):
    from amends.accounts.choices import Role
    from amends.accounts.tests.factories import UserFactory
    from amends.cases.models import CaseEvent
    from amends.remedies.services.menus import menu_create
    from amends.remedies.services.remedies import RemedyInput

    granted = remedy_propose(
        case=org.case, kind="refund", amount="20.00", currency="USD", reason="r", actor=org.agent
    )
    menu = menu_create(
        case=org.case,
        options=[RemedyInput(kind="refund", amount="5.00", currency="USD")] * 2,
        actor=org.agent,
    )
    events = CaseEvent.objects.count()
    outsider = client_for(UserFactory(role=Role.AGENT, team=org.other_team))
    ref = org.case.ref
    posts = [
        (reverse("web:remedy-propose", args=[ref]), {"kind": "refund", "amount": "5", "currency": "USD", "reason": "r"}),
        (reverse("web:remedy-menu-create", args=[ref]), {"option-0-kind": "refund", "option-0-amount": "5", "option-0-currency": "USD", "option-1-kind": "refund", "option-1-amount": "6", "option-1-currency": "USD"}),
        (reverse("web:remedy-issue", args=[granted.pk]), {"reference": "CN-1"}),
        (reverse("web:remedy-cancel", args=[granted.pk]), {"reason": "r"}),
        (reverse("web:remedy-menu-choose", args=[menu.pk]), {"remedy_id": menu.options.first().pk}),
    ]  # fmt: skip
    for url, data in posts:
        assert htmx(outsider, url, data).status_code == 404, url
    for url in (
        reverse("web:remedy-panel", args=[ref]),
        reverse("web:remedy-headroom", args=[ref]) + "?kind=refund&currency=USD",
    ):
        assert outsider.get(url).status_code == 404, url
    assert CaseEvent.objects.count() == events
    assert Remedy.objects.count() == 3
    assert Remedy.objects.get(pk=granted.pk).status == RemedyStatus.GRANTED
