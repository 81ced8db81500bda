"""Channels: a case's emails and files, portal links, webhook endpoints (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import FileResponse
from ninja import Router, Schema, Status
from pydantic import Field

from amends.api.schemas import ERRORS, Id, InSchema, PageOut
from amends.cases.selectors import case_get_for_user
from amends.channels.choices import WEBHOOK_EVENTS
from amends.channels.models import (
    Attachment,
    OutboundEmail,
    PortalLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from amends.channels.selectors import (
    attachment_get_for_case,
    attachment_list_for_case,
    case_channel_panel,
    outbound_get_for_case,
    portal_link_get_for_user,
    portal_link_list_for_case,
    webhook_admin_check,
    webhook_delivery_list,
    webhook_endpoint_list,
)
from amends.channels.services.attachments import attachment_file
from amends.channels.services.outbound import outbound_retry
from amends.channels.services.portal import portal_link_issue, portal_link_revoke, portal_url
from amends.channels.services.webhooks import (
    webhook_delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_update,
)
from amends.core.pagination import paginate
from amends.core.types import AuthedRequest

router = Router(tags=["channels"])


# ---- a case's emails and files ---------------------------------------------------------------


class EmailOut(Schema):
    id: int
    direction: str = Field(description="inbound (from the customer) or outbound (from us)")
    address: str
    subject: str
    message_id: str
    created_at: datetime
    status: str = Field(
        description="outbound: queued, sending, sent, retrying, failed; inbound: the outcome"
    )
    attempts: int | None = None
    last_error: str = ""
    sent_at: datetime | None = None
    bounced_at: datetime | None = None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    created_at: datetime


def _email_out(direction: str, email: Any) -> dict[str, Any]:
    if direction == "outbound":
        return {
            "id": email.pk,
            "direction": direction,
            "address": email.to,
            "subject": email.subject,
            "message_id": email.message_id,
            "created_at": email.created_at,
            "status": email.status,
            "attempts": email.attempts,
            "last_error": email.last_error,
            "sent_at": email.sent_at,
            "bounced_at": email.bounced_at,
        }
    return {
        "id": email.pk,
        "direction": direction,
        "address": email.from_address,
        "subject": email.subject,
        "message_id": email.message_id,
        "created_at": email.created_at,
        "status": email.outcome,
    }


@router.get("/cases/{ref}/emails", response={200: list[EmailOut], **ERRORS})
def case_email_list_endpoint(request: AuthedRequest, ref: str) -> list[dict[str, Any]]:
    """The case's email thread, oldest first, with each outbound email's delivery state."""
    case = case_get_for_user(ref=ref, user=request.user)
    panel = case_channel_panel(case=case)
    return [_email_out(item.direction, item.email) for item in panel.thread]


@router.post("/cases/{ref}/emails/{email_id}/retry", response={200: EmailOut, **ERRORS})
def outbound_retry_endpoint(request: AuthedRequest, ref: str, email_id: Id) -> dict[str, Any]:
    case = case_get_for_user(ref=ref, user=request.user)
    email: OutboundEmail = outbound_retry(email=outbound_get_for_case(case=case, email_id=email_id))
    return _email_out("outbound", email)


@router.get("/cases/{ref}/attachments", response={200: list[AttachmentOut], **ERRORS})
def case_attachment_list_endpoint(request: AuthedRequest, ref: str) -> list[Attachment]:
    case = case_get_for_user(ref=ref, user=request.user)
    return attachment_list_for_case(case_id=case.pk)


@router.get("/cases/{ref}/attachments/{attachment_id}", response={200: None, **ERRORS})
def case_attachment_download_endpoint(
    request: AuthedRequest, ref: str, attachment_id: Id
) -> FileResponse:
    case = case_get_for_user(ref=ref, user=request.user)
    attachment = attachment_get_for_case(case_id=case.pk, attachment_id=attachment_id)
    return FileResponse(
        attachment_file(attachment).open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )


# ---- portal links ---------------------------------------------------------------------------


class PortalLinkIssueIn(InSchema):
    days: int | None = Field(default=None, ge=1, le=366)


class PortalLinkOut(Schema):
    id: int
    case: str
    url: str | None = Field(description="The link to give the customer (null once revoked).")
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_case(obj: PortalLink) -> str:
        return obj.case.ref

    @staticmethod
    def resolve_url(obj: PortalLink) -> str | None:
        return None if obj.revoked_at else portal_url(obj)


@router.get("/cases/{ref}/portal-links", response={200: list[PortalLinkOut], **ERRORS})
def portal_link_list_endpoint(request: AuthedRequest, ref: str) -> list[PortalLink]:
    case = case_get_for_user(ref=ref, user=request.user)
    return list(portal_link_list_for_case(case_id=case.pk).select_related("case")[:100])


@router.post("/cases/{ref}/portal-links", response={201: PortalLinkOut, **ERRORS})
def portal_link_issue_endpoint(
    request: AuthedRequest, ref: str, payload: PortalLinkIssueIn
) -> Status[PortalLink]:
    case = case_get_for_user(ref=ref, user=request.user)
    return Status(201, portal_link_issue(case=case, actor=request.user, days=payload.days))


@router.post("/portal-links/{link_id}/revoke", response={200: PortalLinkOut, **ERRORS})
def portal_link_revoke_endpoint(request: AuthedRequest, link_id: Id) -> PortalLink:
    link = portal_link_get_for_user(link_id=link_id, user=request.user)
    return portal_link_revoke(link=link, actor=request.user)


# ---- webhooks (administrators) --------------------------------------------------------------


class WebhookIn(InSchema):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=f"Empty: all of {', '.join(WEBHOOK_EVENTS)}",
    )
    secret: str = Field(default="", max_length=100, description="whsec_… (generated if empty)")


class WebhookUpdateIn(InSchema):
    url: str | None = Field(default=None, max_length=500)
    events: list[str] | None = Field(default=None, max_length=20)
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    events: list[str]
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown once: verify signatures with it.")


class WebhookDeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_type: str
    webhook_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
def webhook_list_endpoint(request: AuthedRequest) -> list[WebhookEndpoint]:
    webhook_admin_check(user=request.user)
    return list(webhook_endpoint_list()[:200])


@router.post("/webhooks", response={201: WebhookCreatedOut, **ERRORS})
def webhook_create_endpoint(request: AuthedRequest, payload: WebhookIn) -> Status[WebhookEndpoint]:
    webhook_admin_check(user=request.user)
    endpoint = webhook_endpoint_create(
        name=payload.name,
        url=payload.url,
        events=payload.events,
        secret=payload.secret,
        actor=request.user,
    )
    return Status(201, endpoint)


@router.patch("/webhooks/{endpoint_id}", response={200: WebhookOut, **ERRORS})
def webhook_update_endpoint(
    request: AuthedRequest, endpoint_id: Id, payload: WebhookUpdateIn
) -> WebhookEndpoint:
    webhook_admin_check(user=request.user)
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    return webhook_endpoint_update(
        endpoint=endpoint,
        actor=request.user,
        url=payload.url,
        events=payload.events,
        active=payload.active,
    )


@router.get(
    "/webhooks/{endpoint_id}/deliveries", response={200: PageOut[WebhookDeliveryOut], **ERRORS}
)
def webhook_delivery_list_endpoint(
    request: AuthedRequest, endpoint_id: Id, page: int = 1, size: int | None = None
) -> dict[str, object]:
    webhook_admin_check(user=request.user)
    WebhookEndpoint.objects.get(pk=endpoint_id)
    return paginate(webhook_delivery_list(endpoint_id=endpoint_id), page=page, size=size).__dict__


@router.post(
    "/webhook-deliveries/{delivery_id}/retry", response={200: WebhookDeliveryOut, **ERRORS}
)
def webhook_delivery_retry_endpoint(request: AuthedRequest, delivery_id: Id) -> WebhookDelivery:
    webhook_admin_check(user=request.user)
    return webhook_delivery_retry(delivery=WebhookDelivery.objects.get(pk=delivery_id))
