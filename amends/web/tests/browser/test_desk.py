"""The desk in a real Chromium: search from the queue box, keyboard shortcuts."""

from __future__ import annotations

from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _patient(page: Any) -> None:
    page.set_default_timeout(20_000)  # a busy machine serves the live server slowly


def test_queue_search_box_narrows_the_list_as_you_type(page: Any, login: Any) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    walsh = CaseFactory(
        team=team, assignee=agent, customer=CustomerFactory(name="Poppy Walsh"), title="No tone"
    )
    CaseFactory(team=team, assignee=agent, customer=CustomerFactory(name="Ada Lee"), title="Slow")
    login(agent)
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("searchbox", name="Search").fill("wals")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(walsh.ref)
    expect(page.locator("#queue-total")).to_contain_text("1 case matches")
    assert "q=wals" in page.url  # bookmarkable
    page.get_by_role("searchbox", name="Search").fill("nobody")
    expect(page.locator("#queue-results")).to_contain_text("No open cases here")


def test_keyboard_shortcuts_move_open_acknowledge_and_reply(page: Any, login: Any) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    first = CaseFactory(team=team, assignee=agent, severity=1, title="First case")
    CaseFactory(team=team, assignee=agent, severity=4, title="Second case")
    login(agent)
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(2)

    page.keyboard.press("?")
    dialog = page.locator("#shortcuts-help")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Acknowledge the case")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.keyboard.press("Escape")

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class("row-on_track is-selected")
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")
    page.keyboard.press("Enter")
    expect(page.locator("#case-title")).to_have_text("First case")
    assert first.ref in page.url

    page.keyboard.press("a")
    expect(page.locator('[data-testid="case-status"]')).to_have_text("Acknowledged")
    page.keyboard.press("r")
    expect(page.locator(".message-form textarea")).to_be_focused()
    page.keyboard.type("Sorry")  # typing in the box is not a shortcut
    expect(page.locator('[data-testid="case-status"]')).to_have_text("Acknowledged")
    expect(page.locator(".message-form textarea")).to_have_value("Sorry")


def test_queue_tag_filter_suggests_tags_and_narrows_the_list(page: Any, login: Any) -> None:
    from playwright.sync_api import expect

    from amends.cases.services.tags import case_tags_change

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    tagged = CaseFactory(team=team, assignee=agent, title="In the papers")
    CaseFactory(team=team, assignee=agent, title="Quiet one")
    case_tags_change(case=tagged, actor=agent, add=["press"])
    login(agent)
    rows = page.locator("#queue-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#queue-tags option[value=press]")).to_have_count(1)
    field = page.get_by_label("Tag")
    field.fill("press")
    field.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(tagged.ref)
    assert "tag=press" in page.url  # kept in the bookmarkable view
    page.reload()
    expect(page.get_by_label("Tag")).to_have_value("press")
    expect(rows).to_have_count(1)
