"""Every staff page and /api/docs load nothing from outside the server, and the main pages have
no serious accessibility violation (axe-core, vendored from npm in ./assets, injected here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
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
    _login(page, live_server.url, "ann")
    pages = [
        "/",
        f"/?q={customer.name.split()[1]}",
        "/queues/",
        f"/cases/{case.ref}/",
        "/cases/new/",
        "/customers/",
        f"/customers/{customer.pk}/",
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
