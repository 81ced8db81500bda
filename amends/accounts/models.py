from __future__ import annotations

from django.conf import settings
from django.db import models

from amends.accounts.choices import ROLE_RANK, Role
from amends.core.models import BaseModel
from amends.core.validation import time_zone_validate


class Team(BaseModel):
    """A group of staff who share a queue of cases."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffProfile(BaseModel):
    """A staff member's role and team: what they may see and do."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    # Pages show times in this zone; blank means the organisation's (amends.core.organisation).
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[time_zone_validate],
        help_text="Blank: the organisation's time zone.",
    )

    class Meta:
        indexes = [
            # accounts.selectors.staff_list_for_team: members of a team by role
            models.Index(fields=["team", "role"], name="staff_team_role_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self.role]

    @property
    def sees_all_teams(self) -> bool:
        return self.role in (Role.MANAGER, Role.ADMIN)


class ApiToken(BaseModel):
    """A bearer token for an API client acting as a staff user. Only a hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
