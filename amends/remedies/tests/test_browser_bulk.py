"""End to end in Chromium: a supervisor approves several requests at once from the list."""

from __future__ import annotations

import re
from typing import Any

import pytest

from amends.cases.tests.factories import CaseFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_propose
from amends.remedies.tests.factories import kinds_seed


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supervisor_approves_ticked_requests_and_sees_a_result_per_row(
    org: Any, page: Any, login: Any
) -> None:
    from playwright.sync_api import expect

    kinds_seed()
    page.set_default_timeout(20_000)  # a busy machine serves the live server slowly
    waiting = [
        remedy_propose(
            case=CaseFactory(team=org.team, assignee=org.agent),
            kind="refund",
            amount=amount,
            currency="USD",
            reason="Charged twice",
            actor=org.agent,
        )
        for amount in ("60.00", "70.00", "80.00")
    ]
    assert {r.status for r in waiting} == {RemedyStatus.PENDING_APPROVAL}
    login(org.supervisor)
    page.get_by_role("link", name=re.compile(r"^Approvals")).first.click()
    for remedy in waiting[:2]:
        page.locator(f"#tick-{remedy.pk}").check()
    page.locator("#bulk-reason").fill("Fair for the outage")
    page.locator("#bulk-approve").click()
    result = page.locator("#bulk-result-list")
    expect(result).to_contain_text("2 done")
    for remedy in waiting[:2]:
        expect(result.locator(f'li[data-ref="{remedy.pk}"]')).to_have_class("ok")
        expect(page.locator(f"#approval-{remedy.pk}")).to_have_count(0)
    # The row left unticked still waits.
    expect(page.locator(f"#approval-{waiting[2].pk}")).to_be_visible()
    statuses = dict(Remedy.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in waiting] == [
        RemedyStatus.APPROVED,
        RemedyStatus.APPROVED,
        RemedyStatus.PENDING_APPROVAL,
    ]
