"""The SLA sweep (listed in settings.AMENDS_SWEEPS, run by `amends.core.sweeps.sweeps_run`).

A live case (open, not awaiting the customer) whose SLA clock ran out, or whose at-risk moment
came, is announced once per clock through a batch hook (`cases_sla_breached`,
`cases_sla_at_risk`); the floors above react (commitments opens the escalation and the
notifications). Whether a clock was handled is the case's own marker: `sla_breach_noted_at` /
`sla_at_risk_noted_at` hold the sweep's `now` when it handled the case, and a marker older than
the current `sla_due_at` / `sla_at_risk_at` means the clock was re-timed since (severity change,
acknowledge, reopen) and is a fresh candidate.

The candidates are read ids only, by one range scan of a partial index that holds exactly the
unhandled live clocks (`case_sla_breach_todo_idx`, `case_sla_at_risk_todo_idx`); handled rows
leave the index, so an idle run reads nothing. Batches follow `amends.core.sweeps`: each is one
transaction that takes its rows (SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite),
re-checks them, emits the hook and marks the batch with one UPDATE, so the reactions and the
marker commit together and a killed sweep loses at most the batch in flight.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from amends.cases.models import SLA_AT_RISK_UNNOTED, SLA_BREACH_UNNOTED, SLA_LIVE, Case
from amends.core import hooks
from amends.core.sweeps import MAX_PER_RUN, sweep_in_batches, sweep_locked_ids


def _breach_candidates(now: datetime) -> QuerySet[Case]:
    return Case.objects.filter(SLA_LIVE & SLA_BREACH_UNNOTED, sla_due_at__lte=now)


def _at_risk_candidates(now: datetime) -> QuerySet[Case]:
    return Case.objects.filter(
        SLA_LIVE & Q(assignee__isnull=False) & SLA_AT_RISK_UNNOTED,
        sla_at_risk_at__lte=now,
        sla_due_at__gt=now,
    )


def _breach_batch(chunk: list[int], now: datetime) -> int:
    locked = sweep_locked_ids(Case.objects.filter(pk__in=chunk))
    rows = list(
        _breach_candidates(now)
        .filter(pk__in=locked)
        .order_by("sla_due_at", "id")
        .values_list("pk", "team_id", "playbook_id", "assignee_id", "sla_due_at")
    )
    if not rows:
        return 0
    payload = hooks.CasesSlaBreached(
        breaches=tuple(
            hooks.SlaBreach(
                case_id=pk,
                team_id=team_id,
                playbook_id=playbook_id,
                assignee_id=assignee_id,
                sla_due_at=due,
            )
            for pk, team_id, playbook_id, assignee_id, due in rows
            if due is not None  # always: a candidate's clock is live
        ),
        now=now,
    )
    hooks.cases_sla_breached.emit(payload)
    held = set(payload.held)
    marked = [row[0] for row in rows if row[0] not in held]
    if marked:
        Case.objects.filter(pk__in=marked).update(sla_breach_noted_at=now)
    return len(marked)


def _at_risk_batch(chunk: list[int], now: datetime) -> int:
    locked = sweep_locked_ids(Case.objects.filter(pk__in=chunk))
    rows = list(
        _at_risk_candidates(now)
        .filter(pk__in=locked)
        .order_by("id")
        .values_list("pk", "assignee_id", "sla_due_at", "sla_at_risk_at")
    )
    if not rows:
        return 0
    hooks.cases_sla_at_risk.emit(
        hooks.CasesSlaAtRisk(
            cases=tuple(
                hooks.SlaAtRisk(
                    case_id=pk, assignee_id=assignee_id, sla_due_at=due, sla_at_risk_at=at_risk
                )
                for pk, assignee_id, due, at_risk in rows
                if due is not None and at_risk is not None
            ),
            now=now,
        )
    )
    Case.objects.filter(pk__in=[row[0] for row in rows]).update(sla_at_risk_noted_at=now)
    return len(rows)


def sla_sweep(*, now: datetime) -> int:
    """Announce each live case's breached clock once (`cases_sla_breached`) and each assigned
    case's at-risk moment once (`cases_sla_at_risk`); returns how many cases were marked."""
    breach_ids = list(
        _breach_candidates(now)
        .order_by("sla_due_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )
    risk_ids = list(
        _at_risk_candidates(now)
        .order_by("sla_at_risk_at", "id")
        .values_list("pk", flat=True)[:MAX_PER_RUN]
    )
    breached = sweep_in_batches(breach_ids, lambda chunk: _breach_batch(chunk, now))
    return breached + sweep_in_batches(sorted(risk_ids), lambda chunk: _at_risk_batch(chunk, now))
