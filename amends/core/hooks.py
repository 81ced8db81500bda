"""Every hook in Amends, with its payload: the only way a reaction crosses upward.

A lower app *emits* a hook (`hooks.case_opened.emit(CaseOpened(...))`); a higher app
*subscribes* in its `AppConfig.ready()` (`hooks.case_opened.subscribe(fn)`). The lower app never
imports the higher one, so the floors in the import-linter contract (pyproject.toml) hold.

Each hook says when its subscribers run:

- `IN_TRANSACTION`: inside the emitter's transaction, right away. The reaction and its cause
  commit or roll back together (an escalation rule applied to a new case, a score written on a
  message). A subscriber that raises aborts the emitter's change, so subscribers must be quick
  and must not talk to the outside world: anything slow or external (mail, webhooks, model
  training) is queued as a row or a task, which commits with the cause.
- `ON_COMMIT`: after the emitter's transaction commits (`transaction.on_commit`). Nothing is
  rolled back if the subscriber fails; a failure is logged and the next subscriber still runs.

Payloads are frozen dataclasses of ids and plain values, never model instances: a subscriber
reads what it needs through the lower app's selectors. To add a hook, add its payload and its
`Hook` here (and only here), emit it from the owning app's service, and list it in
docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from django.db import transaction

logger = logging.getLogger("amends.hooks")

P = TypeVar("P")


class When(Enum):
    IN_TRANSACTION = "in_transaction"
    ON_COMMIT = "on_commit"


@dataclass(eq=False)
class Hook(Generic[P]):
    """A named event with a typed payload and an ordered list of subscribers."""

    name: str
    payload: type[P]
    when: When
    doc: str
    _subscribers: list[Callable[[P], None]] = field(default_factory=list, repr=False)

    def subscribe(self, fn: Callable[[P], None]) -> Callable[[P], None]:
        """Register `fn` (idempotent: the same function twice is kept once). Usable as a decorator."""
        if fn not in self._subscribers:
            self._subscribers.append(fn)
        return fn

    def unsubscribe(self, fn: Callable[[P], None]) -> None:
        if fn in self._subscribers:
            self._subscribers.remove(fn)

    @property
    def subscribers(self) -> tuple[Callable[[P], None], ...]:
        return tuple(self._subscribers)

    def emit(self, payload: P) -> None:
        if not isinstance(payload, self.payload):
            raise TypeError(f"hook {self.name} takes {self.payload.__name__}, not {payload!r}")
        if not self._subscribers:
            return
        if self.when is When.IN_TRANSACTION:
            for fn in tuple(self._subscribers):
                fn(payload)
            return
        for fn in tuple(self._subscribers):
            transaction.on_commit(_guarded(self.name, fn, payload), robust=True)


def _guarded(name: str, fn: Callable[[P], None], payload: P) -> Callable[[], None]:
    def run() -> None:
        try:
            fn(payload)
        except Exception:
            logger.exception("subscriber %s of hook %s failed", fn, name)
            raise

    return run


# --- payloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOpened:
    case_id: int
    customer_id: int
    channel: str
    actor_id: int | None


@dataclass(frozen=True)
class IntakeAdvice:
    """What a floor above advises about a case being opened (see `case_intake_review`)."""

    source: str  # the advising app, e.g. "insight"
    category_id: int | None = None  # applied only when the intake gave no category
    severity: int | None = None  # a more urgent severity (1 is the most urgent); never less
    attention: float | None = None  # how strongly the customer's words call for attention
    upset: bool = False
    churn_intent: bool = False
    repeat_failure: bool = False
    note: str = ""  # why, for the case's "created" event


@dataclass(frozen=True)
class CaseIntakeReview:
    """A case about to be opened and not saved yet: subscribers may append an `IntakeAdvice`
    to `advice`, which the intake applies before the first save (so routing, the playbook and
    the SLA clocks follow the advised category and severity in one write)."""

    customer_id: int
    title: str
    description: str
    channel: str
    category_id: int | None
    service_id: int | None
    severity: int
    now: datetime
    advice: list[IntakeAdvice] = field(default_factory=list)


@dataclass(frozen=True)
class BulkReading:
    """What a floor above read in an open case's words, for the queues (see
    `cases_intake_review_bulk`)."""

    attention: float
    upset: bool
    churn_intent: bool


@dataclass(frozen=True)
class CasesIntakeReviewBulk:
    """A batch of cases about to be opened set-based (an import chunk), nothing written yet.
    For the open cases (`open[i]`), a subscriber may set `readings[i]`, which the intake writes
    with the case, and keep what it worked out in `notes[source]` (a list aligned with `texts`),
    which `cases_opened_bulk` hands back with the written cases' ids."""

    texts: tuple[tuple[str, str], ...]  # (title, description) of each case, in order
    open: tuple[bool, ...]
    readings: list[BulkReading | None]
    notes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CasesOpenedBulk:
    """Many cases opened at once by a set-based intake (an import chunk): subscribers react
    set-based, in a few statements for the whole batch, never case by case. `notes`: what the
    `cases_intake_review_bulk` subscribers kept, per source, aligned with `case_ids`."""

    case_ids: tuple[int, ...]
    customer_ids: tuple[int, ...]  # distinct
    channel: str
    actor_id: int | None
    notes: dict[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseStatusChanged:
    case_id: int
    before: str
    after: str
    actor_id: int | None


@dataclass(frozen=True)
class CaseMerged:
    """A duplicate case was merged into a survivor: what hangs on the duplicate moves over."""

    survivor_id: int
    duplicate_id: int
    actor_id: int | None


@dataclass(frozen=True)
class CaseChanged:
    """Fields of a case edited (category, severity, owner, …); `fields` names them."""

    case_id: int
    fields: tuple[str, ...]
    actor_id: int | None


@dataclass(frozen=True)
class SlaBreach:
    case_id: int
    team_id: int | None
    playbook_id: int | None
    assignee_id: int | None
    sla_due_at: datetime


@dataclass(frozen=True)
class CasesSlaBreached:
    """A batch of live cases whose SLA clock ran out and whose breach the SLA sweep had not
    handled yet. The sweep marks them handled in the same transaction, except the ids a
    subscriber appends to `held` (it is still handling an earlier breach of that case): those
    stay unmarked and are offered again on the next run."""

    breaches: tuple[SlaBreach, ...]
    now: datetime
    held: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SlaAtRisk:
    case_id: int
    assignee_id: int
    sla_due_at: datetime
    sla_at_risk_at: datetime


@dataclass(frozen=True)
class CasesSlaAtRisk:
    """A batch of live, assigned cases that have just become at risk of missing their SLA
    (the at-risk moment of their current clock was not handled yet); marked handled with it."""

    cases: tuple[SlaAtRisk, ...]
    now: datetime


@dataclass(frozen=True)
class MessageAdded:
    message_id: int
    case_id: int
    direction: str  # cases.choices.MessageDirection
    actor_id: int | None


@dataclass(frozen=True)
class CustomerChanged:
    """`fields` names what changed; `("created",)` for a new customer."""

    customer_id: int
    fields: tuple[str, ...]
    actor_id: int | None


@dataclass(frozen=True)
class RemedyChanged:
    remedy_id: int
    case_id: int
    before: str
    after: str
    actor_id: int | None


@dataclass(frozen=True)
class RemedyApprovalOverdue:
    remedy_id: int
    case_id: int
    due_at: datetime
    now: datetime


@dataclass(frozen=True)
class CommitmentChanged:
    commitment_id: int
    case_id: int
    before: str
    after: str
    actor_id: int | None


@dataclass(frozen=True)
class CommitmentsBroken:
    """Promises the sweep (or a person) found broken; set-based so the sweep stays fast."""

    commitment_ids: tuple[int, ...]
    case_ids: tuple[int, ...]
    now: datetime


@dataclass(frozen=True)
class EscalationOpened:
    escalation_id: int
    case_id: int
    level: str
    reason: str


# --- payloads emitted by the floors above commitments ----------------------------------------
# (channels | insight, then incidents | feedback; loyalty subscribes to all of them)


@dataclass(frozen=True)
class MessageScored:
    """insight scored a customer's text (a message or a new case's description)."""

    case_id: int
    customer_id: int
    message_id: int | None  # None: the case description
    intensity: float
    upset: bool
    churn_intent: bool
    escalation_threat: bool
    # Scored while the case is being opened (from insight's `case_opened` reaction): the
    # case's other `case_opened` subscribers run in the same dispatch, so work they queue for
    # a new case is queued by the time the intake commits.
    at_intake: bool = False


@dataclass(frozen=True)
class RepeatFailureDetected:
    """insight found earlier failures of the same customer when a case opened."""

    case_id: int
    customer_id: int
    earlier_case_ids: tuple[int, ...]
    double_deviation: bool
    at_intake: bool = False  # as MessageScored.at_intake


@dataclass(frozen=True)
class EmailBounced:
    """channels saw a delivery failure for a customer's address."""

    customer_id: int
    address: str


@dataclass(frozen=True)
class IncidentImpacted:
    """incidents linked customers to an incident (a batch)."""

    incident_id: int
    customer_ids: tuple[int, ...]


@dataclass(frozen=True)
class IncidentClosed:
    incident_id: int
    root_cause_id: int | None


@dataclass(frozen=True)
class SurveyAnswered:
    """feedback recorded a customer's answer to a recovery survey."""

    survey_id: int
    case_id: int | None
    customer_id: int
    csat: int | None
    nps: int | None
    would_use_again: int | None
    promises_kept: str | None  # "yes" | "partly" | "no"
    # Justice dimensions, 1-5 each (was the outcome / the process / the treatment fair?)
    fair_outcome: int | None = None
    fair_process: int | None = None
    fair_treatment: int | None = None


# --- feedback: asking for a recovery survey ---------------------------------------------------


@dataclass(frozen=True)
class SurveyRequested:
    """Any app asks feedback for a case's recovery survey (incidents, after a recovery round).
    feedback applies its rules (one per case ever, opt-outs, internal cases)."""

    case_id: int
    reason: str  # "incident_recovery", …
    incident_id: int | None = None  # recorded on the survey, so answers link to the incident


# --- hooks ----------------------------------------------------------------------------------

case_intake_review: Hook[CaseIntakeReview] = Hook(
    "case_intake_review",
    CaseIntakeReview,
    When.IN_TRANSACTION,
    "A case is about to be opened (not saved yet); subscribers may append advice to the payload.",
)
case_opened: Hook[CaseOpened] = Hook(
    "case_opened",
    CaseOpened,
    When.IN_TRANSACTION,
    "A case was opened (any channel), after its steps, clocks and first event exist.",
)
cases_intake_review_bulk: Hook[CasesIntakeReviewBulk] = Hook(
    "cases_intake_review_bulk",
    CasesIntakeReviewBulk,
    When.IN_TRANSACTION,
    "A batch of cases is about to be opened set-based (not written yet); subscribers may set"
    " the open cases' readings and keep notes for `cases_opened_bulk`.",
)
cases_opened_bulk: Hook[CasesOpenedBulk] = Hook(
    "cases_opened_bulk",
    CasesOpenedBulk,
    When.ON_COMMIT,
    "A batch of cases was opened set-based (imports), after the batch committed; `case_opened`"
    " is not emitted for them.",
)
case_status_changed: Hook[CaseStatusChanged] = Hook(
    "case_status_changed",
    CaseStatusChanged,
    When.IN_TRANSACTION,
    "A case moved between statuses (acknowledged, resolved, closed, reopened, …).",
)
case_merged: Hook[CaseMerged] = Hook(
    "case_merged",
    CaseMerged,
    When.IN_TRANSACTION,
    "A duplicate case was merged into another (its messages and events already moved); the"
    " floors above move what they hold on the duplicate (remedies, promises, escalations, files)"
    " before it is closed.",
)
case_changed: Hook[CaseChanged] = Hook(
    "case_changed",
    CaseChanged,
    When.IN_TRANSACTION,
    "Fields of a case were edited.",
)
cases_sla_breached: Hook[CasesSlaBreached] = Hook(
    "cases_sla_breached",
    CasesSlaBreached,
    When.IN_TRANSACTION,
    "The SLA sweep found a batch of cases whose SLA ran out (once per clock).",
)
cases_sla_at_risk: Hook[CasesSlaAtRisk] = Hook(
    "cases_sla_at_risk",
    CasesSlaAtRisk,
    When.IN_TRANSACTION,
    "The SLA sweep found a batch of assigned cases newly at risk (once per clock).",
)
message_added: Hook[MessageAdded] = Hook(
    "message_added",
    MessageAdded,
    When.IN_TRANSACTION,
    "A message was recorded on a case (inbound from the customer or outbound to them).",
)
customer_changed: Hook[CustomerChanged] = Hook(
    "customer_changed",
    CustomerChanged,
    When.IN_TRANSACTION,
    "A customer was created or their flags, tier or contract changed.",
)
remedy_changed: Hook[RemedyChanged] = Hook(
    "remedy_changed",
    RemedyChanged,
    When.IN_TRANSACTION,
    "A remedy was proposed, granted, approved, refused, issued or cancelled.",
)
remedy_approval_overdue: Hook[RemedyApprovalOverdue] = Hook(
    "remedy_approval_overdue",
    RemedyApprovalOverdue,
    When.IN_TRANSACTION,
    "An approval request passed its decision time without a decision (the approval sweep).",
)
commitment_changed: Hook[CommitmentChanged] = Hook(
    "commitment_changed",
    CommitmentChanged,
    When.IN_TRANSACTION,
    "A promise was made, fulfilled, rescheduled or cancelled.",
)
commitments_broken: Hook[CommitmentsBroken] = Hook(
    "commitments_broken",
    CommitmentsBroken,
    When.IN_TRANSACTION,
    "Promises passed their due time unkept and were marked broken.",
)
escalation_opened: Hook[EscalationOpened] = Hook(
    "escalation_opened",
    EscalationOpened,
    When.IN_TRANSACTION,
    "An escalation was raised (by a person or a rule).",
)


message_scored: Hook[MessageScored] = Hook(
    "message_scored",
    MessageScored,
    When.IN_TRANSACTION,
    "insight scored a customer's message or case description for emotion and intent.",
)
repeat_failure_detected: Hook[RepeatFailureDetected] = Hook(
    "repeat_failure_detected",
    RepeatFailureDetected,
    When.IN_TRANSACTION,
    "insight marked a new case as a repeat failure of the same customer.",
)
email_bounced: Hook[EmailBounced] = Hook(
    "email_bounced",
    EmailBounced,
    When.IN_TRANSACTION,
    "channels saw a customer's address bounce.",
)
incident_impacted: Hook[IncidentImpacted] = Hook(
    "incident_impacted",
    IncidentImpacted,
    When.IN_TRANSACTION,
    "incidents linked a batch of customers to an incident.",
)
incident_closed: Hook[IncidentClosed] = Hook(
    "incident_closed",
    IncidentClosed,
    When.IN_TRANSACTION,
    "incidents closed an incident with its root cause.",
)
survey_answered: Hook[SurveyAnswered] = Hook(
    "survey_answered",
    SurveyAnswered,
    When.IN_TRANSACTION,
    "feedback recorded a survey answer.",
)

survey_requested: Hook[SurveyRequested] = Hook(
    "survey_requested",
    SurveyRequested,
    When.IN_TRANSACTION,
    "A recovery survey is wanted for a case (feedback schedules it if its rules allow).",
)


def all_hooks() -> list[Hook[object]]:
    """Every hook defined in this module, for docs and tests."""
    return [value for value in globals().values() if isinstance(value, Hook)]
