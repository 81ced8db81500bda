"""The public pages: the complaint form (/report) and the customer portal (/c/<token>)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus, Channel, MessageDirection
from amends.cases.models import Case
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.channels.models import Attachment, OutboundEmail, PortalLink
from amends.channels.services.portal import (
    portal_link_issue,
    portal_link_revoke,
    portal_token,
)
from amends.commitments.tests.factories import CommitmentFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.services.menus import menu_create
from amends.remedies.services.remedies import RemedyInput
from amends.remedies.tests.factories import AuthorityRuleFactory, kind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storage(settings: Any, tmp_path: Path) -> None:
    settings.AMENDS = {**settings.AMENDS, "ATTACHMENT_DIR": str(tmp_path / "files")}


def _report(client: Client, **overrides: Any) -> Any:
    data = {
        "name": "Ann Example",
        "email": "ann@example.com",
        "expected": "A working connection",
        "happened": "No internet since Monday.\nThe router blinks red.",
        "website": "",
    }
    data.update(overrides)
    return client.post(reverse("web:report"), data, REMOTE_ADDR=overrides.pop("ip", "10.0.0.1"))


# ---- /report ---------------------------------------------------------------------------------


def test_report_view_opens_a_web_case_and_confirms_with_ref_and_link() -> None:
    client = Client()
    response = _report(client)
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == Channel.WEB
    assert case.title == "No internet since Monday."
    assert case.expected == "A working connection"
    done = client.get(response["Location"])
    html = done.content.decode()
    assert case.ref in html
    assert "/c/" in html
    email = OutboundEmail.objects.get(case=case)
    assert email.to == "ann@example.com"
    assert case.ref in email.body
    assert "/c/" in email.body


def test_report_view_honeypot_pretends_and_creates_nothing() -> None:
    response = _report(Client(), website="http://spam.example.com")
    assert response.status_code == 302
    assert not Case.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_report_view_rate_limits_per_ip(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "REPORT_MAX_PER_IP_HOUR": 2}
    client = Client()
    for n in range(2):
        assert _report(client, email=f"p{n}@example.com").status_code == 302
    response = _report(client, email="p9@example.com")
    assert response.status_code == 429
    assert Case.objects.count() == 2


def test_report_view_rate_limits_per_address(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "REPORT_MAX_PER_ADDRESS_HOUR": 1}
    assert _report(Client(), ip="10.0.0.1").status_code == 302
    assert _report(Client(), ip="10.0.0.2").status_code == 429
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "not-an-address"},
        {"happened": ""},
        {"happened": "x" * 5001},
        {"happened": "nul\x00byte"},
        {"name": "n" * 201},
        {"category": "999999999999999999999"},
    ],
)
def test_report_view_bad_input_is_a_4xx_and_writes_nothing(overrides: dict[str, str]) -> None:
    response = _report(Client(), **overrides)
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_report_view_attachment_over_the_limit_is_refused(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "ATTACHMENT_MAX_BYTES": 100}
    big = SimpleUploadedFile("big.png", b"x" * 200, content_type="image/png")
    response = _report(Client(), attachment=big)
    assert response.status_code == 422
    assert not Case.objects.exists()


def test_report_view_stores_the_attachment() -> None:
    photo = SimpleUploadedFile("router.png", b"\x89PNG...", content_type="image/png")
    _report(Client(), attachment=photo)
    assert Attachment.objects.get().filename == "router.png"


def test_report_page_has_no_inline_script_or_style() -> None:
    html = Client().get(reverse("web:report")).content.decode()
    assert "<script" not in html
    assert "style=" not in html


# ---- /c/<token> ------------------------------------------------------------------------------


def _portal(case: Case) -> tuple[Client, str]:
    link = portal_link_issue(case=case, actor=None)
    return Client(), portal_token(link)


def test_portal_shows_status_public_conversation_and_promises_only() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory(assignee=None)
    case_message_add(
        case=case, direction=MessageDirection.OUTBOUND, body="We are sorry.", actor=agent
    )
    case_message_add(
        case=case, direction=MessageDirection.INTERNAL, body="SECRET staff note", actor=agent
    )
    CommitmentFactory(case=case, description="Engineer visit on Tuesday", owner=agent)
    CommitmentFactory(case=case, description="HIDDEN promise", owner=agent, customer_visible=False)
    client, token = _portal(case)
    response = client.get(reverse("web:portal", args=[token]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "We have your complaint." in html
    assert "We are sorry." in html
    assert "Engineer visit on Tuesday" in html
    assert "SECRET staff note" not in html
    assert "HIDDEN promise" not in html
    assert agent.username not in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script" not in html
    assert "style=" not in html


@pytest.mark.parametrize("token", ["forged", "1.abc:def", "x" * 400])
def test_portal_forged_token_is_a_404_page(token: str) -> None:
    response = Client().get(reverse("web:portal", args=[token]))
    assert response.status_code == 404
    assert "Ask for a fresh link" in response.content.decode()


def test_portal_revoked_and_expired_links_are_refused() -> None:
    case = CaseFactory()
    revoked = portal_link_issue(case=case, actor=None)
    portal_link_revoke(link=revoked, actor=None)
    assert Client().get(reverse("web:portal", args=[portal_token(revoked)])).status_code == 404
    expired = portal_link_issue(case=case, actor=None)
    PortalLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert Client().get(reverse("web:portal", args=[portal_token(expired)])).status_code == 410


def test_portal_reply_adds_an_inbound_message() -> None:
    case = CaseFactory()
    client, token = _portal(case)
    response = client.post(reverse("web:portal-reply", args=[token]), {"body": "Still broken."})
    assert response.status_code == 302
    message = case.messages.get()
    assert message.direction == MessageDirection.INBOUND
    assert message.body == "Still broken."


def test_portal_reply_with_a_forged_token_writes_nothing() -> None:
    CaseFactory()
    response = Client().post(reverse("web:portal-reply", args=["forged"]), {"body": "Hi"})
    assert response.status_code == 404
    assert not Case.objects.get().messages.exists()


def test_portal_reply_bare_thanks_keeps_a_resolved_case_resolved() -> None:
    case = case_in_status(CaseStatus.RESOLVED, actor=UserFactory(role=Role.MANAGER))
    client, token = _portal(case)
    client.post(reverse("web:portal-reply", args=[token]), {"body": "Thank you!"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_portal_choose_picks_a_remedy_by_post_only() -> None:
    agent = UserFactory(role=Role.AGENT)
    AuthorityRuleFactory(role="agent", kind=kind("refund"), max_per_remedy="100.00")
    case = CaseFactory()
    menu = menu_create(
        case=case,
        options=[
            RemedyInput(kind="refund", amount="10.00", currency="USD"),
            RemedyInput(kind="refund", amount="20.00", currency="USD"),
        ],
        actor=agent,
    )
    first, second = list(menu.options.order_by("id"))
    client, token = _portal(case)
    page = client.get(reverse("web:portal", args=[token])).content.decode()
    assert "Confirm my choice" in page
    # Opening the page (or the choose URL) changes nothing.
    assert client.get(reverse("web:portal-choose", args=[token])).status_code == 405
    response = client.post(
        reverse("web:portal-choose", args=[token]), {"menu": menu.pk, "remedy": second.pk}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status != RemedyStatus.CANCELLED
    assert first.status == RemedyStatus.CANCELLED


def test_portal_choose_a_menu_of_another_case_is_refused() -> None:
    agent = UserFactory(role=Role.AGENT)
    other = CaseFactory()
    menu = menu_create(
        case=other,
        options=[RemedyInput(kind="goodwill_gesture", description=d) for d in ("A", "B")],
        actor=agent,
    )
    client, token = _portal(CaseFactory())
    option = menu.options.first()
    assert option is not None
    client.post(reverse("web:portal-choose", args=[token]), {"menu": menu.pk, "remedy": option.pk})
    assert set(menu.options.values_list("status", flat=True)) == {RemedyStatus.OFFERED}


def test_portal_attachment_only_for_that_case() -> None:
    case = CaseFactory()
    photo = SimpleUploadedFile("p.png", b"PNGDATA", content_type="image/png")
    client, token = _portal(case)
    client.post(reverse("web:portal-reply", args=[token]), {"body": "Photo", "attachment": photo})
    attachment = Attachment.objects.get()
    ok = client.get(reverse("web:portal-attachment", args=[token, attachment.pk]))
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content) == b"PNGDATA"  # type: ignore[attr-defined]
    _, other_token = _portal(CaseFactory())
    denied = client.get(reverse("web:portal-attachment", args=[other_token, attachment.pk]))
    assert denied.status_code == 404


def test_portal_link_request_emails_a_fresh_link_only_to_the_case_address() -> None:
    case = CaseFactory()
    url = reverse("web:portal-link-request")
    wrong = Client().post(url, {"email": "mallory@example.com", "ref": case.ref})
    right = Client().post(url, {"email": case.customer.email, "ref": case.ref})
    # The same answer either way: the form reveals nothing.
    assert wrong.content == right.content
    email = OutboundEmail.objects.get()
    assert email.to == case.customer.email
    assert "/c/" in email.body
