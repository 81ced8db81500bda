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
    assert "1 waiting for you" in html


def test_authority_mine_view_lists_limits_usage_and_cannot_do(org):
    CannotDoItemFactory(role="agent", text="Waive an early-termination fee")
    remedy_propose(
        case=org.case, kind="refund", amount="30.00", currency="USD", reason="r", actor=org.agent
    )
    html = client_for(org.agent).get(reverse("web:authority-mine")).content.decode()
    assert "Waive an early-termination fee" in html
    assert "50.00" in html
    assert "150.00 per 30 days" in html
    assert "30.00 USD (1)" in html


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
    assert "10.00 USD" in html
    response = client_for(org.agent).get(reverse("web:remedy-report"))
    assert response.status_code in (302, 403)
