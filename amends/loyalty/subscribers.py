"""Reactions to the hooks of the floors below: keep facts, rollups and risk scores current."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from amends.core import hooks
from amends.loyalty.models import CaseFact, FactRefresh, IncidentFact
from amends.loyalty.services.facts import case_fact_mark_repeat, case_fact_refresh
from amends.loyalty.services.risk import (
    LOW_CSAT,
    LOW_NPS,
    LOW_WOULD_USE_AGAIN,
    customer_risk_refresh,
    customer_risk_signals_store,
    customer_risk_start,
)


def fact_refresh_queue(*, case_ids: list[int] | tuple[int, ...], now: datetime) -> None:
    """Queue cases for `loyalty.sweeps.fact_refresh_sweep` (one set-based insert)."""
    FactRefresh.objects.bulk_create(
        [FactRefresh(case_id=case_id, queued_at=now) for case_id in sorted(set(case_ids))],
        ignore_conflicts=True,
    )


def _refresh_pending(case_id: int) -> bool:
    """True when the case waits in the refresh queue. A case with no fact yet is being opened
    (insight reads a new case before loyalty's own `case_opened` reaction has queued it): it is
    queued here, so its intake does not pay for a full refresh."""
    if FactRefresh.objects.filter(case_id=case_id).exists():
        return True
    if CaseFact.objects.filter(case_id=case_id).exists():
        return False
    fact_refresh_queue(case_ids=(case_id,), now=timezone.now())
    return True


def _case_changed(case_id: int) -> None:
    fact = case_fact_refresh(case_id=case_id)
    if fact is not None:
        customer_risk_refresh(customer_id=fact.customer_id)


def on_case_opened(payload: hooks.CaseOpened) -> None:
    """A new case costs its intake one insert: the fact, the rollups and the customer's score
    follow in `fact_refresh_sweep` (the worker, within a sweep interval), or at once when the
    case changes again before that (every other case hook refreshes in full)."""
    fact_refresh_queue(case_ids=(payload.case_id,), now=timezone.now())


def on_case_status_changed(payload: hooks.CaseStatusChanged) -> None:
    _case_changed(payload.case_id)


def on_case_changed(payload: hooks.CaseChanged) -> None:
    _case_changed(payload.case_id)


def on_remedy_changed(payload: hooks.RemedyChanged) -> None:
    case_fact_refresh(case_id=payload.case_id)


def on_commitment_changed(payload: hooks.CommitmentChanged) -> None:
    _case_changed(payload.case_id)


def on_commitments_broken(payload: hooks.CommitmentsBroken) -> None:
    """The commitment sweep breaks promises in thousands at once: queue their cases (one
    set-based insert) for `loyalty.sweeps.fact_refresh_sweep` instead of refreshing each case's
    fact and customer risk inside the sweep's transaction."""
    fact_refresh_queue(case_ids=payload.case_ids, now=payload.now)


def on_customer_changed(payload: hooks.CustomerChanged) -> None:
    if payload.fields == ("created",):
        customer_risk_start(customer_id=payload.customer_id)
    elif "loyalty_status" in payload.fields:
        # A person (or an import) set the status: the score no longer owns it.
        customer_risk_refresh(customer_id=payload.customer_id, auto_at_risk=False)
    else:
        customer_risk_refresh(customer_id=payload.customer_id)


def _signals(
    customer_id: int, case_id: int, now: datetime, signals: dict[str, Any], *, pending: bool
) -> None:
    """Keep a signal; rescore now, unless the case waits in the refresh queue (`pending`),
    whose refresh will rescore the customer anyway."""
    if pending:
        customer_risk_signals_store(customer_id=customer_id, **signals)
    else:
        customer_risk_refresh(customer_id=customer_id, now=now, **signals)


def _pending(case_id: int, *, at_intake: bool) -> bool:
    """A case scored at intake is queued by this app's own `case_opened` reaction in the same
    dispatch (the hook's payload says so): no need to look."""
    return at_intake or _refresh_pending(case_id)


def on_message_scored(payload: hooks.MessageScored) -> None:
    signals: dict[str, Any] = {}
    now = timezone.now()
    if payload.upset:
        signals["last_upset_at"] = now
    if payload.churn_intent:
        signals["last_churn_intent_at"] = now
    if signals:
        pending = _pending(payload.case_id, at_intake=payload.at_intake)
        _signals(payload.customer_id, payload.case_id, now, signals, pending=pending)


def on_repeat_failure_detected(payload: hooks.RepeatFailureDetected) -> None:
    now = timezone.now()
    pending = _pending(payload.case_id, at_intake=payload.at_intake)
    if not pending:
        case_fact_mark_repeat(case_id=payload.case_id)
    # A queued case's fact is created with its repeat flag from the customer's earlier facts.
    signals: dict[str, Any] = {"last_repeat_failure_at": now}
    _signals(payload.customer_id, payload.case_id, now, signals, pending=pending)


def on_survey_answered(payload: hooks.SurveyAnswered) -> None:
    now = timezone.now()
    low = (
        (payload.csat is not None and payload.csat <= LOW_CSAT)
        or (payload.nps is not None and payload.nps <= LOW_NPS)
        or (payload.would_use_again is not None and payload.would_use_again <= LOW_WOULD_USE_AGAIN)
    )
    if payload.case_id is not None:
        case_fact_refresh(
            case_id=payload.case_id,
            csat=payload.csat,
            nps=payload.nps,
            would_use_again=payload.would_use_again,
            fair_outcome=payload.fair_outcome,
            fair_process=payload.fair_process,
            fair_treatment=payload.fair_treatment,
        )
    signals: dict[str, object] = {
        "last_survey_at": now,
        "last_csat": payload.csat,
        "last_nps": payload.nps,
        "last_would_use_again": payload.would_use_again,
    }
    if low:
        signals["last_low_survey_at"] = now
    customer_risk_refresh(customer_id=payload.customer_id, now=now, **signals)


def on_incident_impacted(payload: hooks.IncidentImpacted) -> None:
    fact, _ = IncidentFact.objects.get_or_create(incident_id=payload.incident_id)
    IncidentFact.objects.filter(pk=fact.pk).update(
        customers_hurt=fact.customers_hurt + len(set(payload.customer_ids))
    )


def on_incident_closed(payload: hooks.IncidentClosed) -> None:
    IncidentFact.objects.update_or_create(
        incident_id=payload.incident_id,
        defaults={"root_cause_id": payload.root_cause_id, "closed_at": timezone.now()},
    )


def subscribe_all() -> None:
    hooks.case_opened.subscribe(on_case_opened)
    hooks.case_status_changed.subscribe(on_case_status_changed)
    hooks.case_changed.subscribe(on_case_changed)
    hooks.remedy_changed.subscribe(on_remedy_changed)
    hooks.commitment_changed.subscribe(on_commitment_changed)
    hooks.commitments_broken.subscribe(on_commitments_broken)
    hooks.customer_changed.subscribe(on_customer_changed)
    hooks.message_scored.subscribe(on_message_scored)
    hooks.repeat_failure_detected.subscribe(on_repeat_failure_detected)
    hooks.survey_answered.subscribe(on_survey_answered)
    hooks.incident_impacted.subscribe(on_incident_impacted)
    hooks.incident_closed.subscribe(on_incident_closed)
