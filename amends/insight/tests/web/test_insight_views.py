"""Insight in the staff UI (amends/web/views/insight.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.cases.tests.factories import CaseFactory
from amends.insight.models import ApologyCheck, TextScore
from amends.insight.tests.factories import CALM_TEXT, UPSET_TEXT
from amends.insight.tests.test_apology import GOOD

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_case_page_shows_feeling_phrases_and_the_check_button(org):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    body = client_for(org.agent).get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert 'id="case-insight"' in body
    assert "Churn intent" in body
    assert "cancel my contract" in body
    assert reverse("web:insight-apology-check", args=[case.ref]) in body
    assert "Check reply" in body


def test_case_page_escapes_customer_phrases(org):
    case = CaseFactory(
        team=org.team, description="<script>alert(1)</script> I will cancel my account!!"
    )
    body = client_for(org.agent).get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert "<script>alert(1)</script>" not in body


def test_apology_check_view_shows_findings_and_records_the_check(org):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    client = client_for(org.agent)
    url = reverse("web:insight-apology-check", args=[case.ref])
    response = client.post(url, {"body": "We apologise for any inconvenience."}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-code="insincere_apology"' in body
    assert "You can still send it" in body
    good = client.post(url, {"body": GOOD}, **HTMX).content.decode()
    assert "apologises well" in good
    checks = list(ApologyCheck.objects.order_by("id"))
    assert [(c.first_draft, c.passes) for c in checks] == [(True, False), (False, True)]


def test_apology_check_view_needs_csrf(org):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.agent)
    response = client.post(
        reverse("web:insight-apology-check", args=[case.ref]), {"body": GOOD}, **HTMX
    )
    assert response.status_code == 403
    assert not ApologyCheck.objects.exists()


def test_apology_check_view_hides_other_teams_cases(org):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    response = client_for(org.outsider).post(
        reverse("web:insight-apology-check", args=[case.ref]), {"body": GOOD}, **HTMX
    )
    assert response.status_code == 404
    assert not ApologyCheck.objects.exists()


def test_score_correct_view(org):
    case = CaseFactory(team=org.team, description=CALM_TEXT)
    score = TextScore.objects.get(case=case)
    response = client_for(org.agent).post(
        reverse("web:insight-score-correct", args=[score.pk]),
        {"labels": ["disappointment"], "upset": "yes"},
        **HTMX,
    )
    assert response.status_code == 200
    score.refresh_from_db()
    assert score.corrected_labels == ["disappointment"]
    assert score.corrected_upset is True
    assert f"Corrected by {org.agent.get_full_name()}" in response.content.decode()


def test_score_correct_view_refuses_unknown_label(org):
    case = CaseFactory(team=org.team, description=CALM_TEXT)
    score = TextScore.objects.get(case=case)
    response = client_for(org.agent).post(
        reverse("web:insight-score-correct", args=[score.pk]), {"labels": ["bored"]}, **HTMX
    )
    assert response.status_code == 422
    score.refresh_from_db()
    assert score.corrected_at is None


def test_score_correct_view_huge_id_is_404(org):
    response = client_for(org.agent).post(
        "/insight/scores/99999999999999999999999/correct/", {"upset": "no"}, **HTMX
    )
    assert response.status_code == 404


def test_insight_queue_view_orders_by_priority(org, django_assert_max_num_queries):
    calm = CaseFactory(team=org.team, description=CALM_TEXT, title="Calm one")
    angry = CaseFactory(team=org.team, description=UPSET_TEXT, title="Angry one")
    client = client_for(org.agent)
    body = client.get(reverse("web:insight-queue"), {"flag": "all"}).content.decode()
    assert body.index(angry.ref) < body.index(calm.ref)
    upset_only = client.get(reverse("web:insight-queue"), **HTMX).content.decode()
    assert angry.ref in upset_only
    assert calm.ref not in upset_only
    assert client.get(reverse("web:insight-queue"), {"flag": "nope"}, **HTMX).status_code == 422
    for _ in range(4):
        CaseFactory(team=org.team, description=UPSET_TEXT)
    with django_assert_max_num_queries(6):
        client.get(reverse("web:insight-queue"), **HTMX)


def test_coaching_view(org):
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    client_for(org.agent).post(
        reverse("web:insight-apology-check", args=[case.ref]), {"body": GOOD}, **HTMX
    )
    body = client_for(org.manager).get(reverse("web:insight-coaching")).content.decode()
    assert f"<td>{org.agent.get_full_name()}</td>" in body
    assert "<td>ann</td>" not in body
    assert "100 %" in body


def test_coaching_view_falls_back_to_the_username_without_a_name(org):
    org.agent.first_name = org.agent.last_name = ""
    org.agent.save(update_fields=["first_name", "last_name"])
    case = CaseFactory(team=org.team, description=UPSET_TEXT)
    client_for(org.agent).post(
        reverse("web:insight-apology-check", args=[case.ref]), {"body": GOOD}, **HTMX
    )
    body = client_for(org.manager).get(reverse("web:insight-coaching")).content.decode()
    assert "<td>ann</td>" in body


def test_customer_page_lists_repeat_failures(org):
    from amends.customers.tests.factories import CustomerFactory
    from amends.taxonomy.tests.factories import CategoryFactory

    customer = CustomerFactory()
    billing = CategoryFactory()
    first = CaseFactory(team=org.team, customer=customer, category=billing)
    second = CaseFactory(team=org.team, customer=customer, category=billing)
    body = client_for(org.agent).get(reverse("web:customer-detail", args=[customer.pk]))
    html = body.content.decode()
    assert "Repeat failures" in html
    assert f"{second.ref}</a> repeats <a" in html
    assert first.ref in html
    hidden = client_for(org.outsider).get(reverse("web:customer-detail", args=[customer.pk]))
    assert "None in the cases you can see." in hidden.content.decode()
