"""An agent replies with two files through the real form (htmx, multipart) in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.channels.models import Attachment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_replies_with_two_files(
    page: Any, login: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    settings.AMENDS = {**settings.AMENDS, "ATTACHMENT_DIR": str(tmp_path / "files")}
    team = TeamFactory(name="Broadband")
    agent = UserFactory(username="ann", role=Role.AGENT, team=team)
    case = CaseFactory(team=team, assignee=agent, title="Broadband down for a week")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF the letter")
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG pixels")

    login(agent)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    conversation = page.locator("#case-conversation")
    conversation.get_by_label("Type").select_option("outbound")
    conversation.get_by_label("Message").fill("Our letter and the photo are attached.")
    conversation.get_by_label("Files").set_input_files([str(letter), str(photo)])
    conversation.get_by_role("button", name="Add").click()
    files = page.locator("#case-conversation .message-outbound .message-files a")
    expect(files).to_have_text(["letter.pdf", "photo.png"])
    stored = Attachment.objects.order_by("id")
    assert [(a.filename, a.size) for a in stored] == [("letter.pdf", 15), ("photo.png", 11)]
