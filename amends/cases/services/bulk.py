"""Bulk intake: many cases in a few statements, for imports.

`case_create_bulk` keeps case_create's invariants for each case — its playbook's steps, SLA
clocks computed from the case's own (possibly historic) start, and a `created` event — but
writes them set-based (one INSERT per table per batch). It also takes a case's history as
facts (acknowledged / resolved / closed times and the outcome) for records that were handled
before Amends. The routing rules apply as at every intake (read once per batch, matched in
memory). It does not emit per-case hooks or apply escalation rules: imported history is not a
live intake (docs/channels.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from amends.cases.choices import (
    DONE_STATUSES,
    CaseEventKind,
    CaseStatus,
    Channel,
    Fault,
    Outcome,
    StepState,
)
from amends.cases.models import Case, CaseEvent, CaseStep, case_ref
from amends.cases.services.intake import FALLBACK_STEPS
from amends.cases.services.routing import route_match, routing_rules_load
from amends.cases.services.sla import sla_compute, sla_current_clock, sla_policy_of
from amends.core.bulk import copy_rows, insert_returning_ids
from amends.core.exceptions import ApplicationError
from amends.customers.models import Customer
from amends.policies.models import Playbook
from amends.policies.selectors import playbook_for_category, playbook_get
from amends.taxonomy.models import Category

IMPORTED_STEP_REASON = "Handled before the case was imported."


@dataclass
class CaseSpec:
    """One case to create in bulk; `created_at` and the history fields may be in the past."""

    customer: Customer
    title: str
    description: str = ""
    expected: str = ""
    delivered: str = ""
    channel: str = Channel.IMPORT
    severity: int = 3
    fault: str = Fault.UNDETERMINED
    category: Category | None = None
    service_id: int | None = None
    created_at: datetime | None = None
    status: str = CaseStatus.NEW
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    outcome_explanation: str = ""
    event_data: dict[str, Any] = field(default_factory=dict)


class CaseSpecError(ApplicationError):
    def __init__(self, index: int, message: str) -> None:
        super().__init__(message, code="invalid_case", status=422, detail={"index": index})
        self.index = index


CHANNELS = frozenset(Channel.values)
STATUSES = frozenset(CaseStatus.values)
OUTCOMES = frozenset(Outcome.values)


def case_spec_check(spec: CaseSpec) -> str | None:
    """Why this spec cannot become a case, or None. Importers reject such rows one by one."""
    if not spec.title.strip():
        return "a case needs a title"
    if spec.channel not in CHANNELS:
        return f"unknown channel {spec.channel!r}"
    if spec.severity not in (1, 2, 3, 4):
        return "severity must be 1, 2, 3 or 4"
    if spec.status not in STATUSES:
        return f"unknown status {spec.status!r}"
    if spec.status in DONE_STATUSES:
        if spec.outcome not in OUTCOMES:
            return "a resolved or closed case needs an outcome"
        if spec.outcome == Outcome.NOT_UPHELD and not spec.outcome_explanation.strip():
            return "an outcome of not upheld needs an explanation"
    now = timezone.now()
    for name in ("created_at", "acknowledged_at", "resolved_at", "closed_at"):
        value = getattr(spec, name)
        if value is not None and (value.tzinfo is None or value > now):
            return f"{name.replace('_', ' ')} is in the future or has no time zone"
    return None


def _steps_of(
    playbook: Playbook | None, cache: dict[int | None, list[tuple[str, bool, str]]]
) -> Any:
    key = playbook.pk if playbook is not None else None
    if key not in cache:
        cache[key] = (
            [(s.step, s.required, s.due) for s in playbook.steps.all()]
            if playbook is not None
            else list(FALLBACK_STEPS)
        )
    return cache[key]


def _dt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _execute_many(model: type[Model], sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Many small rows without a model instance each: COPY on PostgreSQL, one prepared
    statement run for every row (executemany) on SQLite."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        columns = sql.split("(", 1)[1].split(")", 1)[0]
        copy_rows(model._meta.db_table, [c.strip() for c in columns.split(",")], rows)
        return
    json_param = "%s"
    statement = sql.format(table=connection.ops.quote_name(model._meta.db_table), json=json_param)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(statement, rows[start : start + 5000])


@transaction.atomic
def case_create_bulk(*, specs: list[CaseSpec], actor: User | None) -> list[Case]:
    """Create every case of `specs` (all or none). Raises CaseSpecError naming the first bad
    spec; callers check specs first with `case_spec_check` to reject rows individually."""
    now = timezone.now()
    now_db = _dt(now)
    steps_cache: dict[int | None, list[tuple[str, bool, str]]] = {}
    rules = routing_rules_load()
    sla_memo: dict[tuple[int, datetime], tuple[datetime, datetime, datetime, datetime]] = {}
    policies: dict[tuple[int | None, int], Any] = {}
    cases: list[Case] = []
    playbooks: list[Playbook | None] = []
    routes: list[str | None] = []
    for index, spec in enumerate(specs):
        problem = case_spec_check(spec)
        if problem:
            raise CaseSpecError(index, problem)
        created = spec.created_at or now
        route = route_match(
            rules,
            category=spec.category,
            service_id=spec.service_id,
            channel=spec.channel,
            customer_tier=spec.customer.tier,
        )
        playbook = None
        if route is not None and route.playbook_id is not None:
            playbook = playbook_get(playbook_id=route.playbook_id)
        if playbook is None:
            playbook = playbook_for_category(category=spec.category, customer=spec.customer)
        done = spec.status in DONE_STATUSES
        case = Case(
            customer=spec.customer,
            title=spec.title.strip()[:200],
            description=spec.description.strip(),
            expected=spec.expected.strip(),
            delivered=spec.delivered.strip(),
            channel=spec.channel,
            severity=spec.severity,
            fault=spec.fault,
            category=spec.category,
            service_id=spec.service_id,
            playbook=playbook,
            team=route.team if route is not None else None,
            assignee=route.assignee if route is not None else None,
            created_by=actor,
            status=spec.status,
            created_at=created,
            resolve_clock_started_at=created,
            acknowledged_at=spec.acknowledged_at
            or (created if spec.status != CaseStatus.NEW else None),
            resolved_at=(spec.resolved_at or spec.closed_at or created) if done else None,
            closed_at=(spec.closed_at or spec.resolved_at or created)
            if spec.status == CaseStatus.CLOSED
            else None,
            outcome=spec.outcome if done else "",
            outcome_explanation=spec.outcome_explanation if done else "",
        )
        policy_key = (case.playbook_id, case.severity)
        policy = policies.get(policy_key)
        if policy is None:
            policy = policies[policy_key] = sla_policy_of(case)
        key = (id(policy), created)
        clocks = sla_memo.get(key)
        if clocks is None:
            sla_compute(case, policy=policy)
            sla_memo[key] = (
                case.ack_due_at,
                case.ack_at_risk_at,
                case.resolve_due_at,
                case.resolve_at_risk_at,
            )
        else:
            # Imports bring many cases started at the same moment under the same policy.
            case.ack_due_at, case.ack_at_risk_at, case.resolve_due_at, case.resolve_at_risk_at = (
                clocks
            )
            sla_current_clock(case)
        cases.append(case)
        playbooks.append(playbook)
        routes.append(route.rule_name if route is not None else None)
    for case, spec in zip(cases, specs, strict=True):
        case.created_at = spec.created_at or now  # historic start kept (no auto_now_add)
        case.updated_at = now
    insert_returning_ids(Case, cases)
    step_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    for case, spec, playbook, rule_name in zip(cases, specs, playbooks, routes, strict=True):
        done = case.status in DONE_STATUSES
        state = StepState.SKIPPED if done else StepState.PENDING
        reason = IMPORTED_STEP_REASON if done else ""
        for position, (step, required, due) in enumerate(_steps_of(playbook, steps_cache)):
            step_rows.append(
                (case.pk, step, required, due, position, state, reason, "", now_db, now_db)
            )
        data: dict[str, Any] = {
            "ref": case_ref(case.pk),
            "channel": case.channel,
            "severity": case.severity,
            "playbook": playbook.name if playbook else None,
            "ack_due_at": case.ack_due_at.isoformat(),
            "resolve_due_at": case.resolve_due_at.isoformat(),
            "status": case.status,
            **spec.event_data,
        }
        if done:
            data["outcome"] = case.outcome
        if rule_name is not None:
            data["routing_rule"] = rule_name
            data["team"] = case.team.name if case.team else None
        event_rows.append(
            (case.pk, CaseEventKind.CREATED, actor.pk if actor else None, json.dumps(data), now_db)
        )
    _execute_many(
        CaseStep,
        "INSERT INTO {table} (case_id, step, required, due, position, state, skip_reason, note,"
        " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        step_rows,
    )
    _execute_many(
        CaseEvent,
        "INSERT INTO {table} (case_id, kind, actor_id, data, created_at)"
        " VALUES (%s, %s, %s, {json}, %s)",
        event_rows,
    )
    return cases


@transaction.atomic
def case_update_bulk(
    *, cases: list[Case], fields: list[str], actor: User | None, source: str
) -> int:
    """Refresh imported cases' account fields (title, description, category, service) in one
    statement per batch, each with an `updated` event naming the fields."""
    allowed = {"title", "description", "expected", "delivered", "category", "service"}
    if not cases:
        return 0
    if not set(fields) <= allowed:
        raise ApplicationError("Only account fields can be updated in bulk.", code="invalid")
    for case in cases:
        case.version += 1
    Case.objects.bulk_update(cases, [*fields, "version"], batch_size=1000)
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=case,
                kind=CaseEventKind.UPDATED,
                actor=actor,
                data={"fields": fields, "source": source},
                created_at=now,
            )
            for case in cases
        ],
        batch_size=2000,
    )
    return len(cases)
