"""Sentences for the timeline events the commitments app writes (registered in its AppConfig)."""

from __future__ import annotations

from amends.cases.event_kinds import (
    EventLine,
    Renderer,
    choice_text,
    duration_text,
    on_time_text,
    upper_first,
)
from amends.commitments.choices import (
    CaseEventKinds,
    CommitmentKind,
    EscalationLevel,
    EscalationReason,
)

# Why an escalation opened, as the end of "escalated the case to a manager …".
REASON_WORDS: dict[str, str] = {
    EscalationReason.MANUAL: "",
    EscalationReason.SLA_BREACHED: "because the SLA was breached",
    EscalationReason.BROKEN_PROMISE: "because a promise was broken",
    EscalationReason.APPROVAL_OVERDUE: "because an approval was left undecided",
    EscalationReason.SPECIAL_HANDLING: "because the customer needs special handling",
    EscalationReason.REPEAT_COMPLAINT: "because the customer has complained before",
}


def _promise(line: EventLine) -> str:
    description = line.text("description")
    if description:
        return f"the promise “{description}”"
    kind = line.data.get("kind")
    return f"a {choice_text(CommitmentKind, kind)} promise" if kind else "a promise"


def _made(line: EventLine) -> str:
    owner = line.person(line.data.get("owner"), "someone")
    promise = _promise(line)
    due = line.moment("due_at")
    visible = (
        "" if line.data.get("customer_visible", True) else " (internal, not shown to the customer)"
    )
    if promise.startswith("the promise "):
        promise = promise.removeprefix("the promise ")
    return line.did(
        f"promised the customer {promise}, owned by {owner}, due by {due}{visible}",
        f"We promised the customer {promise}, owned by {owner}, due by {due}{visible}",
    )


def _kept(line: EventLine) -> str:
    promise = _promise(line)
    late = on_time_text(line)
    sentence = line.did(f"kept {promise}{late}", f"The promise was kept{late}")
    reference = line.text("reference")
    if reference:
        sentence += f" (reference {reference})"
    return sentence + line.quote("note")


def _cancelled(line: EventLine) -> str:
    sentence = line.did(f"cancelled {_promise(line)}", "A promise was cancelled")
    sentence += line.quote("reason", prefix=" because ")
    if line.data.get("customer_informed"):
        sentence += "; the customer was told"
    return sentence


def _rescheduled(line: EventLine) -> str:
    change = line.change("due_at")
    when = ""
    if change is not None:
        data = {"a": change[0], "b": change[1]}
        moved = EventLine(kind=line.kind, data=data)
        when = f" from {moved.moment('a')} to {moved.moment('b')}"
    return line.did(
        f"moved the due time of a promise{when}", f"A promise's due time moved{when}"
    ) + line.quote("reason", prefix=" because ")


def _broken(line: EventLine) -> str:
    owner = line.person(line.data.get("owner"), "its owner")
    return (
        f"{upper_first(_promise(line))} was broken: {owner} had it due by "
        f"{line.moment('due_at')} and it was not kept"
    )


def _level(line: EventLine, value: object) -> str:
    level = choice_text(EscalationLevel, value)
    return f"an {level}" if level[:1] in "aeiou" else f"a {level}"


def _escalated(line: EventLine) -> str:
    level = _level(line, line.data.get("level"))
    reason = REASON_WORDS.get(str(line.data.get("reason") or ""), "")
    assignee = line.data.get("assignee")
    to = f" ({line.person(assignee)})" if assignee else ""
    tail = f" {reason}" if reason else ""
    if line.data.get("automatic") or not line.actor:
        sentence = f"The case was escalated to {level}{to}{tail}"
    else:
        sentence = f"{line.actor} escalated the case to {level}{to}{tail}"
    if line.data.get("decision_due_at"):
        sentence += f"; a decision is due by {line.moment('decision_due_at')}"
    return sentence + line.quote("note", prefix=". Note: ")


def _bumped(line: EventLine) -> str:
    change = line.change("level")
    level = _level(line, change[1] if change else line.data.get("level"))
    assignee = line.data.get("assignee")
    to = f" ({line.person(assignee)})" if assignee else ""
    return (
        f"The escalation was not decided in time and went up to {level}{to}; "
        f"a decision is due by {line.moment('decision_due_at')}"
    )


def _decided(line: EventLine) -> str:
    if line.data.get("settled"):
        sentence = line.did(
            "closed the escalation when the case was settled",
            "The escalation was closed when the case was settled",
        )
        return sentence + line.quote("decision")
    sentence = line.did("decided the escalation", "The escalation was decided")
    if line.data.get("on_time") is False:
        sentence += " late"
    took = duration_text(line.data.get("seconds"))
    if took:
        sentence += f" after {took}"
    return sentence + line.quote("decision")


COMMITMENT_RENDERERS: dict[str, Renderer] = {
    CaseEventKinds.COMMITMENT_MADE: _made,
    CaseEventKinds.COMMITMENT_KEPT: _kept,
    CaseEventKinds.COMMITMENT_CANCELLED: _cancelled,
    CaseEventKinds.COMMITMENT_RESCHEDULED: _rescheduled,
    CaseEventKinds.COMMITMENT_BROKEN: _broken,
    CaseEventKinds.ESCALATED: _escalated,
    CaseEventKinds.ESCALATION_BUMPED: _bumped,
    CaseEventKinds.ESCALATION_DECIDED: _decided,
}
