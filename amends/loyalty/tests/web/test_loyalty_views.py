from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import LoyaltyEvent
from amends.loyalty.tests.factories import queued_facts_refresh

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 10, 10, tzinfo=UTC)


def client_for(role: str = Role.MANAGER, **kwargs: Any) -> Client:
    client = Client()
    client.force_login(UserFactory(role=role, **kwargs))
    return client


def test_dashboard_shows_charts_with_data_tables_and_drill_links() -> None:
    with time_machine.travel(NOW, tick=False):
        CaseFactory(title="Dashboard case")
        queued_facts_refresh()
        response = client_for().get(reverse("web:loyalty-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("data-chart=") == 5
    assert "Fairness answers (1-5) per week" in html
    assert "chart-4.6.1.umd.min.js" in html
    assert "<script>" not in html  # data in attributes, code in static files only
    assert 'id="total-opened"' in html
    assert "metric=opened" in html
    # win-back offers are retention cost, shown apart from the remedies' recovery cost
    assert "Remedy cost (recovery)" in html
    assert '<span class="figure-value" id="total-retention-cost">0.00</span>' in html


def test_dashboard_csv_has_one_row_per_week() -> None:
    with time_machine.travel(NOW, tick=False):
        CaseFactory()
        queued_facts_refresh()
        response = client_for().get(
            reverse("web:loyalty-dashboard"),
            {"since": "2026-03-02", "until": "2026-03-15", "format": "csv"},
        )
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("week,opened,resolved")
    assert [line.split(",")[:2] for line in lines[1:]] == [["2026-03-02", "0"], ["2026-03-09", "1"]]


def test_dashboard_with_an_impossible_period_says_so_and_shows_the_default() -> None:
    response = client_for().get(
        reverse("web:loyalty-dashboard"), {"since": "2026-03-10", "until": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "The period starts after it ends." in response.content.decode()


def test_loyalty_pages_refuse_agents() -> None:
    agent = client_for(Role.AGENT)
    for name in ("loyalty-dashboard", "loyalty-operations", "loyalty-paradox", "loyalty-cases"):
        assert agent.get(reverse(f"web:{name}")).status_code == 403


def test_operations_page_and_its_csv_and_print_styles() -> None:
    with time_machine.travel(NOW, tick=False):
        case_in_status(CaseStatus.RESOLVED, actor=UserFactory(role=Role.MANAGER))
        client = client_for()
        page = client.get(reverse("web:loyalty-operations"))
        csv = client.get(reverse("web:loyalty-operations"), {"format": "csv"})
        mtbf = client.get(reverse("web:loyalty-operations"), {"format": "mtbf-csv"})
    assert page.status_code == 200
    assert 'id="operations-table"' in page.content.decode()
    assert "loyalty.css" in page.content.decode()
    assert csv.content.decode().splitlines()[1].startswith("Not recorded,")
    assert mtbf.content.decode().startswith("service,category,failures")


def test_paradox_page_marks_small_groups() -> None:
    with time_machine.travel(NOW, tick=False):
        case_in_status(CaseStatus.RESOLVED, actor=UserFactory(role=Role.MANAGER))
        response = client_for().get(reverse("web:loyalty-paradox"), {"retention_days": "30"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "badge-small" in html
    assert "not yet observable" in html


def test_drill_down_lists_only_cases_the_supervisor_may_see() -> None:
    team, other = TeamFactory(), TeamFactory()
    with time_machine.travel(NOW, tick=False):
        mine = CaseFactory(team=team, title="Mine to see")
        theirs = CaseFactory(team=other, title="Not mine")
        queued_facts_refresh()
        response = client_for(Role.SUPERVISOR, team=team).get(
            reverse("web:loyalty-cases"), {"metric": "opened", "since": "2026-03-01"}
        )
    html = response.content.decode()
    assert mine.ref in html
    assert theirs.ref not in html


def test_customer_page_shows_risk_factors_and_staff_can_mark_lost() -> None:
    customer = CustomerFactory()
    CaseFactory(customer=customer)
    queued_facts_refresh()
    client = client_for()
    page = client.get(reverse("web:customer-detail", kwargs={"customer_id": customer.pk}))
    html = page.content.decode()
    assert 'id="risk-score">10<' in html
    assert "1 open case(s)" in html
    response = client.post(
        reverse("web:loyalty-status", kwargs={"customer_id": customer.pk}),
        {"status": "lost", "reason": "Cancelled by phone"},
    )
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).loyalty_status == LoyaltyStatus.LOST
    assert LoyaltyEvent.objects.filter(
        customer=customer, data__reason="Cancelled by phone"
    ).exists()


def test_cancellations_upload_marks_lost_or_rejects_the_whole_file() -> None:
    a = CustomerFactory(external_ref="C-1")
    b = CustomerFactory(external_ref="C-2")
    client = client_for()
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("c.csv", b"external_ref,reason\nC-1,Moved\nC-404,Gone\n")
    response = client.post(reverse("web:loyalty-cancellations"), {"file": bad})
    assert response.status_code == 302  # back with the error message
    assert Customer.objects.get(pk=a.pk).loyalty_status == LoyaltyStatus.ACTIVE
    good = SimpleUploadedFile("c.csv", b"external_ref,reason\nC-1,Moved\nC-2,Price\n")
    response = client.post(reverse("web:loyalty-cancellations"), {"file": good})
    assert response.status_code == 200
    assert "2 marked lost" in response.content.decode()
    assert Customer.objects.get(pk=b.pk).loyalty_status == LoyaltyStatus.LOST
