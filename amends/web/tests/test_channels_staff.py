"""Staff views of a case's channels: the panel, files, original emails, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.channels.choices import OutboundStatus
from amends.channels.models import Attachment, InboundEmail, OutboundEmail
from amends.channels.services.inbound import mail_ingest
from amends.channels.tests.conftest import eml

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storage(settings: Any, tmp_path: Path) -> None:
    settings.AMENDS = {
        **settings.AMENDS,
        "ATTACHMENT_DIR": str(tmp_path / "files"),
        "MAIL_DIR": str(tmp_path / "mail"),
    }


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _emailed_case() -> Case:
    case_id = mail_ingest(raw=eml("attachment.eml")).case_id
    assert case_id is not None
    return Case.objects.get(pk=case_id)


def test_case_page_shows_channel_thread_and_delivery_state() -> None:
    case = _emailed_case()
    OutboundEmail.objects.filter(case=case).update(
        status=OutboundStatus.RETRYING, last_error="SMTP down", attempts=2
    )
    manager = UserFactory(role=Role.MANAGER)
    html = _client(manager).get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert "Came in by <strong>Email</strong>" in html
    assert "Received from dan@example.com" in html
    assert "Failed, will retry" in html
    assert "SMTP down" in html
    assert "screen.png" in html


def test_case_attachment_view_serves_staff_who_see_the_case_only() -> None:
    case = _emailed_case()
    attachment = Attachment.objects.get(case=case)
    url = reverse("web:case-attachment", args=[case.ref, attachment.pk])
    manager = UserFactory(role=Role.MANAGER)
    response = _client(manager).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert "attachment;" in response["Content-Disposition"]
    Case.objects.filter(pk=case.pk).update(team=TeamFactory(name="Billing"))
    outsider = UserFactory(role=Role.AGENT, team=TeamFactory(name="Network"))
    assert _client(outsider).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page


def test_case_email_original_view_shows_the_raw_message_as_text() -> None:
    case = _emailed_case()
    email = InboundEmail.objects.get(case=case)
    manager = UserFactory(role=Role.MANAGER)
    response = _client(manager).get(reverse("web:case-email-original", args=[case.ref, email.pk]))
    assert response["Content-Type"].startswith("text/plain")
    assert b"Message-ID: <attach-1@example.com>" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_case_email_retry_view_requeues_a_failed_email() -> None:
    case = _emailed_case()
    email = OutboundEmail.objects.get(case=case)
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundStatus.FAILED, attempts=8)
    manager = UserFactory(role=Role.MANAGER)
    response = _client(manager).post(reverse("web:case-email-retry", args=[case.ref, email.pk]))
    assert response.status_code == 302
    email.refresh_from_db()
    assert email.status == OutboundStatus.QUEUED
    assert email.attempts == 0
