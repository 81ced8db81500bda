"""Cache invalidation only: any change to recovery policy clears this process's copy."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from amends.policies.models import Calendar, Holiday, Playbook, PlaybookStep, SlaTarget
from amends.policies.selectors import policy_cache_clear


def _clear(**_: Any) -> None:
    policy_cache_clear()


def connect() -> None:
    for model in (Calendar, Holiday, Playbook, PlaybookStep, SlaTarget):
        for signal in (post_save, post_delete):
            signal.connect(
                _clear, sender=model, dispatch_uid=f"policy-cache-{model.__name__}-{signal}"
            )
