from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.channels.choices import InboundOutcome, OutboundStatus, WebhookDeliveryStatus
from amends.core.models import BaseModel


class OutboundEmail(BaseModel):
    """One email we owe someone: queued in the sender's transaction, sent by the worker."""

    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    automatic = models.BooleanField(default=False)
    kind = models.CharField(max_length=40)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_emails",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outbound_emails",
    )
    case_message = models.ForeignKey(
        "cases.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outbound_emails",
        help_text="The case message this email carries, if any.",
    )
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    message_id = models.CharField(max_length=250, unique=True)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # While a worker sends, the row is leased until this time; a worker killed mid-send
    # leaves the lease to expire and another worker retries.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # channels.services.outbound.outbound_send_due: pending rows whose time has come
            models.Index(fields=["status", "next_attempt_at", "id"], name="outbound_due_idx"),
            # case page: a case's emails in order
            models.Index(fields=["case", "created_at"], name="outbound_case_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=OutboundStatus.SENT) | Q(sent_at__isnull=False),
                name="outboundemail_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class PortalLink(BaseModel):
    """A signed, expiring, revocable link that lets a customer see and answer one case."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="portal_links")
    # Random part of the token; the token is this id and nonce signed with SECRET_KEY.
    nonce = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portal_links_issued",
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portal_links_revoked",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # channels.services.portal.portal_url_for_case: a case's newest live link
            models.Index(
                fields=["case", "revoked_at", "expires_at"], name="portallink_case_live_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Portal link for case {self.case_id}"


class InboundEmail(BaseModel):
    """One email we received: what it said, where it landed, and the original kept."""

    message_id = models.CharField(max_length=250, unique=True)
    from_address = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=250, blank=True)
    references = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The full text (quotes and signature included) and the new text alone.
    text = models.TextField(blank=True)
    new_text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="The HTML part, sanitised.")
    # Path of the raw RFC 5322 message, relative to the mail storage directory.
    raw_path = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=10, choices=InboundOutcome.choices)
    reason = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    previous_case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_up_emails",
        help_text="The closed case this mail answered (a follow-up case was opened).",
    )
    case_message = models.ForeignKey(
        "cases.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # case page: a case's mails in order
            models.Index(fields=["case", "created_at"], name="inbound_case_created_idx"),
            # channels.services.inbound: loop guard, recent mail from one sender
            models.Index(fields=["from_address", "created_at"], name="inbound_from_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"{instance.created_at:%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(BaseModel):
    """A file on a case, stored outside the web root: one a customer sent (by email, the form or
    the portal), or one staff attached to a message (`message`, `uploaded_by`)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="attachments")
    inbound_email = models.ForeignKey(
        InboundEmail,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    message = models.ForeignKey(
        "cases.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        help_text="The staff message the file was attached to, if any.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Relative to the attachment storage directory (AMENDS["ATTACHMENT_DIR"]).
    path = models.CharField(max_length=300)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # channels.selectors.attachment_list_for_case
            models.Index(fields=["case", "created_at"], name="attachment_case_created_idx"),
        ]

    def __str__(self) -> str:
        return self.filename


class AddressFlag(BaseModel):
    """An email address that bounced: mail to it is not trusted to arrive."""

    address = models.CharField(max_length=254, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="address_flags",
    )
    bounces = models.PositiveIntegerField(default=1)
    last_bounce_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-last_bounce_at", "-id"]

    def __str__(self) -> str:
        return self.address


class Mailbox(BaseModel):
    """An IMAP mailbox `amends mail poll` reads; the password comes from the environment."""

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=200)
    port = models.PositiveIntegerField(default=993)
    username = models.CharField(max_length=200)
    password_env = models.CharField(
        max_length=100,
        default="AMENDS_IMAP_PASSWORD",
        help_text="Name of the environment variable holding the password.",
    )
    folder = models.CharField(max_length=200, default="INBOX")
    processed_folder = models.CharField(
        max_length=200, blank=True, help_text="Move taken mail here (empty: mark it seen)."
    )
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportRecord(models.Model):
    """A row we imported, by source and source id, so importing again updates it."""

    source = models.CharField(max_length=40)
    source_id = models.CharField(max_length=100)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="importrecord_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class WebhookEndpoint(BaseModel):
    """A URL that receives case events, signed per the Standard Webhooks spec."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=100, blank=True, help_text="whsec_… (base64); generated if empty."
    )
    events = models.JSONField(default=list, blank=True, help_text="Empty: every event.")
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(BaseModel):
    """One event for one endpoint, and every attempt to deliver it."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=40)
    webhook_id = models.CharField(max_length=64, unique=True)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # channels.services.webhooks.webhook_deliver_due
            models.Index(
                fields=["status", "next_attempt_at", "id"], name="webhookdelivery_due_idx"
            ),
            # delivery log per endpoint, newest first
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class ReportSubmission(models.Model):
    """One use of the public form, for its rate limits (per IP and per address)."""

    ip_hash = models.CharField(max_length=64)
    address = models.CharField(max_length=254)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            # channels.services.report: submissions from one IP / one address in the last hour
            models.Index(fields=["ip_hash", "created_at"], name="report_ip_created_idx"),
            models.Index(fields=["address", "created_at"], name="report_address_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.address} at {self.created_at:%Y-%m-%d %H:%M}"
