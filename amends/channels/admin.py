from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from amends.channels.models import (
    AddressFlag,
    InboundEmail,
    Mailbox,
    OutboundEmail,
    PortalLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from amends.channels.services.webhooks import secret_new


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    list_display = ["name", "host", "username", "folder", "active", "last_polled_at"]
    list_filter = ["active"]
    readonly_fields = ["last_polled_at", "last_error"]
    fields = [
        "name",
        "host",
        "port",
        "username",
        "password_env",
        "folder",
        "processed_folder",
        "active",
        "last_polled_at",
        "last_error",
    ]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    list_display = ["name", "url", "active", "consecutive_failures", "disabled_at"]
    list_filter = ["active"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_by"]
    fields = [
        "name",
        "url",
        "events",
        "secret",
        "active",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_by",
    ]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = secret_new()
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        if obj.active and change and "active" in form.changed_data:
            obj.consecutive_failures = 0
            obj.disabled_at = None
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Delivery logs and mail records are written by the services only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    ]
    list_filter = ["status", "event_type"]
    list_select_related = ["endpoint"]
    show_full_result_count = False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["to", "subject", "kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind", "automatic"]
    search_fields = ["to", "subject", "message_id"]
    show_full_result_count = False


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdmin):
    list_display = ["from_address", "subject", "outcome", "reason", "case", "created_at"]
    list_filter = ["outcome"]
    search_fields = ["from_address", "subject", "message_id"]
    exclude = ["html"]
    show_full_result_count = False


@admin.register(AddressFlag)
class AddressFlagAdmin(admin.ModelAdmin[AddressFlag]):
    list_display = ["address", "customer", "bounces", "last_bounce_at"]
    search_fields = ["address"]
    raw_id_fields = ["customer"]


@admin.register(PortalLink)
class PortalLinkAdmin(ReadOnlyAdmin):
    list_display = ["case", "expires_at", "revoked_at", "last_used_at", "created_at"]
    raw_id_fields = ["case"]
    exclude = ["nonce"]
