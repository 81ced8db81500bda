"""Fixtures shared by every test module: API clients and a real Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.accounts.services import api_token_create

CHROMIUM = os.environ.get("AMENDS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


class ApiClient:
    """A JSON client authenticating with a real bearer token."""

    def __init__(self, user: User) -> None:
        _, raw = api_token_create(user=user, name="tests")
        self.token = raw
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(
            path, data if data is not None else {}, content_type="application/json"
        )

    def put(self, path: str, data: Any) -> Any:
        return self.client.put(path, data, content_type="application/json")

    def patch(self, path: str, data: Any) -> Any:
        return self.client.patch(path, data, content_type="application/json")


@pytest.fixture(autouse=True)
def _policy_cache_fresh() -> Iterator[None]:
    """Each test starts with fresh per-process policy, escalation-rule and organisation caches."""
    from amends.commitments.services.rules import escalation_rules_cache_clear
    from amends.core.organisation import (
        organisation_cache_clear,
        organisation_cache_prime,
        organisation_defaults,
    )
    from amends.policies.selectors import policy_cache_clear

    policy_cache_clear()
    escalation_rules_cache_clear()
    # No test database holds organisation settings until a test saves them (which clears
    # this): start each test with what a read would find, as a warm process has it.
    organisation_cache_prime(organisation_defaults())
    yield
    policy_cache_clear()
    escalation_rules_cache_clear()
    organisation_cache_clear()


@pytest.fixture(autouse=True)
def _webhook_cache_empty() -> Iterator[None]:
    """No webhook endpoint unless a test saves one (saving clears the per-process cache), so
    every test counts the same queries."""
    from amends.channels.services.webhooks import webhook_cache_assume_none

    webhook_cache_assume_none()
    yield
    webhook_cache_assume_none()


@pytest.fixture
def api_client_for() -> Any:
    return ApiClient


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; the test command installs it with apt.")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def login(page: Any, live_server: Any) -> Any:
    """`login(user)` signs the browser in through the real login form (password "pw")."""

    def _login(user: User, password: str = "pw") -> Any:
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/**")
        return page

    return _login
