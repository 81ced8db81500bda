"""Set-based writes to cases and their timelines, for the sweeps of the floors above.

The sweeps change thousands of cases a run; these do for a batch what `case_event_record`,
`case_mark_double_deviation` and `case_update` do for one case, in a few statements (multi-row
INSERT / UPDATE through `amends.core.rows`). The caller holds the transaction. They announce
nothing themselves: the caller emits its own set-based hook (`commitments_broken`, …).

`cases_open_many` is set-based intake for imports (what `case_create` does for one case, for a
chunk of thousands): it announces `cases_opened_bulk` once per chunk, after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
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
from amends.cases.models import Case, CaseEvent, CaseStep, RoutingRule, case_ref
from amends.cases.services.intake import FALLBACK_STEPS
from amends.cases.services.routing import Route, route_match, routing_rules_load
from amends.cases.services.sla import sla_compute
from amends.cases.services.workflow import SLA_FIELDS
from amends.core import hooks
from amends.core.bulk import copy_rows, insert_rows_fast, sequence_ids
from amends.core.exceptions import ApplicationError
from amends.core.rows import db_datetime, db_datetime_text, db_json, insert_rows, update_rows
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.customers.services import CustomerKey
from amends.policies.models import Playbook, PlaybookStep
from amends.policies.selectors import (
    SlaPolicy,
    playbook_for_category,
    playbook_get,
    sla_policy_for,
)
from amends.taxonomy.models import Category


@dataclass(frozen=True)
class EventRow:
    """One timeline event for `case_events_record_many` (no actor: the system did it)."""

    case_id: int
    kind: str
    data: Mapping[str, Any]


def case_events_record_many(*, events: Sequence[EventRow], at: datetime) -> None:
    """Append these events to their cases' timelines, all dated `at`, in order."""
    when = db_datetime(at)
    insert_rows(
        model=CaseEvent,
        columns=["case_id", "kind", "data", "created_at"],
        rows=[(e.case_id, e.kind, db_json(e.data), when) for e in events],
    )


def cases_mark_double_deviation(*, case_ids: Iterable[int], cause: str, at: datetime) -> list[int]:
    """Flag these cases a second failure (those not flagged yet, in id order), each with an
    event on its timeline; returns the ids newly flagged."""
    newly_flagged = sorted(
        Case.objects.filter(pk__in=list(case_ids), double_deviation=False).values_list(
            "pk", flat=True
        )
    )
    if not newly_flagged:
        return []
    Case.objects.filter(pk__in=newly_flagged).update(double_deviation=True)
    case_events_record_many(
        events=[
            EventRow(
                case_id=pk,
                kind=CaseEventKind.DOUBLE_DEVIATION,
                data={"double_deviation": {"from": False, "to": True}, "cause": cause},
            )
            for pk in newly_flagged
        ],
        at=at,
    )
    return newly_flagged


def cases_raise_severity(
    *, raises: Mapping[int, int], cause: str, at: datetime
) -> list[tuple[int, int, int]]:
    """Raise each open case's severity by `raises[case_id]` levels (1 is the highest) and
    re-time its SLA for the new severity, as `case_update` does for one case; each change goes
    on the timeline. Returns (case_id, before, after)."""
    cases = list(
        Case.objects.select_for_update(of=("self",))
        .select_related("playbook__calendar")
        .filter(pk__in=list(raises), sla_due_at__isnull=False, severity__gt=1)
        .order_by("pk")  # one lock order: no deadlocks between workers
    )
    policies: dict[tuple[int | None, int], SlaPolicy] = {}
    changed = []
    for case in cases:
        before = case.severity
        case.severity = max(1, before - raises[case.pk])
        key = (case.playbook_id, case.severity)
        if key not in policies:
            policies[key] = sla_policy_for(playbook=case.playbook, severity=case.severity)
        sla_compute(case, policy=policies[key])
        case.version += 1
        case.updated_at = at
        changed.append((case.pk, before, case.severity))
    fields = ["severity", *SLA_FIELDS, "version", "updated_at"]
    update_rows(
        model=Case,
        columns=fields,
        rows=[
            [
                *(
                    db_datetime(getattr(case, f))
                    if isinstance(getattr(case, f), datetime)
                    else getattr(case, f)
                    for f in fields
                ),
                case.pk,
            ]
            for case in cases
        ],
    )
    case_events_record_many(
        events=[
            EventRow(
                case_id=pk,
                kind=CaseEventKind.UPDATED,
                data={"severity": {"from": before, "to": after}, "cause": cause},
            )
            for pk, before, after in changed
        ],
        at=at,
    )
    return changed


# ---- set-based intake (imports) ---------------------------------------------------------------


@dataclass(slots=True)
class NewCase:
    """One case for `cases_open_many`. `created_at` and the history fields (acknowledged,
    resolved, closed, outcome) may be in the past: records handled before Amends."""

    customer: CustomerKey
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
    event_data: Mapping[str, Any] = field(default_factory=dict)


_CHANNELS = frozenset(Channel.values)
_STATUSES = frozenset(CaseStatus.values)
_OUTCOMES = frozenset(Outcome.values)
_FAULTS = frozenset(Fault.values)
_DONE = frozenset(DONE_STATUSES)


def new_case_check(spec: NewCase, *, now: datetime) -> str | None:
    """Why this case cannot be opened, or None. Importers reject such rows one by one."""
    if not spec.title.strip():
        return "a case needs a title"
    if spec.channel not in _CHANNELS:
        return f"unknown channel {spec.channel!r}"
    if spec.severity not in (1, 2, 3, 4):
        return "severity must be 1, 2, 3 or 4"
    if spec.fault not in _FAULTS:
        return f"unknown fault {spec.fault!r}"
    if spec.status not in _STATUSES:
        return f"unknown status {spec.status!r}"
    if spec.status in _DONE:
        if spec.outcome not in _OUTCOMES:
            return "a resolved or closed case needs an outcome"
        if spec.outcome == Outcome.NOT_UPHELD and not spec.outcome_explanation.strip():
            return "an outcome of not upheld needs an explanation"
    dates = (spec.created_at, spec.acknowledged_at, spec.resolved_at, spec.closed_at)
    for name, value in zip(
        ("created at", "acknowledged at", "resolved at", "closed at"), dates, strict=True
    ):
        if value is not None and (value.tzinfo is None or value > now):
            return f"{name} is in the future or has no time zone"
    return None


_CASE_COLUMNS = [
    "customer_id",
    "channel",
    "category_id",
    "service_id",
    "playbook_id",
    "title",
    "description",
    "expected",
    "delivered",
    "staff_account",
    "fault",
    "severity",
    "status",
    "outcome",
    "outcome_explanation",
    "created_by_id",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "ack_due_at",
    "ack_at_risk_at",
    "resolve_clock_started_at",
    "resolve_due_at",
    "resolve_at_risk_at",
    "sla_paused_seconds",
    "sla_due_at",
    "sla_at_risk_at",
    "double_deviation",
    "version",
    "created_at",
    "updated_at",
    "team_id",
    "assignee_id",
    "attention",
    "upset",
    "churn_intent",
]


class _Memo:
    """Per-call caches: what thousands of rows share (a playbook per category and audience,
    SLA clocks per policy and start, a database value per datetime)."""

    def __init__(self) -> None:
        self.playbooks: dict[tuple[int | None, bool, bool], Playbook | None] = {}
        self.policies: dict[tuple[int | None, int], SlaPolicy] = {}
        self.clocks: dict[tuple[int, datetime], tuple[datetime, datetime, datetime, datetime]] = {}
        self.db: dict[datetime | None, Any] = {None: None}
        self.rules: list[RoutingRule] | None = None
        self.routes: dict[tuple[int | None, int | None, str, str], Route | None] = {}

    def route(self, spec: NewCase) -> Route | None:
        """The routing rule's decision for this case (rules read once per call)."""
        if self.rules is None:
            self.rules = routing_rules_load()
        category = spec.category
        key = (
            category.pk if category is not None else None,
            spec.service_id,
            spec.channel,
            spec.customer.tier,
        )
        if key not in self.routes:
            self.routes[key] = route_match(
                self.rules,
                category=category,
                service_id=spec.service_id,
                channel=spec.channel,
                customer_tier=spec.customer.tier,
            )
        return self.routes[key]

    def playbook(self, spec: NewCase) -> Playbook | None:
        route = self.route(spec)
        if route is not None and route.playbook_id is not None:
            routed = playbook_get(playbook_id=route.playbook_id)
            if routed is not None:
                return routed
        category = spec.category
        vip = spec.customer.tier == CustomerTier.VIP
        key = (category.pk if category is not None else None, vip, spec.customer.special_handling)
        if key not in self.playbooks:
            audience = Customer(tier=spec.customer.tier, special_handling=key[2])
            self.playbooks[key] = playbook_for_category(category=category, customer=audience)
        return self.playbooks[key]

    def sla(
        self, playbook: Playbook | None, severity: int, start: datetime
    ) -> tuple[datetime, datetime, datetime, datetime]:
        pkey = (playbook.pk if playbook is not None else None, severity)
        policy = self.policies.get(pkey)
        if policy is None:
            policy = self.policies[pkey] = sla_policy_for(playbook=playbook, severity=severity)
        ckey = (id(policy), start)
        clocks = self.clocks.get(ckey)
        if clocks is None:
            probe = Case(created_at=start, resolve_clock_started_at=start, sla_paused_seconds=0)
            sla_compute(probe, policy=policy)
            clocks = self.clocks[ckey] = (
                probe.ack_due_at,
                probe.ack_at_risk_at,
                probe.resolve_due_at,
                probe.resolve_at_risk_at,
            )
        return clocks

    def dt(self, value: datetime | None) -> Any:
        try:
            return self.db[value]
        except KeyError:
            converted = self.db[value] = db_datetime_text(value)
            return converted


def _defaulted_columns() -> tuple[list[str], tuple[Any, ...]]:
    """The case's other columns (flags the floors above keep, …) with their defaults."""
    names: list[str] = []
    values: list[Any] = []
    for f in Case._meta.concrete_fields:
        if f.primary_key or f.attname in _CASE_COLUMNS or f.null:
            continue
        names.append(f.attname)
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return names, tuple(values)


def _insert_cases(rows: list[tuple[Any, ...]], ids: list[int] | None) -> list[int]:
    """The new cases' ids, in the order of `rows`: on PostgreSQL taken from the sequence
    beforehand (`ids`) and written with COPY; on SQLite multi-row INSERT … RETURNING."""
    extra, defaults = _defaulted_columns()
    columns = [*_CASE_COLUMNS, *extra]
    if defaults:
        rows = [row + defaults for row in rows]
    if ids is not None:
        # The columns are the fields' attnames, which are their column names here.
        copy_rows(
            Case._meta.db_table,
            ["id", *columns],
            [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
        )
        return ids
    returned = insert_rows(model=Case, columns=columns, rows=rows, returning=["id"])
    return [row[0] for row in returned]


def _step_columns() -> list[str]:
    """The step columns a case's step copies from its playbook's step."""
    mine = {f.name for f in CaseStep._meta.concrete_fields}
    theirs = {f.name for f in PlaybookStep._meta.concrete_fields}
    return [c for c in ("step", "required", "due", "position") if c in mine and c in theirs]


def _fallback_values(copied: list[str]) -> tuple[str, list[Any]]:
    """The fallback steps (no playbook) as an inline table with the copied columns."""
    default_due = CaseStep._meta.get_field("due").default if "due" in copied else None
    rows: list[str] = []
    params: list[Any] = []
    for position, step in enumerate(FALLBACK_STEPS):
        extra = tuple(step)[2:]  # (step, required[, due])
        values = {"step": step[0], "required": step[1], "position": position}
        if default_due is not None:
            values["due"] = extra[0] if extra else default_due
        rows.append("(" + ", ".join(["%s"] * len(copied)) + ")")
        params.extend(values[c] for c in copied)
    return "VALUES " + ", ".join(rows), params


def _insert_steps(case_ids: list[int], now: Any, *, fallback: bool) -> None:
    """The recovery steps of new open cases, copied from their playbooks' steps by one INSERT
    … SELECT (the database does the fan-out), and the fallback steps for cases without a
    playbook by another. A case imported already resolved or closed gets none: it was handled
    before Amends, and its steps would be rows that say only that (seven a case; most of an
    import's rows). Its page says so, and a reopen gives it its playbook's steps."""
    if not case_ids:
        return
    copied = _step_columns()
    quote = connection.ops.quote_name
    targets = ", ".join(quote(c) for c in copied)  # field names are the column names
    sources = ", ".join(f"s.{quote(c)}" for c in copied)
    ids_param: Any = case_ids
    wanted = "c.id = ANY(%s)"
    if connection.vendor != "postgresql":
        ids_param = db_json(case_ids)
        wanted = "c.id IN (SELECT value FROM json_each(%s))"
    head = (
        f"INSERT INTO {quote(CaseStep._meta.db_table)} (case_id, {targets}, state, skip_reason,"  # noqa: S608
        f" note, created_at, updated_at) "
        f"SELECT c.id, {sources}, %s, '', '', %s, %s "
        f"FROM {quote(Case._meta.db_table)} c "
    )
    values = [StepState.PENDING, now, now]
    with connection.cursor() as cursor:
        cursor.execute(
            head + f"JOIN {quote(PlaybookStep._meta.db_table)} s ON s.playbook_id = c.playbook_id "
            f"WHERE {wanted} ORDER BY c.id, s.position, s.id",
            [*values, ids_param],
        )
        if fallback:
            table, params = _fallback_values(copied)
            # `coalesce(…) = 0`, not `IS NULL`: PostgreSQL would otherwise AND the id lookup
            # with the playbook index's NULL entries, which are every case without a playbook
            # (all of an import's, so far): a scan that grew with every chunk (by 150,000
            # imported rows the server spent twice as long a row as at the start).
            cursor.execute(
                f"WITH s ({targets}) AS ({table}) "
                + head
                + f"CROSS JOIN s WHERE {wanted} AND coalesce(c.playbook_id, 0) = 0"
                " ORDER BY c.id, s.position",
                [*params, *values, ids_param],
            )


@dataclass
class PreparedCases:
    """A batch of new cases ready to write (`cases_prepare_many`): their rows, what their
    events say, and on PostgreSQL their ids, taken ahead from the sequence."""

    specs: Sequence[NewCase]
    actor_id: int | None
    rows: list[tuple[Any, ...]]
    events: list[dict[str, Any]]  # each case's `created` event, without its reference
    fallback: bool  # some open case has no playbook: the fallback steps are wanted
    now_db: Any  # as rows carry it (text on PostgreSQL: see db_datetime_text)
    now: datetime
    ids: list[int] | None = None
    event_json: list[str] | None = None  # the events' data, when the ids are known
    notes: dict[str, list[Any]] = field(default_factory=dict)  # cases_intake_review_bulk's


def _event_json(pk: int, data: Mapping[str, Any]) -> str:
    return db_json({"ref": case_ref(pk), **data})


def cases_prepare_many(*, specs: Sequence[NewCase], actor_id: int | None = None) -> PreparedCases:
    """Everything `cases_open_many` works out before writing, without writing: each case's
    route, playbook and SLA clocks (read once per batch), its row and its `created` event, and
    what the floors above read in the open cases' words (`cases_intake_review_bulk`: written
    with the case, not by an UPDATE after it). Raises ApplicationError naming the first bad
    spec."""
    now = timezone.now()
    memo = _Memo()
    now_db = memo.dt(now)
    rows: list[tuple[Any, ...]] = []
    events: list[dict[str, Any]] = []
    fallback = False
    for index, spec in enumerate(specs):
        problem = new_case_check(spec, now=now)
        if problem:
            raise ApplicationError(
                problem, code="invalid_case", status=422, detail={"index": index}
            )
    review = hooks.CasesIntakeReviewBulk(
        texts=tuple((spec.title.strip(), spec.description.strip()) for spec in specs),
        open=tuple(spec.status not in _DONE for spec in specs),
        readings=[None] * len(specs),
    )
    hooks.cases_intake_review_bulk.emit(review)
    for spec, reading in zip(specs, review.readings, strict=True):
        created = spec.created_at or now
        route = memo.route(spec)
        playbook = memo.playbook(spec)
        clocks = memo.sla(playbook, spec.severity, created)
        status = spec.status
        done = status in _DONE
        if done:
            due, at_risk = None, None
        elif status == CaseStatus.NEW:
            due, at_risk = clocks[0], clocks[1]
        else:
            due, at_risk = clocks[2], clocks[3]
        acknowledged = spec.acknowledged_at or (created if status != CaseStatus.NEW else None)
        resolved = (spec.resolved_at or spec.closed_at or created) if done else None
        closed = (
            (spec.closed_at or spec.resolved_at or created) if status == CaseStatus.CLOSED else None
        )
        category = spec.category
        rows.append(
            (
                spec.customer.id,
                spec.channel,
                category.pk if category is not None else None,
                spec.service_id,
                playbook.pk if playbook is not None else None,
                spec.title.strip()[:200],
                spec.description.strip(),
                spec.expected.strip(),
                spec.delivered.strip(),
                "",
                spec.fault,
                spec.severity,
                status,
                spec.outcome if done else "",
                spec.outcome_explanation if done else "",
                actor_id,
                memo.dt(acknowledged),
                memo.dt(resolved),
                memo.dt(closed),
                memo.dt(clocks[0]),
                memo.dt(clocks[1]),
                memo.dt(created),
                memo.dt(clocks[2]),
                memo.dt(clocks[3]),
                0,
                memo.dt(due),
                memo.dt(at_risk),
                False,
                1,
                memo.dt(created),
                now_db,
                route.team.pk if route is not None else None,
                route.assignee.pk if route is not None and route.assignee is not None else None,
                reading.attention if reading is not None else 0.0,
                reading is not None and reading.upset,
                reading is not None and reading.churn_intent,
            )
        )
        fallback = fallback or (playbook is None and not done)
        data: dict[str, Any] = {
            "channel": spec.channel,
            "severity": spec.severity,
            "playbook": playbook.name if playbook is not None else None,
            "ack_due_at": clocks[0].isoformat(),
            "resolve_due_at": clocks[2].isoformat(),
            "status": spec.status,
            **spec.event_data,
        }
        if done:
            data["outcome"] = spec.outcome
        if route is not None:
            data["routing_rule"] = route.rule_name
            data["team"] = route.team.name
        events.append(data)
    prepared = PreparedCases(
        specs=specs,
        actor_id=actor_id,
        rows=rows,
        events=events,
        fallback=fallback,
        now_db=now_db,
        now=now,
        notes=review.notes,
    )
    if connection.vendor == "postgresql" and rows:
        prepared.ids = sequence_ids(Case._meta.db_table, len(rows))
        prepared.event_json = [
            _event_json(pk, data) for pk, data in zip(prepared.ids, events, strict=True)
        ]
    return prepared


def cases_write_prepared(prepared: PreparedCases) -> list[int]:
    """Write a prepared batch (the caller holds the transaction): the cases, their steps and
    their `created` events. Announces nothing (see `cases_opened_bulk_payload`)."""
    if not prepared.rows:
        return []
    ids = _insert_cases(prepared.rows, prepared.ids)
    open_ids = [
        pk for pk, spec in zip(ids, prepared.specs, strict=True) if spec.status not in _DONE
    ]
    _insert_steps(open_ids, db_datetime(prepared.now), fallback=prepared.fallback)
    event_json = prepared.event_json
    if event_json is None:
        event_json = [_event_json(pk, data) for pk, data in zip(ids, prepared.events, strict=True)]
    # COPY on PostgreSQL: escaping the events' JSON array element by element was the import's
    # largest client cost after reading the file.
    insert_rows_fast(
        model=CaseEvent,
        columns=["case_id", "kind", "actor_id", "data", "created_at"],
        rows=[
            (pk, CaseEventKind.CREATED, prepared.actor_id, data, prepared.now_db)
            for pk, data in zip(ids, event_json, strict=True)
        ],
    )
    return ids


def cases_opened_bulk_payload(prepared: PreparedCases, ids: Sequence[int]) -> hooks.CasesOpenedBulk:
    """What `cases_opened_bulk` says of a written batch."""
    channels = {spec.channel for spec in prepared.specs}
    return hooks.CasesOpenedBulk(
        case_ids=tuple(ids),
        customer_ids=tuple(dict.fromkeys(spec.customer.id for spec in prepared.specs)),
        channel=channels.pop() if len(channels) == 1 else "",
        actor_id=prepared.actor_id,
        notes={source: tuple(notes) for source, notes in prepared.notes.items()},
    )


def cases_opened_bulk_announce(prepared: PreparedCases, ids: Sequence[int]) -> None:
    """Announce a written batch (`cases_opened_bulk`, after the commit of the transaction
    that wrote it; at once when it is committed already). Nothing for an empty batch."""
    if ids:
        hooks.cases_opened_bulk.emit(cases_opened_bulk_payload(prepared, ids))


def cases_open_many(*, specs: Sequence[NewCase], actor_id: int | None = None) -> list[int]:
    """Open every case of `specs` set-based, all or none, and return their ids in order: the
    cases (routed by the routing rules, read once per call), their playbooks' steps and their
    `created` events in a few statements for the whole batch (no model instance per case).
    What `case_create` does for one case (playbook, SLA clocks from the case's own start,
    steps, first event), for imports; history given as facts (a case closed before it was
    imported keeps its outcome and dates, its steps skipped).

    Announces `cases_opened_bulk` once (after commit), not `case_opened` per case. Raises
    ApplicationError naming the first bad spec; callers check with `new_case_check` first.
    The same in two steps, so that the next batch can be prepared while one is written:
    `cases_prepare_many`, then `cases_write_prepared` and the hook."""
    if not specs:
        return []
    prepared = cases_prepare_many(specs=specs, actor_id=actor_id)
    with transaction.atomic():
        ids = cases_write_prepared(prepared)
        cases_opened_bulk_announce(prepared, ids)
    return ids
