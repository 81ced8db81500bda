"""An agent works a complaint from the queue to resolution in a real Chromium."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory
from amends.customers.choices import CustomerTier
from amends.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Any, name: str) -> None:
    """Screenshots for a human to look at (web-<name>.png in the temp dir by default)."""
    folder = Path(os.environ.get("AMENDS_SCREENSHOT_DIR", tempfile.gettempdir()))
    page.screenshot(path=str(folder / f"web-{name}.png"), full_page=True)


def _step(page: Any, step: str) -> Any:
    return page.locator(f'#case-steps li[data-step="{step}"]')


def _status(page: Any) -> Any:
    return page.locator('[data-testid="case-status"]')


def test_agent_works_a_case_from_queue_to_resolved(page: Any, login: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(
        username="ann", first_name="Ann", last_name="Agent", role=Role.AGENT, team=team
    )
    customer = CustomerFactory(
        name="Ada Lee",
        tier=CustomerTier.VIP,
        special_handling=True,
        special_handling_reason="Relies on the line for a medical alarm",
    )
    case = CaseFactory(
        team=team, assignee=agent, customer=customer, title="Broadband down for a week"
    )
    CaseFactory(team=team, assignee=agent, severity=4, title="Router light blinking")

    login(agent)
    expect(page.locator("h1")).to_have_text("My queue")
    row = page.locator("#queue-results tbody tr", has_text=case.ref)
    expect(row).to_contain_text("Broadband down for a week")
    expect(row).to_contain_text("VIP")
    _shot(page, "queue")

    row.get_by_role("link", name="Broadband down for a week").click()
    expect(page.locator("#case-title")).to_have_text("Broadband down for a week")
    expect(page.locator("#case-header")).to_contain_text("Relies on the line for a medical alarm")
    expect(_status(page)).to_have_text("New")

    # Acknowledge (through the actions panel, without a page load).
    page.locator("#case-actions").get_by_role("button", name="Acknowledge").click()
    expect(_status(page)).to_have_text("Acknowledged")
    expect(_step(page, "acknowledge")).to_contain_text("Done")

    # Record a step with a note.
    _step(page, "apologise").get_by_placeholder("Note (optional)").fill("Apologised on the phone")
    _step(page, "apologise").get_by_role("button", name="Done").click()
    expect(_step(page, "apologise")).to_contain_text("Apologised on the phone")
    expect(_status(page)).to_have_text("In recovery")

    # Too early: the flash names the required steps still pending.
    resolve = page.locator("form.resolve-form")
    resolve.get_by_label("Outcome").select_option("upheld")
    resolve.get_by_role("button", name="Resolve").click()
    flash = page.locator("#flash")
    expect(flash.locator('[data-code="required_steps_pending"]')).to_be_visible()
    expect(flash.locator('.missing-steps li[data-step="rectify"]')).to_have_text("Rectify")
    # The follow-up is due before closing: it does not hold up resolving.
    expect(flash.locator(".missing-steps li")).to_have_count(1)
    expect(_status(page)).to_have_text("In recovery")
    _shot(page, "case-missing-steps")

    # Complete them: skip an optional step with a reason, do the required ones.
    _step(page, "empathise").get_by_placeholder("Reason to skip").fill(
        "Customer wanted it fixed, not talk"
    )
    _step(page, "empathise").get_by_role("button", name="Skip").click()
    expect(_step(page, "empathise")).to_contain_text(
        "Reason for skipping: Customer wanted it fixed"
    )
    _step(page, "rectify").get_by_role("button", name="Done").click()
    expect(_step(page, "rectify").locator(".badge")).to_have_text("Done")
    _step(page, "follow_up").get_by_placeholder("Note (optional)").fill("Called back, line is up")
    _step(page, "follow_up").get_by_role("button", name="Done").click()
    expect(_step(page, "follow_up").locator(".badge")).to_have_text("Done")

    resolve = page.locator("form.resolve-form")
    resolve.get_by_label("Outcome").select_option("upheld")
    resolve.get_by_label("Explanation").fill("Line fault at the exchange, fixed.")
    resolve.get_by_label("Resolve with the fault undetermined").check()
    resolve.get_by_role("button", name="Resolve").click()
    expect(_status(page)).to_have_text("Resolved")
    expect(page.locator("#flash .flash-error")).to_have_count(0)

    timeline = page.locator("#case-timeline")
    for kind in ("created", "acknowledged", "step_done", "step_skipped", "resolved"):
        expect(timeline.locator(f'li[data-kind="{kind}"]').first).to_be_visible()
    expect(timeline.locator('li[data-kind="resolved"]')).to_contain_text("Ann Agent")
    expect(timeline.locator('li[data-kind="resolved"]')).to_contain_text(
        "resolved the case on time, with the complaint upheld"
    )
    expect(page.locator("#case-actions").get_by_role("button", name="Close")).to_be_visible()
    _shot(page, "case-resolved")

    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.outcome == "upheld"
    assert set(case.steps.values_list("step", "state")) >= {
        ("apologise", "done"),
        ("empathise", "skipped"),
        ("rectify", "done"),
        ("follow_up", "done"),
    }


def test_agent_adds_a_note_and_opens_a_case_by_phone(
    page: Any, login: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    CustomerFactory(name="Grace Hopper", external_ref="C-42")

    login(agent)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.get_by_role("link", name="New case").first.click()
    page.get_by_label("Find an existing customer").fill("Grace")
    page.locator('#customer-results input[name="customer"]').first.check()
    page.get_by_label("Title").fill("Charged twice for March")
    page.get_by_label("What they expected").fill("One charge")
    page.get_by_label("What was delivered").fill("Two charges")
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Assign to me (I will work this case)").check()
    page.get_by_role("button", name="Open case").click()
    expect(page.locator("#case-title")).to_have_text("Charged twice for March")
    case = Case.objects.get(title="Charged twice for March")
    assert case.customer.external_ref == "C-42"

    page.get_by_label("Message").fill("Customer will send the bank statement.")
    page.locator("#case-conversation").get_by_role("button", name="Add").click()
    expect(page.locator("#case-conversation .message-internal")).to_contain_text("bank statement")
    expect(page.locator('#case-timeline li[data-kind="message_added"]')).to_be_visible()

    # Another panel (or another tab) changes the case and fires caseChanged: the page refreshes
    # its header, steps, actions and timeline from the server.
    case.refresh_from_db()
    case_acknowledge(case=case, version=case.version, actor=agent)
    page.evaluate("htmx.trigger(document.body, 'caseChanged')")
    expect(_status(page)).to_have_text("Acknowledged")
    expect(page.locator('#case-timeline li[data-kind="acknowledged"]')).to_be_visible()
    _shot(page, "case-phone")
