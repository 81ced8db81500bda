from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory
from amends.channels.choices import OutboundStatus
from amends.channels.models import OutboundEmail, PortalLink, WebhookDelivery
from amends.channels.services.inbound import mail_ingest
from amends.channels.services.portal import portal_case_for_token
from amends.channels.tests.conftest import eml

pytestmark = pytest.mark.django_db


def _emailed_case() -> Case:
    """A case opened by an email with a PNG attachment."""
    case_id = mail_ingest(raw=eml("attachment.eml")).case_id
    assert case_id is not None
    return Case.objects.get(pk=case_id)


@pytest.fixture
def manager() -> Any:
    return UserFactory(role=Role.MANAGER)


def test_case_email_list_endpoint_shows_the_thread_and_delivery_state(
    api_client_for: Any, manager: Any
) -> None:
    case = _emailed_case()
    r = api_client_for(manager).get(f"/api/v1/cases/{case.ref}/emails")
    assert r.status_code == 200, r.content
    thread = r.json()
    assert [e["direction"] for e in thread] == ["inbound", "outbound"]
    assert thread[0]["status"] == "opened"
    assert thread[1]["status"] == OutboundStatus.QUEUED


def test_outbound_retry_endpoint_requeues_and_refuses_a_sent_one(
    api_client_for: Any, manager: Any
) -> None:
    case = _emailed_case()
    email = OutboundEmail.objects.get(case=case)
    api = api_client_for(manager)
    assert api.post(f"/api/v1/cases/{case.ref}/emails/{email.pk}/retry").status_code == 409
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundStatus.FAILED)
    r = api.post(f"/api/v1/cases/{case.ref}/emails/{email.pk}/retry")
    assert r.json()["status"] == OutboundStatus.QUEUED


def test_attachment_endpoints_list_and_download(
    api_client_for: Any, manager: Any, tmp_path: Path
) -> None:
    case = _emailed_case()
    api = api_client_for(manager)
    files = api.get(f"/api/v1/cases/{case.ref}/attachments").json()
    assert [f["filename"] for f in files] == ["screen.png"]
    r = api.get(f"/api/v1/cases/{case.ref}/attachments/{files[0]['id']}")
    assert r.status_code == 200
    assert b"".join(r.streaming_content).startswith(b"\x89PNG")


def test_attachment_endpoint_hidden_from_staff_who_cannot_see_the_case(
    api_client_for: Any,
) -> None:
    case = _emailed_case()
    Case.objects.filter(pk=case.pk).update(team=TeamFactory(name="Billing"))
    outsider = UserFactory(role=Role.AGENT, team=TeamFactory(name="Network"))
    r = api_client_for(outsider).get(f"/api/v1/cases/{case.ref}/attachments")
    assert r.status_code == 404


def test_portal_link_issue_and_revoke_endpoints(api_client_for: Any, manager: Any) -> None:
    case = CaseFactory()
    api = api_client_for(manager)
    r = api.post(f"/api/v1/cases/{case.ref}/portal-links", {"days": 7})
    assert r.status_code == 201, r.content
    link = r.json()
    token = link["url"].rsplit("/c/", 1)[1]
    assert portal_case_for_token(token) == case
    revoked = api.post(f"/api/v1/portal-links/{link['id']}/revoke")
    assert revoked.json()["revoked_at"] is not None
    assert revoked.json()["url"] is None
    assert PortalLink.objects.get(pk=link["id"]).revoked_by == manager
    assert api.post(f"/api/v1/cases/{case.ref}/portal-links", {"days": 9999}).status_code == 422


def test_webhook_endpoints_are_for_administrators_only(api_client_for: Any, manager: Any) -> None:
    r = api_client_for(manager).post(
        "/api/v1/webhooks", {"name": "CRM", "url": "https://crm.example.com/hook"}
    )
    assert r.status_code == 403


def test_webhook_create_list_and_delivery_log(api_client_for: Any) -> None:
    admin = UserFactory(role=Role.ADMIN)
    api = api_client_for(admin)
    r = api.post(
        "/api/v1/webhooks",
        {"name": "CRM", "url": "https://crm.example.com/hook", "events": ["case.opened"]},
    )
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["secret"].startswith("whsec_")
    CaseFactory()
    log = api.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()
    assert [d["event_type"] for d in log["items"]] == ["case.opened"]
    assert WebhookDelivery.objects.count() == 1
    assert "secret" not in api.get("/api/v1/webhooks").json()[0]
    off = api.patch(f"/api/v1/webhooks/{created['id']}", {"active": False})
    assert off.json()["active"] is False
    bad = api.post("/api/v1/webhooks", {"name": "X", "url": "ftp://nope", "events": []})
    assert bad.status_code == 422
