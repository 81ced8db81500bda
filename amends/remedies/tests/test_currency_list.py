"""Remedy forms offer a short list of currencies: the organisation's, the offered ones and the
ones already in use; the API still takes any code Amends knows."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from amends.core.organisation import organisation_save
from amends.remedies.selectors import case_remedy_panel, currencies_in_use
from amends.remedies.tests.factories import remedy_make

pytestmark = pytest.mark.django_db


def _options(body: str) -> list[str]:
    start = body.index('<select id="remedy-currency"')
    select = body[start : body.index("</select>", start)]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:]]


def test_panel_offers_the_organisations_currency_then_the_offered_ones(org: Any) -> None:
    organisation_save(time_zone="Europe/London", currency="CHF")
    panel = case_remedy_panel(case=org.case, user=org.agent)
    assert panel.currencies == ["CHF", "GBP", "EUR", "USD"]
    assert panel.currency == "CHF"


def test_currencies_already_in_use_join_the_list_once(org: Any) -> None:
    organisation_save(time_zone="Europe/London", currency="GBP")
    remedy_make(case=org.case, currency="NZD")
    remedy_make(case=org.case, currency="NZD", status="cancelled")
    remedy_make(case=org.case, currency="EUR")
    remedy_make(case=org.case, amount=None)  # no amount, no currency
    assert currencies_in_use() == ["EUR", "NZD"]
    panel = case_remedy_panel(case=org.case, user=org.agent)
    assert panel.currencies == ["GBP", "EUR", "USD", "NZD"]


def test_the_offered_list_is_a_setting_and_unknown_codes_are_dropped(
    org: Any, settings: Any
) -> None:
    settings.AMENDS = {**settings.AMENDS, "OFFERED_CURRENCIES": ["jpy", "XXX", "GBP"]}
    organisation_save(time_zone="Europe/London", currency="GBP")
    panel = case_remedy_panel(case=org.case, user=org.agent)
    assert panel.currencies == ["GBP", "JPY"]


def test_case_page_form_lists_the_short_list_not_every_code(org: Any) -> None:
    organisation_save(time_zone="Europe/London", currency="GBP")
    remedy_make(case=org.case, currency="SEK", proposed_by=org.agent)
    client = Client()
    client.force_login(org.agent)
    body = client.get(f"/cases/{org.case.ref}/").content.decode()
    assert _options(body) == ["GBP", "EUR", "USD", "SEK"]
    assert '<option value="GBP" selected>GBP</option>' in body


def test_api_still_accepts_a_code_outside_the_short_list(org: Any, api_client_for: Any) -> None:
    organisation_save(time_zone="Europe/London", currency="GBP")
    r = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/remedies",
        {"kind": "refund", "amount": "5.00", "currency": "ZAR", "reason": "Engineer no-show"},
    )
    assert r.status_code == 201, r.json()
    assert r.json()["currency"] == "ZAR"
    assert "ZAR" in case_remedy_panel(case=org.case, user=org.agent).currencies
    bad = api_client_for(org.agent).post(
        f"/api/v1/cases/{org.case.ref}/remedies",
        {"kind": "refund", "amount": "5.00", "currency": "ZZZ", "reason": "Engineer no-show"},
    )
    assert bad.status_code == 422
