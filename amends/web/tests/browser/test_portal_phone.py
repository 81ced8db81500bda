"""The customer portal in a real Chromium at phone size: open the link, see the promise,
pick a remedy, reply."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory
from amends.channels.services.portal import portal_link_issue, portal_token
from amends.commitments.tests.factories import CommitmentFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.services.menus import menu_create
from amends.remedies.services.remedies import RemedyInput
from amends.remedies.tests.factories import AuthorityRuleFactory, kind, kinds_seed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_customer_uses_the_portal_on_a_phone(phone: Any, live_server: Any) -> None:
    from playwright.sync_api import expect

    kinds_seed()
    agent = UserFactory(role=Role.MANAGER, first_name="Sam", last_name="Staff")
    AuthorityRuleFactory(role="manager", kind=kind("goodwill_gesture"))
    case = CaseFactory(title="Broadband down for a week")
    case_message_add(
        case=case, direction=MessageDirection.OUTBOUND, body="We are so sorry.", actor=agent
    )
    case_message_add(
        case=case, direction=MessageDirection.INTERNAL, body="Staff-only remark", actor=agent
    )
    CommitmentFactory(case=case, description="An engineer visits on Tuesday", owner=agent)
    menu = menu_create(
        case=case,
        options=[
            RemedyInput(kind="goodwill_gesture", description="A bunch of flowers"),
            RemedyInput(kind="goodwill_gesture", description="Two cinema tickets"),
        ],
        actor=agent,
    )
    token = portal_token(portal_link_issue(case=case, actor=None))

    phone.goto(f"{live_server.url}/c/{token}")
    expect(phone.locator("h1")).to_have_text("Broadband down for a week")
    expect(phone.locator(".status-words")).to_have_text("We have your complaint.")
    expect(phone.locator(".promises")).to_contain_text("An engineer visits on Tuesday")
    expect(phone.locator(".public-messages")).to_contain_text("We are so sorry.")
    expect(phone.locator("body")).not_to_contain_text("Staff-only remark")
    # Nothing wider than the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    folder = Path(os.environ.get("AMENDS_SCREENSHOT_DIR", tempfile.gettempdir()))
    phone.screenshot(path=str(folder / "portal-phone.png"), full_page=True)

    phone.get_by_label("Two cinema tickets").check()
    phone.get_by_role("button", name="Confirm my choice").click()
    expect(phone.locator(".public-flash")).to_contain_text("Thank you, you chose")
    chosen = menu.options.exclude(status=RemedyStatus.CANCELLED).get()
    assert chosen.description == "Two cinema tickets"

    phone.get_by_label("Your reply").fill("Tuesday morning suits me.")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator(".public-flash")).to_contain_text("we have your reply")
    expect(phone.locator(".public-messages")).to_contain_text("Tuesday morning suits me.")
    assert case.messages.filter(direction=MessageDirection.INBOUND).get().body == (
        "Tuesday morning suits me."
    )
