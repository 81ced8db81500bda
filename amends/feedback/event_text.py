"""Sentences for the timeline events the feedback app writes (registered in FeedbackConfig)."""

from __future__ import annotations

from amends.cases.event_kinds import EventLine, Renderer, choice_text, join_words
from amends.feedback.choices import (
    CheckStatus,
    CheckSubject,
    FeedbackEventKind,
    FollowUpOutcome,
    FollowUpReason,
    PromisesKept,
)

# Why a survey was scheduled.
WHY_WORDS: dict[str, str] = {
    "resolved": "now that the case is resolved",
    "incident": "now that the incident behind it is over",
    "incident_recovery": "now that the incident behind it is over",
}


def _scheduled(line: EventLine) -> str:
    why = WHY_WORDS.get(line.text("why"), "")
    tail = f" {why}" if why else ""
    return f"A satisfaction survey will go to the customer after {line.moment('send_after')}{tail}"


def _sent(line: EventLine) -> str:
    return (
        "The satisfaction survey went to the customer; it can be answered until "
        f"{line.moment('expires_at')}"
    )


def _answered(line: EventLine) -> str:
    parts = []
    if line.data.get("csat") is not None:
        parts.append(f"satisfaction {line.data['csat']} out of 5")
    if line.data.get("nps") is not None:
        parts.append(f"likely to recommend {line.data['nps']} out of 10")
    kept = line.data.get("promises_kept")
    if kept:
        parts.append(f"promises kept: {choice_text(PromisesKept, kept)}")
    scores = f" ({join_words(parts)})" if parts else ""
    return f"The customer answered the survey{scores}"


def _excluded(line: EventLine) -> str:
    return line.did(
        "marked the case as internal, so no survey goes out",
        "The case was marked internal, so no survey goes out",
    ) + line.quote("reason", prefix=" because ")


def _follow_up_opened(line: EventLine) -> str:
    reasons = line.data.get("reasons") or []
    words = [choice_text(FollowUpReason, r) for r in reasons] if isinstance(reasons, list) else []
    why = f" ({join_words(words)})" if words else ""
    assignee = line.person(line.data.get("assignee"), "the team")
    return (
        f"The survey answer needs a follow-up call{why}; {assignee} is to call by "
        f"{line.moment('due_at')}"
    )


def _follow_up_done(line: EventLine) -> str:
    outcome = choice_text(FollowUpOutcome, line.data.get("outcome"))
    return line.did(
        f"finished the survey follow-up: {outcome}", f"The survey follow-up finished: {outcome}"
    ) + line.quote("note", prefix=". ")


def _compliment(line: EventLine) -> str:
    staff = line.person(line.data.get("staff"), "a staff member")
    return line.did(f"recorded a compliment for {staff}", f"The customer paid {staff} a compliment")


def _check_requested(line: EventLine) -> str:
    subject = choice_text(CheckSubject, line.data.get("subject"))
    reviewer = line.data.get("reviewer")
    who = "the team" if reviewer in (None, "", "team") else line.person(reviewer)
    return line.did(
        f"asked {who} for a second look at the {subject}, due by {line.moment('due_at')}",
        f"A second look at the {subject} was asked of {who}",
    )


def _check_answered(line: EventLine) -> str:
    status = line.data.get("status")
    if status == CheckStatus.APPROVED:
        return line.did("approved on second look", "The second look approved it")
    verdict = choice_text(CheckStatus, status)
    return line.did(
        f"answered the second look ({verdict})", f"The second look was answered ({verdict})"
    )


def _review_opened(line: EventLine) -> str:
    return line.did(
        "opened a staff review of how the complaint was handled",
        "A staff review of how the complaint was handled was opened",
    )


FEEDBACK_RENDERERS: dict[str, Renderer] = {
    FeedbackEventKind.SURVEY_SCHEDULED: _scheduled,
    FeedbackEventKind.SURVEY_SENT: _sent,
    FeedbackEventKind.SURVEY_ANSWERED: _answered,
    FeedbackEventKind.SURVEY_EXCLUDED: _excluded,
    FeedbackEventKind.FOLLOW_UP_OPENED: _follow_up_opened,
    FeedbackEventKind.FOLLOW_UP_DONE: _follow_up_done,
    FeedbackEventKind.COMPLIMENT: _compliment,
    FeedbackEventKind.CHECK_REQUESTED: _check_requested,
    FeedbackEventKind.CHECK_ANSWERED: _check_answered,
    FeedbackEventKind.REVIEW_OPENED: _review_opened,
}
