from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from amends.remedies.sweeps import approval_sweep


class Command(BaseCommand):
    help = "Escalate overdue remedy approvals one level up (also run by `amends sweep`)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = approval_sweep(now=timezone.now())
        self.stdout.write(f"Escalated {count} overdue approval(s).")
