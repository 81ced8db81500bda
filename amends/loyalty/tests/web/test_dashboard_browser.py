"""A manager opens the loyalty dashboard in a real Chromium, filters it and drills into a chart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.loyalty.tests.factories import queued_facts_refresh
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_filters_the_dashboard_and_drills_into_a_chart(
    page: Any, login: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    manager = UserFactory(username="mia", role=Role.MANAGER, team=team)
    billing, outage = CategoryFactory(name="Billing"), CategoryFactory(name="Outage")
    CaseFactory(team=team, category=billing, title="Charged twice")
    CaseFactory(team=team, category=outage, title="Line down since Monday")
    CaseFactory(team=team, category=outage, title="Line down again")
    queued_facts_refresh()

    login(manager)
    page.goto(f"{live_server.url}/loyalty/")
    expect(page.locator("h1")).to_have_text("Loyalty dashboard")
    expect(page.locator("#total-opened")).to_have_text("3")
    expect(page.locator("#chart-volume")).to_have_attribute("data-drawn", "true")

    # Change a filter: only the Outage category
    page.select_option("#f-category", label="Outage")
    page.click("#loyalty-filters button[type=submit]")
    expect(page.locator("#total-opened")).to_have_text("2")
    expect(page.locator("#chart-volume")).to_have_attribute("data-drawn", "true")

    # Drill into this week's "Opened" bar
    this_week = (timezone.now().date() - timedelta(days=timezone.now().weekday())).isoformat()
    point = page.evaluate(
        """([week]) => {
            const canvas = document.getElementById("chart-volume");
            const chart = window.Chart.getChart(canvas);
            const index = chart.data.labels.indexOf(week);
            const bar = chart.getDatasetMeta(0).data[index];
            return {x: bar.x, y: (bar.y + bar.base) / 2};
        }""",
        [this_week],
    )
    page.locator("#chart-volume").click(position={"x": point["x"], "y": point["y"]})
    page.wait_for_url("**/loyalty/cases/**")
    expect(page.locator("h1")).to_have_text("Cases behind the figure")
    rows = page.locator("#drill-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#drill-results")).to_contain_text("Line down again")
    expect(page.locator("#drill-results")).not_to_contain_text("Charged twice")
