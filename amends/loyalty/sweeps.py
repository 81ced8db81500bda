"""Loyalty's periodic work: refresh the facts and risks that set-based hooks queued."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from amends.core.conf import amends_setting
from amends.loyalty.models import FactRefresh
from amends.loyalty.services.facts import case_fact_refresh
from amends.loyalty.services.risk import customer_risk_refresh


def fact_refresh_sweep(*, now: datetime) -> int:
    """Refresh queued cases in batches; each case in its own transaction so a killed worker
    loses nothing (the queue row goes with the refresh it stood for)."""
    batch = int(amends_setting("SWEEP_BATCH_SIZE", 1000))
    done = 0
    while True:
        ids = list(
            FactRefresh.objects.filter(queued_at__lte=now)
            .order_by("queued_at", "case_id")
            .values_list("case_id", flat=True)[:batch]
        )
        if not ids:
            return done
        for case_id in ids:
            with transaction.atomic():
                if not FactRefresh.objects.filter(case_id=case_id).delete()[0]:
                    continue  # another worker took it
                fact = case_fact_refresh(case_id=case_id)
                if fact is not None:
                    customer_risk_refresh(customer_id=fact.customer_id)
                done += 1
