"""End to end in Chromium: an agent proposes above their limit, the supervisor approves."""

from __future__ import annotations

import re

import pytest

from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.tests.factories import kinds_seed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_remedy_above_limit_is_approved_from_the_approvals_page(org, page, login, live_server):
    kinds_seed()
    case_url = f"{live_server.url}/cases/{org.case.ref}/"

    # The agent sees their remaining limit before proposing, then proposes above it.
    login(org.agent)
    page.goto(case_url)
    panel = page.locator("#case-remedies")
    page.select_option("#remedy-kind", "voucher")
    panel.locator("#remedy-headroom").get_by_text("not within your authority").wait_for()
    page.select_option("#remedy-kind", "refund")
    panel.locator("#remedy-headroom").get_by_text("$50.00").wait_for()
    page.fill("#remedy-amount", "120.00")
    page.fill("#remedy-reason", "No broadband for a week")
    page.get_by_role("button", name="Propose remedy").click()
    result = page.locator("#remedy-result")
    result.wait_for()
    assert "Needs approval by" in result.inner_text()
    assert "(sam)" in result.inner_text()
    assert re.search(r"by \d{1,2} \w{3} \d{4}, \d{2}:\d{2}", result.inner_text())
    remedy = Remedy.objects.get()
    assert remedy.status == RemedyStatus.PENDING_APPROVAL

    # The supervisor signs in, finds it on the approvals page and approves it.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/login/.*"))
    login(org.supervisor)
    page.get_by_role("link", name=re.compile(r"^Approvals")).click()
    row = page.locator(f"#approval-{remedy.pk}")
    row.get_by_placeholder("Reason (optional)").fill("Fair for a week's outage")
    row.get_by_role("button", name="Approve").click()
    page.locator(f"#approval-{remedy.pk}[data-status=approved]").wait_for()
    remedy.refresh_from_db()
    assert remedy.status == RemedyStatus.APPROVED
    assert remedy.decided_by == org.supervisor

    # The case timeline shows both the request and the decision.
    page.goto(case_url)
    timeline = page.locator("#case-timeline")
    assert timeline.locator("[data-kind=remedy_approval_requested]").count() == 1
    assert timeline.locator("[data-kind=remedy_approved]").count() == 1
    assert "Remedy approved" in timeline.inner_text()
    assert page.locator(f"#remedy-{remedy.pk} .badge").inner_text() == "Approved"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_remedy_panel_follows_the_case_when_it_is_resolved_from_the_actions(
    org, page, login, live_server
):
    from amends.cases.services.workflow import case_resume
    from amends.cases.tests.factories import steps_complete

    kinds_seed()
    case = case_resume(case=org.case, version=None, actor=org.agent)
    steps_complete(case)
    login(org.agent)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    page.locator("#remedy-propose-form").wait_for()
    page.locator("#resolve-confirm-undetermined").check()
    page.locator("#action-resolve").click()
    # The case panels reload themselves; the remedies panel must follow (no propose form on a
    # resolved case) without a page reload.
    page.get_by_text("This case is resolved or closed; reopen it to offer a remedy.").wait_for()
    assert page.locator("#remedy-propose-form").count() == 0
