"""End to end in Chromium: an agent merges a duplicate case into the one that stays."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_merges_a_duplicate_and_the_history_follows(
    page: Any, login: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(20_000)  # a busy machine serves the live server slowly
    team = TeamFactory(name="Billing")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    customer = CustomerFactory(name="Poppy Walsh")
    survivor = CaseFactory(team=team, assignee=agent, customer=customer, title="Charged twice")
    duplicate = CaseFactory(team=team, assignee=agent, customer=customer, title="Double charge")
    case_message_add(case=duplicate, direction="inbound", body="I rang yesterday too.", actor=None)
    login(agent)
    page.goto(f"{live_server.url}/cases/{duplicate.ref}/")
    page.get_by_text("Merge this case into another (duplicate)").click()
    page.get_by_label("Merge into case").fill(survivor.ref)
    page.get_by_label("Reason").last.fill("Same double charge")
    page.locator("#case-merge-submit").click()
    page.wait_for_url(f"**/cases/{survivor.ref}/")
    expect(page.locator("#case-conversation")).to_contain_text("I rang yesterday too.")
    expect(page.locator('#case-timeline li[data-kind="merged_from"]')).to_be_visible()
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == (CaseStatus.CLOSED, survivor.pk)
    page.goto(f"{live_server.url}/cases/{duplicate.ref}/")
    expect(page.locator("#case-merged-notice")).to_contain_text(survivor.ref)
