"""What the feedback app does when lower apps announce something (subscribed in apps.ready)."""

from __future__ import annotations

from amends.cases.choices import CaseStatus
from amends.core import hooks
from amends.feedback.services.kpis import (
    approval_decided_record,
    case_kpi_forget,
    case_kpi_record,
)
from amends.feedback.services.surveys import survey_schedule_for_case

DONE = (CaseStatus.RESOLVED, CaseStatus.CLOSED)


def on_case_status_changed(payload: hooks.CaseStatusChanged) -> None:
    if payload.after == CaseStatus.RESOLVED:
        case_kpi_record(case_id=payload.case_id)
        survey_schedule_for_case(case_id=payload.case_id, reason="resolved")
    elif payload.before in DONE and payload.after not in DONE:
        case_kpi_forget(case_id=payload.case_id)
    elif payload.after == CaseStatus.CLOSED:
        _refresh_if_resolved(payload.case_id)  # a resolved duplicate merged away leaves the KPIs


def on_survey_requested(payload: hooks.SurveyRequested) -> None:
    survey_schedule_for_case(
        case_id=payload.case_id, reason=payload.reason, incident_id=payload.incident_id
    )


def on_remedy_changed(payload: hooks.RemedyChanged) -> None:
    if payload.after in ("approved", "rejected"):
        approval_decided_record(remedy_id=payload.remedy_id)


def on_commitment_changed(payload: hooks.CommitmentChanged) -> None:
    _refresh_if_resolved(payload.case_id)


def on_commitments_broken(payload: hooks.CommitmentsBroken) -> None:
    for case_id in set(payload.case_ids):
        _refresh_if_resolved(case_id)


def _refresh_if_resolved(case_id: int) -> None:
    from amends.feedback.models import CaseKpi

    if CaseKpi.objects.filter(case_id=case_id).exists():
        case_kpi_record(case_id=case_id)


def subscribe() -> None:
    hooks.case_status_changed.subscribe(on_case_status_changed)
    hooks.survey_requested.subscribe(on_survey_requested)
    hooks.remedy_changed.subscribe(on_remedy_changed)
    hooks.commitment_changed.subscribe(on_commitment_changed)
    hooks.commitments_broken.subscribe(on_commitments_broken)
