from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Commitment
from amends.commitments.sweeps import commitment_sweep
from amends.commitments.tests.factories import CommitmentFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_commitment_sweep_overdue_promise_shows_broken_with_escalation(
    page, login, live_server
) -> None:
    team = TeamFactory(name="Broadband")
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team, username="sam")
    agent = UserFactory(role=Role.AGENT, team=team, username="alex")
    case = CaseFactory(team=team, assignee=agent, title="No internet for a week")
    promise = CommitmentFactory(
        case=case,
        owner=agent,
        description="Engineer visit on Friday",
        due_at=timezone.now() + timedelta(hours=3),
    )
    login(agent)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    panel = page.locator("#commitments-panel")
    assert panel.locator(f"#commitment-{promise.pk} .badge").inner_text() == "On track"

    # The due time passes and the sweep runs.
    Commitment.objects.filter(pk=promise.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert commitment_sweep(now=timezone.now()) == 1

    page.reload()
    row = panel.locator(f"#commitment-{promise.pk}")
    assert row.locator(".badge").inner_text() == "Broken"
    assert "badge-broken" in row.locator(".badge").get_attribute("class")
    escalations = panel.locator("table[aria-labelledby=escalations-heading]")
    assert "Broken promise" in escalations.inner_text()
    assert supervisor.get_full_name() in escalations.inner_text()

    # The supervisor decides it from the case page.
    page.context.clear_cookies()
    login(supervisor)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    page.fill(
        "#commitments-panel textarea[name=decision]", "Rebook engineer for Monday, goodwill credit"
    )
    page.click("#commitments-panel form[hx-post*=decide] button")
    page.wait_for_selector("#commitments-panel >> text=Rebook engineer for Monday")
    assert (
        "Decided"
        in page.locator(
            "#commitments-panel table[aria-labelledby=escalations-heading]"
        ).inner_text()
    )
