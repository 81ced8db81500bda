from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.channels.choices import OutboundStatus
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
