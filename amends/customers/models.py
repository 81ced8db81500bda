from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from amends.core.models import BaseModel
from amends.customers.choices import CustomerTier, LoyaltyStatus


class ByteOrder(models.Func):
    """An expression compared code point by code point, whatever the database's collation: a
    prefix is then a range an index serves. `COLLATE "C"` on PostgreSQL (its default
    collation may ignore punctuation when it orders, so a range would miss "o'brien" for
    "o'"); SQLite compares text that way already (BINARY)."""

    template = "%(expressions)s"
    output_field = models.CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template='(%(expressions)s) COLLATE "C"')


class Customer(BaseModel):
    """A person or organisation we serve, and owe a recovery when we fail them."""

    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    external_ref = models.CharField(max_length=100, null=True, blank=True, unique=True)
    tier = models.CharField(
        max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD
    )
    special_handling = models.BooleanField(default=False)
    special_handling_reason = models.CharField(max_length=500, blank=True)
    contract_end_date = models.DateField(null=True, blank=True)
    loyalty_status = models.CharField(
        max_length=20, choices=LoyaltyStatus.choices, default=LoyaltyStatus.ACTIVE
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # customers.selectors.customer_search: a name prefix without regard to case and a
            # phone prefix, each a range on its byte-ordered key
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            models.Index(fields=["phone"], name="customer_phone_idx"),
            models.Index(ByteOrder(Lower("name")), name="customer_name_key_idx"),
            models.Index(ByteOrder("phone"), name="customer_phone_key_idx"),
            # customers.selectors.customers_with_email: a sender found by address, whatever
            # its case (mail intake, the public form, bounces)
            models.Index(Lower("email"), name="customer_email_lower_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(special_handling=False) | ~Q(special_handling_reason=""),
                name="customer_special_handling_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vip(self) -> bool:
        return self.tier == CustomerTier.VIP


class CustomerEvent(models.Model):
    """An append-only record of a change to a customer's handling (tier, special handling):
    who, when, before → after."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customer_events",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # customers.selectors.customer_history: a customer's changes, newest first
            models.Index(fields=["customer", "-created_at"], name="customerevent_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"change to customer {self.customer_id}"
