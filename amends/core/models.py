from django.db import models


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
