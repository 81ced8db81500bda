from django.db import models

from amends.core.money import CURRENCIES
from amends.core.validation import time_zone_validate


class BaseModel(models.Model):
    """Common timestamps for every Amends row."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` on a POST and the answer it got, replayed on a retry."""

    # Who sent it: a hash of the bearer token, or the logged-in user's id (keys are per client).
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    # Method, path and body hashed: the same key with another request is refused (422).
    fingerprint = models.CharField(max_length=64)
    # Null while the first request is still running.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotencykey_scope_key_uniq"),
        ]
        indexes = [
            # core.sweeps.idempotency_sweep: expired keys, oldest first
            models.Index(fields=["expires_at"], name="idempotencykey_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"Idempotency key {self.key}"


class Organisation(models.Model):
    """The organisation's own settings: its time zone and currency. One row (pk 1), edited in
    the admin; until someone saves it, the defaults come from the environment
    (`TIME_ZONE`, `AMENDS_CURRENCY`). Read through `amends.core.organisation.organisation()`."""

    name = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(
        max_length=64,
        validators=[time_zone_validate],
        help_text="Pages show times in this zone unless a staff member picks their own, "
        "e.g. Europe/London.",
    )
    currency = models.CharField(
        max_length=3,
        choices=[(c, c) for c in CURRENCIES],
        help_text="Remedy forms offer this currency first; reports total in it.",
    )

    class Meta:
        verbose_name = "organisation settings"
        verbose_name_plural = "organisation settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="organisation_single_row"),
        ]

    def __str__(self) -> str:
        return self.name or "Organisation settings"
