"""Every staff page and /api/docs load nothing from outside the server, and the main pages have
no serious accessibility violation (axe-core, vendored from npm in ./assets, injected here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.models import Notification
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.customers.tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "assets" / "axe.min.js"


@pytest.fixture
def watched(browser: Any, live_server: Any) -> Iterator[tuple[Any, list[str]]]:
    """A page that records every request it makes; CSP is bypassed only so the test can inject
    axe-core (the pages themselves load no inline script)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    yield page, requests
    context.close()


def _outside(requests: list[str], base: str) -> list[str]:
    return [url for url in requests if not url.startswith((base, "data:", "blob:"))]


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/**")


def _serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_api_docs_render_from_local_files_only(watched: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    page, requests = watched
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Amends API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    assert f"{live_server.url}/api/v1/openapi.json" in requests
    assert _outside(requests, live_server.url) == []


def test_staff_pages_load_nothing_from_outside_and_pass_axe(watched: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    page, requests = watched
    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    UserFactory(username="mo", role=Role.MANAGER, team=team)
    customer = CustomerFactory(name="Poppy Walsh")
    case = CaseFactory(team=team, assignee=agent, customer=customer, title="Line dead")
    for severity in (1, 2, 4):  # every severity badge is on the queue (contrast)
        CaseFactory(team=team, assignee=agent, severity=severity, title=f"Severity {severity}")
    notifications_create(  # one unread and one read notification (their chips' contrast)
        specs=[
            NotificationSpec(
                recipient_id=agent.pk,
                kind="escalation_assigned",
                message=f"Escalation {n}",
                dedupe_key=f"n{n}",
                case_id=case.pk,
            )
            for n in range(2)
        ]
    )
    Notification.objects.filter(message="Escalation 0").update(read_at=timezone.now())
    _login(page, live_server.url, "ann")
    pages = [
        "/",
        f"/?q={customer.name.split()[1]}",
        "/queues/",
        f"/cases/{case.ref}/",
        "/cases/new/",
        "/customers/",
        f"/customers/{customer.pk}/",
        "/notifications/",
        "/approvals/",
        "/authority/",
        "/promises/",
        "/escalations/",
        "/me/",
    ]
    problems: dict[str, list[str]] = {}
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        expect(page.locator("h1").first).to_be_visible()
        found = _serious_violations(page)
        if found:
            problems[path] = found
    # A manager lands on the overview.
    page.context.clear_cookies()
    _login(page, live_server.url, "mo")
    expect(page.locator("h1").first).to_contain_text("Overview")
    found = _serious_violations(page)
    if found:
        problems["/ (manager overview)"] = found
    assert problems == {}
    assert _outside(requests, live_server.url) == []


def test_phone_nav_shows_every_section_and_case_panels_fold(browser: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    case = CaseFactory(team=team, assignee=agent, title="Line dead")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _login(page, live_server.url, "ann")
        toggle = page.locator(".nav-toggle")
        expect(toggle).to_be_visible()
        expect(page.locator("#main-nav")).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        links = page.locator("#main-nav a")
        for index in range(links.count()):  # every section on screen, none off to the side
            box = links.nth(index).bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 390
        page.goto(f"{live_server.url}/cases/{case.ref}/")
        timeline = page.locator("#case-timeline details.fold")
        expect(timeline).not_to_have_attribute("open", "")
        page.locator("#case-timeline-title").click()
        expect(timeline).to_have_attribute("open", "")
        account = page.locator("#case-account details.fold")
        expect(account).not_to_have_attribute("open", "")
        expect(page.locator("#case-account .compare")).to_be_hidden()
        page.locator("#case-account-title").click()
        expect(account).to_have_attribute("open", "")
        expect(page.locator("#case-account .compare")).to_be_visible()
    finally:
        context.close()
