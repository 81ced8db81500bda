from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.incidents.models import Impact, Incident, NotificationRound
from amends.incidents.services.impacts import AffectedRow, impacts_add
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import IncidentFactory, customers_make

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_incident_list_paginates_with_pinned_queries(
    ops: Ops, django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        IncidentFactory(policy=ops.policy)
    client = client_for(ops.analyst)
    client.get(reverse("web:incident-list"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("web:incident-list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('href="/incidents/') >= 25
    assert "Declare an incident" in html


def test_declare_from_the_form_then_page_shows_the_policy(ops: Ops) -> None:
    client = client_for(ops.analyst)
    response = client.post(
        reverse("web:incident-create"),
        {
            "title": "AB9 Lisbon-Paris delayed",
            "kind": "flight_delay",
            "magnitude": "200",
            "started_at": (timezone.now() - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
            "severity": "2",
            "public_description": "Your flight <b>AB9</b> arrived late.",
        },
    )
    incident = Incident.objects.get(title="AB9 Lisbon-Paris delayed")
    assert response.status_code == 302
    page = client.get(reverse("web:incident-detail", args=[incident.pk])).content.decode()
    assert "EU 261/2004" in page
    assert "&lt;b&gt;AB9&lt;/b&gt;" in page  # customer-facing text escaped


def test_upload_csv_adds_customers_and_reports_rejects(ops: Ops) -> None:
    customers_make(3)
    csv = b"external_ref,distance_km,intra_eu\nP-0,800,true\nP-1,2000,true\nNOPE,1,true\n"
    client = client_for(ops.analyst)
    response = client.post(
        reverse("web:incident-affected", args=[ops.incident.pk]),
        {"file": SimpleUploadedFile("a.csv", csv, content_type="text/csv")},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Added 2, already there 0, rejected 1" in html
    assert "No customer has the reference &#x27;NOPE&#x27;." in html
    assert Impact.objects.filter(incident=ops.incident).count() == 2


def test_upload_of_a_non_csv_is_a_clear_error(ops: Ops) -> None:
    client = client_for(ops.analyst)
    response = client.post(
        reverse("web:incident-affected", args=[ops.incident.pk]),
        {"file": SimpleUploadedFile("a.bin", b"\xff\xfe\x00garbage", content_type="text/csv")},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert not Impact.objects.exists()


def test_preview_send_and_progress_partial(ops: Ops) -> None:
    customers = customers_make(2)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(c.external_ref or "", inputs={"distance_km": 800}) for c in customers],
        actor=ops.analyst,
    )
    client = client_for(ops.analyst)
    preview = client.post(
        reverse("web:incident-preview", args=[ops.incident.pk]),
        {"kind": "initial"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Passenger 0" in preview
    assert "250.00 EUR" in preview
    sent = client.post(reverse("web:incident-notify", args=[ops.incident.pk]), {"kind": "initial"})
    assert sent.status_code == 302
    assert NotificationRound.objects.filter(incident=ops.incident).count() == 1
    partial = client.get(reverse("web:incident-progress", args=[ops.incident.pk])).content.decode()
    assert 'data-counter="affected">2<' in partial
    assert 'hx-trigger="every 2s"' in partial  # still sending: the page keeps polling


def test_agents_see_the_page_but_no_forms_and_cannot_post(ops: Ops) -> None:
    client = client_for(ops.agent)
    page = client.get(reverse("web:incident-detail", args=[ops.incident.pk])).content.decode()
    assert "Send to all" not in page
    response = client.post(
        reverse("web:incident-notify", args=[ops.incident.pk]),
        {"kind": "initial"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert not NotificationRound.objects.exists()


def test_customer_link_page_shows_their_offer_and_opening_leads_to_the_portal(ops: Ops) -> None:
    from amends.incidents.services.links import impact_token

    [customer] = customers_make(1)
    impacts_add(
        incident=ops.incident,
        rows=[
            AffectedRow(customer.external_ref or "", inputs={"distance_km": 2000, "intra_eu": True})
        ],
        actor=ops.analyst,
    )
    impact = Impact.objects.get()
    token = impact_token(impact_id=impact.pk)
    client = Client()  # the customer: not signed in
    page = client.get(reverse("web:incident-link", args=[token]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Compensation, intra-EU flights over 1,500 km (400.00 EUR)" in html
    assert "Choose my remedy" in html
    impact.refresh_from_db()
    assert impact.opened_at is not None
    assert impact.case is None  # looking opens nothing
    opened = client.post(reverse("web:incident-link-open", args=[token]))
    assert opened.status_code == 302
    assert "/c/" in opened["Location"]
    impact.refresh_from_db()
    assert impact.case is not None
    assert impact.menu_id is not None


def test_customer_link_forged_is_404(ops: Ops) -> None:
    response = Client().get(reverse("web:incident-link", args=["123:forged"]))
    assert response.status_code == 404
    assert "does not work" in response.content.decode()


def _queries_for(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_incident_page_queries_do_not_grow_with_customers_cases_or_rounds(
    ops: Ops, django_assert_max_num_queries: Any
) -> None:
    from amends.cases.tests.factories import CaseFactory
    from amends.incidents.choices import RoundKind
    from amends.incidents.services.impacts import incident_link_cases
    from amends.incidents.services.notify import round_run_to_end, round_start

    client = client_for(ops.analyst)
    url = reverse("web:incident-detail", args=[ops.incident.pk])
    progress = reverse("web:incident-progress", args=[ops.incident.pk])
    customers = customers_make(3)
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(c.external_ref or "", inputs={"distance_km": 800}) for c in customers],
        actor=ops.analyst,
    )
    client.get(url)
    few = _queries_for(client, url)
    # session, user, staff profile, the incident, a page of customers, its rounds, updates,
    # history, the header's approvals badge and team, the close form's causes and owners
    assert few <= 12
    # Many more customers, some with a linked case, and two rounds (one still sending)
    more = customers_make(40, prefix="Q")
    impacts_add(
        incident=ops.incident,
        rows=[AffectedRow(c.external_ref or "", inputs={"distance_km": 2000}) for c in more],
        actor=ops.analyst,
    )
    incident_link_cases(
        incident=ops.incident,
        case_ids=[CaseFactory(team=ops.team).pk for _ in range(5)],
        actor=ops.analyst,
    )
    round_run_to_end(
        notice=round_start(incident=ops.incident, kind=RoundKind.INITIAL, actor=ops.analyst)
    )
    round_start(incident=ops.incident, kind=RoundKind.UPDATE, actor=ops.analyst)
    with django_assert_max_num_queries(few):
        html = client.get(url).content.decode()
    assert html.count("<tr>") == 26  # the header and one page of 25 customers
    assert 'data-counter="affected">48<' in html
    assert "2. Update: 0 of 48" in html
    # The polled partial reads the incident and its current round, nothing per customer
    with django_assert_max_num_queries(6):
        partial = client.get(progress).content.decode()
    assert 'hx-trigger="every 2s"' in partial
