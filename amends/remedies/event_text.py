"""Sentences for the timeline events the remedies app writes (registered in RemediesConfig)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amends.cases.event_kinds import (
    EventLine,
    Renderer,
    duration_text,
    join_words,
    money_text,
    upper_first,
)
from amends.remedies.choices import RemedyEventKind

# The authority limits a remedy can go past, as a person says them.
LIMIT_WORDS: dict[str, str] = {
    "not_allowed": "this kind of remedy is not within their authority",
    "max_per_remedy": "the limit for one remedy",
    "max_per_case": "the limit for one case",
    "max_per_customer": "the limit per customer for the period",
}


def remedy_words(data: Mapping[str, Any]) -> str:
    """`a refund of £240.00`, `a goodwill voucher`."""
    kind = str(data.get("kind") or "remedy").replace("_", " ")
    amount = money_text(data.get("amount"), data.get("currency"))
    article = "an" if kind[:1] in "aeiou" else "a"
    return f"{article} {kind} of {amount}" if amount else f"{article} {kind}"


def breach_sentence(breach: Mapping[str, Any], currency: str) -> str:
    """`Over the limit for one remedy (£50.00; this would make £240.00).`"""
    limit = str(breach.get("limit") or "")
    if limit == "not_allowed":
        return "This kind of remedy is not within the proposer's authority."
    words = LIMIT_WORDS.get(limit, "an authority limit")
    allowed = money_text(breach.get("allowed"), currency)
    would_be = money_text(breach.get("would_be"), currency)
    detail = f" ({allowed}; this would make {would_be})" if allowed and would_be else ""
    return f"Over {words}{detail}."


def breaches_text(data: Mapping[str, Any]) -> str:
    breaches = data.get("breaches") or []
    if not isinstance(breaches, list):
        return ""
    currency = str(data.get("currency") or "")
    return " ".join(breach_sentence(b, currency) for b in breaches if isinstance(b, Mapping))


def _granted(line: EventLine) -> str:
    what = remedy_words(line.data)
    return line.did(
        f"granted {what} within their own authority", f"{upper_first(what)} was granted"
    ) + line.quote("reason", prefix=" for ")


def _approval_requested(line: EventLine) -> str:
    what = remedy_words(line.data)
    approver = line.person(line.data.get("approver"), "an approver")
    sentence = line.did(
        f"proposed {what}, which needs approval from {approver}",
        f"{upper_first(what)} needs approval from {approver}",
    )
    if line.data.get("decision_due_at"):
        sentence += f" by {line.moment('decision_due_at')}"
    sentence += "."
    reasons = breaches_text(line.data)
    return f"{sentence} {reasons}".strip() + line.quote("reason", prefix=" Reason given: ")


def _decided(verb: str) -> Renderer:
    def render(line: EventLine) -> str:
        what = remedy_words(line.data)
        proposer = line.data.get("proposed_by")
        by = f" proposed by {line.person(proposer)}" if proposer else ""
        took = duration_text(line.data.get("decision_seconds"))
        sentence = line.did(f"{verb} {what}{by}", f"{upper_first(what)}{by} was {verb}")
        if took:
            sentence += f" after {took}"
        return sentence + line.quote("decision_reason")

    return render


def _issued(line: EventLine) -> str:
    what = remedy_words(line.data)
    reference = line.text("issue_reference")
    ref = f" (reference {reference})" if reference else ""
    return line.did(f"issued {what}{ref}", f"{upper_first(what)} was issued{ref}")


def _cancelled(line: EventLine) -> str:
    what = remedy_words(line.data)
    return line.did(f"cancelled {what}", f"{upper_first(what)} was cancelled") + line.quote(
        "reason", prefix=" because "
    )


def _escalated(line: EventLine) -> str:
    what = remedy_words(line.data)
    change = line.change("approver")
    to = line.person(change[1]) if change else "the next approver up"
    before = f" from {line.person(change[0])}" if change else ""
    return (
        f"The approval of {what} was left undecided and went{before} to {to}, "
        f"due by {line.moment('decision_due_at')}"
    )


def _overdue(line: EventLine) -> str:
    what = remedy_words(line.data)
    approver = line.person(line.data.get("approver"), "the approver")
    return (
        f"The approval of {what} is overdue; nobody above {approver} can approve it, "
        "so it stays with them"
    )


def _menu_offered(line: EventLine) -> str:
    options = line.data.get("options") or []
    words = [remedy_words(o) for o in options if isinstance(o, Mapping)]
    listed = join_words(words) or "remedies"
    return line.did(
        f"offered the customer a choice of {listed}",
        f"The customer was offered a choice of {listed}",
    )


def _chosen(line: EventLine) -> str:
    what = remedy_words(line.data)
    if line.data.get("on_behalf_of_customer") and line.actor:
        return f"{line.actor} chose {what} on the customer's behalf"
    return f"The customer chose {what}"


REMEDY_RENDERERS: dict[str, Renderer] = {
    RemedyEventKind.GRANTED: _granted,
    RemedyEventKind.APPROVAL_REQUESTED: _approval_requested,
    RemedyEventKind.APPROVED: _decided("approved"),
    RemedyEventKind.REJECTED: _decided("rejected"),
    RemedyEventKind.ISSUED: _issued,
    RemedyEventKind.CANCELLED: _cancelled,
    RemedyEventKind.ESCALATED: _escalated,
    RemedyEventKind.OVERDUE: _overdue,
    RemedyEventKind.MENU_OFFERED: _menu_offered,
    RemedyEventKind.CHOSEN: _chosen,
}
