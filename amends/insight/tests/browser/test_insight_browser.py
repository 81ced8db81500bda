"""Insight in a real Chromium: the case panel and the apology coach's Check button."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.insight.tests.factories import UPSET_TEXT
from amends.insight.tests.test_apology import GOOD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_checks_a_reply_before_sending(page: Any, login: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    case = CaseFactory(team=team, assignee=agent, description=UPSET_TEXT)
    login(agent)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    panel = page.locator("#case-insight")
    expect(panel).to_contain_text("Churn intent")
    expect(panel).to_contain_text("cancel my contract")

    form = page.locator("#case-conversation form.message-form")
    form.locator("textarea").fill("We apologise for any inconvenience caused.")
    form.get_by_role("button", name="Check reply").click()
    result = page.locator("#apology-result")
    expect(result.locator('[data-code="insincere_apology"]')).to_be_visible()
    expect(result).to_contain_text("You can still send it")

    form.locator("textarea").fill(GOOD)
    form.get_by_role("button", name="Check reply").click()
    expect(result).to_contain_text("apologises well")
