"""Proactive notification: rounds of notices to every affected customer, sent in batches.

A round is started by a person and worked off by the worker (`incident_rounds_sweep`) in
batches. Each batch runs in one transaction and is set-based: the notice's words are filled in
once per round (per customer only their name, their choices and their own incident link, see
services/links.py), the batch's emails go into the channels outbox in one bulk queue
(`email_queue_bulk`: a few statements and one delivery task per batch), the notice is recorded
on the cases of customers who already have one, and the impacts are marked with the round's
number in one UPDATE. A batch that dies rolls back whole, so the
next run starts where the last committed batch stopped; the outbox's dedupe key
(`incident:{id}:round:{round}:customer:{customer}`) is the second guard: a round never mails one
customer twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from amends.cases.services.batch import EventRow, case_events_record_many
from amends.channels.services.outbound import OutboundMessage, email_queue_bulk
from amends.core import hooks
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.incidents.choices import (
    IncidentCaseEventKind,
    IncidentEventKind,
    IncidentStatus,
    RoundKind,
    RoundStatus,
)
from amends.incidents.models import Impact, Incident, NotificationRound
from amends.incidents.selectors import incident_update_list, template_for
from amends.incidents.services.counters import incident_counters_add
from amends.incidents.services.events import incident_event_record
from amends.incidents.services.incidents import incident_require_open
from amends.incidents.services.links import impact_url
from amends.incidents.services.policies import require_manager

PLACEHOLDERS = (
    "customer_name",
    "incident_ref",
    "incident_title",
    "what_happened",
    "latest_update",
    "choices",
    "portal_link",
    "started_at",
)
PLACEHOLDER_RE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


def batch_size() -> int:
    return max(1, min(5_000, int(amends_setting("INCIDENT_ROUND_BATCH", 500))))


# ---- templates -----------------------------------------------------------------------------


def template_check(text: str, field: str) -> str:
    """Refuse placeholders we cannot fill, naming them (a typo must not reach customers)."""
    unknown = sorted({m for m in PLACEHOLDER_RE.findall(text) if m not in PLACEHOLDERS})
    if unknown:
        raise ApplicationError(
            f"Unknown placeholder(s) {', '.join('{' + u + '}' for u in unknown)}; "
            f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}.",
            code="invalid_template",
            status=422,
            detail={field: [f"Unknown: {', '.join(unknown)}"]},
        )
    if "\x00" in text:
        raise ApplicationError(
            "Text cannot contain NUL.", code="invalid_template", status=422, detail={field: []}
        )
    return text


def render(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def choices_text(lines: list[dict[str, Any]], currency: str) -> str:
    owed = [line for line in lines if line["status"] == "owed"]
    options = [line for line in lines if line["status"] == "option"]
    parts = []
    for line in owed:
        amount = f" ({line['amount']} {currency})" if line["amount"] else ""
        parts.append(f"- {line['label']}{amount}: yours, whatever you choose")
    if len(options) == 1:
        line = options[0]
        amount = f" ({line['amount']} {currency})" if line["amount"] else ""
        parts.append(f"- {line['label']}{amount}")
    elif options:
        parts.append("Choose one of:")
        for line in options:
            amount = f" ({line['amount']} {currency})" if line["amount"] else ""
            parts.append(f"  - {line['label']}{amount}")
    return "\n".join(parts) if parts else "- We will contact you about what we can do for you."


def _values(
    *, incident: Incident, name: str, lines: list[dict[str, Any]], link: str, update: str
) -> dict[str, str]:
    currency = incident.policy.currency if incident.policy else ""
    return {
        "customer_name": name or "customer",
        "incident_ref": incident.ref,
        "incident_title": incident.title,
        "what_happened": incident.public_description or incident.title,
        "latest_update": update or "We are working on it and will keep you informed.",
        "choices": choices_text(lines, currency),
        "portal_link": link or "(reply to this email and we will help you)",
        "started_at": incident.started_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _latest_update(incident: Incident) -> str:
    updates = incident_update_list(incident=incident, public_only=True)
    return updates[0].body if updates else ""


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    recipient: str
    customers: int


def round_preview(*, incident: Incident, kind: str, subject: str = "", body: str = "") -> Preview:
    """The notice as the first affected customer would read it (a sample one if none)."""
    subject, body = _words(incident, kind, subject, body)
    impact = (
        Impact.objects.filter(incident_id=incident.pk)
        .select_related("customer")
        .order_by("id")
        .first()
    )
    name = impact.customer.name if impact else "Ada Lee"
    lines = impact.lines if impact else []
    values = _values(
        incident=incident,
        name=name,
        lines=lines,
        link="https://…/i/<their own link>/",
        update=_latest_update(incident),
    )
    return Preview(
        subject=render(subject, values),
        body=render(body, values),
        recipient=(impact.email or impact.customer.email) if impact else "",
        customers=Impact.objects.filter(incident_id=incident.pk).count(),
    )


def _words(incident: Incident, kind: str, subject: str, body: str) -> tuple[str, str]:
    if kind not in RoundKind.values:
        raise ApplicationError(
            f"Unknown round kind {kind!r}; use {', '.join(RoundKind.values)}.",
            code="invalid_round",
            status=422,
        )
    template = template_for(kind=incident.kind, round_kind=kind)
    subject = (subject or (template.subject if template else "")).strip()
    body = (body or (template.body if template else "")).strip()
    if not subject or not body:
        raise ApplicationError(
            "No template for this kind of notice; write a subject and body.",
            code="invalid_template",
            status=422,
        )
    if len(subject) > 200 or len(body) > 20_000:
        raise ApplicationError(
            "Subject at most 200 and body at most 20,000 characters.",
            code="invalid_template",
            status=422,
        )
    return template_check(subject, "subject"), template_check(body, "body")


# ---- rounds ------------------------------------------------------------------------------


@transaction.atomic
def round_start(
    *, incident: Incident, kind: str, actor: User, subject: str = "", body: str = ""
) -> NotificationRound:
    """Start notifying every affected customer; the worker sends it in batches."""
    require_manager(actor)
    incident = (
        Incident.objects.select_for_update(of=("self",)).select_related("kind").get(pk=incident.pk)
    )
    incident_require_open(incident)
    subject, body = _words(incident, kind, subject, body)
    last = NotificationRound.objects.filter(incident=incident).order_by("-number").first()
    if last is not None and last.status == RoundStatus.RUNNING:
        raise ApplicationError(
            f"Round {last.number} is still being sent; wait for it to finish.",
            code="round_running",
            status=409,
        )
    if kind == RoundKind.INITIAL and last is not None:
        raise ApplicationError(
            "The first notice went out already; send an update or a resolved notice.",
            code="round_exists",
            status=409,
        )
    if kind != RoundKind.INITIAL and last is None:
        raise ApplicationError(
            "Send the first notice before an update.", code="no_first_round", status=409
        )
    if kind == RoundKind.RESOLVED and incident.status != IncidentStatus.RESOLVED:
        raise ApplicationError(
            "Mark the incident resolved before sending the resolved notice.",
            code="not_resolved",
            status=409,
        )
    total = Impact.objects.filter(incident=incident).count()
    if total == 0:
        raise ApplicationError(
            "No affected customers yet; add them first.", code="no_customers", status=409
        )
    number = (last.number + 1) if last else 1
    notice = NotificationRound.objects.create(
        incident=incident,
        number=number,
        kind=kind,
        subject=subject,
        body=body,
        total=total,
        started_by=actor,
    )
    incident_event_record(
        incident=incident,
        kind=IncidentEventKind.ROUND_STARTED,
        actor=actor,
        data={"round": number, "kind": kind, "customers": total, "subject": subject},
    )
    transaction.on_commit(_process_soon, robust=True)
    return notice


def _process_soon() -> None:
    from amends.incidents.tasks import incident_rounds_run

    try:
        incident_rounds_run.enqueue()
    except Exception:  # the sweep picks it up anyway
        return


@dataclass(frozen=True)
class NoticeRenderer:
    """A round's subject and body with everything the same for every customer filled in once
    (incident, latest update, dates); per customer only their name, their choices and their
    link are put in, by joining precut pieces (no template parsing per customer)."""

    subject: tuple[str, ...]
    body: tuple[str, ...]
    currency: str

    PER_CUSTOMER = ("customer_name", "choices", "portal_link")

    @classmethod
    def for_round(cls, *, incident: Incident, subject: str, body: str) -> NoticeRenderer:
        fixed = _values(
            incident=incident, name="", lines=[], link="", update=_latest_update(incident)
        )
        for name in cls.PER_CUSTOMER:
            fixed.pop(name)
        currency = incident.policy.currency if incident.policy else ""
        return cls(cls._cut(subject, fixed), cls._cut(body, fixed), currency)

    @staticmethod
    def _cut(text: str, fixed: dict[str, str]) -> tuple[str, ...]:
        """Even positions: literal text; odd positions: a per-customer placeholder's name."""
        pieces: list[str] = [""]
        position = 0
        for match in PLACEHOLDER_RE.finditer(text):
            pieces[-1] += text[position : match.start()]
            name = match.group(1)
            if name in NoticeRenderer.PER_CUSTOMER:
                pieces.extend([name, ""])
            else:
                pieces[-1] += fixed.get(name, match.group(0))
            position = match.end()
        pieces[-1] += text[position:]
        return tuple(pieces)

    @staticmethod
    def _join(pieces: tuple[str, ...], values: dict[str, str]) -> str:
        if len(pieces) == 1:
            return pieces[0]
        return "".join(piece if i % 2 == 0 else values[piece] for i, piece in enumerate(pieces))

    def render(self, *, name: str, choices: str, link: str) -> tuple[str, str]:
        values = {
            "customer_name": name or "customer",
            "choices": choices,
            "portal_link": link or "(reply to this email and we will help you)",
        }
        return self._join(self.subject, values), self._join(self.body, values)


def _choices_cached(cache: dict[str, str], lines: list[dict[str, Any]], currency: str) -> str:
    """Customers under one policy share a handful of outcomes: word each outcome once."""
    key = "|".join(f"{line['status']}:{line['label']}:{line['amount']}" for line in lines)
    text = cache.get(key)
    if text is None:
        text = cache[key] = choices_text(lines, currency)
    return text


def round_process(*, notice: NotificationRound, limit: int | None = None) -> int:
    """Send the next batch of a round; how many customers it covered. Commits per batch.

    Set-based: one read of the batch, the notice words filled in once per round (per
    customer only name, choices and link), one bulk queue into the outbox, one insert of the
    case timeline rows for customers who have a case, two UPDATEs of the impacts."""
    limit = batch_size() if limit is None else limit
    with transaction.atomic():
        notice = NotificationRound.objects.select_for_update().get(pk=notice.pk)
        if notice.status != RoundStatus.RUNNING:
            return 0
        incident = Incident.objects.select_related("kind", "policy__owner", "service").get(
            pk=notice.incident_id
        )
        batch = cast(
            list[dict[str, Any]],
            list(
                Impact.objects.filter(incident_id=incident.pk, notified_round__lt=notice.number)
                .order_by("id")
                .values(
                    "id",
                    "customer_id",
                    "case_id",
                    "email",
                    "lines",
                    "notified_at",
                    "customer__name",
                    "customer__email",
                )[:limit]
            ),
        )
        now = timezone.now()
        if not batch:
            notice.status = RoundStatus.DONE
            notice.finished_at = now
            notice.save(update_fields=["status", "finished_at", "updated_at"])
            incident_event_record(
                incident=incident,
                kind=IncidentEventKind.ROUND_FINISHED,
                actor=None,
                data={"round": notice.number, "sent": notice.sent, "customers": notice.total},
            )
            return 0
        renderer = NoticeRenderer.for_round(
            incident=incident, subject=notice.subject, body=notice.body
        )
        worded: dict[str, str] = {}
        messages: list[OutboundMessage] = []
        addressed: list[dict[str, Any]] = []
        for impact in batch:
            address = impact["email"] or impact["customer__email"]
            if not address:
                continue
            subject, body = renderer.render(
                name=impact["customer__name"],
                choices=_choices_cached(worded, impact["lines"], renderer.currency),
                link=impact_url(impact_id=impact["id"]),
            )
            messages.append(
                OutboundMessage(
                    to=address,
                    subject=subject,
                    body=body,
                    kind="incident_notice",
                    case_id=impact["case_id"],
                    customer_id=impact["customer_id"],
                    dedupe_key=(
                        f"incident:{incident.pk}:round:{notice.pk}:customer:{impact['customer_id']}"
                    ),
                )
            )
            addressed.append(impact)
        queued = email_queue_bulk(messages=messages, now=now)
        refused = {position for position, _ in queued.refused}
        mailed = [
            (impact, message)
            for i, (impact, message) in enumerate(zip(addressed, messages, strict=True))
            if i not in refused
        ]
        with_case = [(impact, m) for impact, m in mailed if impact["case_id"] is not None]
        if with_case:
            case_events_record_many(
                events=[
                    EventRow(
                        case_id=impact["case_id"],
                        kind=IncidentCaseEventKind.NOTICE_SENT,
                        data={
                            "incident": incident.ref,
                            "round": notice.number,
                            "subject": message.subject,
                        },
                    )
                    for impact, message in with_case
                ],
                at=now,
            )
        if notice.kind == RoundKind.RESOLVED:
            # The recovery is over for these customers: ask how it was handled (feedback
            # applies its own rules: one survey per case ever, opt-outs).
            for impact in batch:
                if impact["case_id"] is not None:
                    hooks.survey_requested.emit(
                        hooks.SurveyRequested(
                            case_id=impact["case_id"],
                            reason="incident_recovery",
                            incident_id=incident.pk,
                        )
                    )
        newly = [impact["id"] for impact, _ in mailed if impact["notified_at"] is None]
        for start in range(0, len(batch), 900):
            ids = [impact["id"] for impact in batch[start : start + 900]]
            Impact.objects.filter(pk__in=ids).update(notified_round=notice.number, updated_at=now)
        for start in range(0, len(newly), 900):
            Impact.objects.filter(pk__in=newly[start : start + 900]).update(notified_at=now)
        sent = queued.queued + queued.already
        NotificationRound.objects.filter(pk=notice.pk).update(
            sent=F("sent") + sent, covered=F("covered") + len(batch), updated_at=now
        )
        incident_counters_add(incident_id=incident.pk, notified_count=len(newly))
        return len(batch)


def incident_rounds_sweep(*, now: datetime) -> int:
    """The worker's sweep: one batch of every round still sending; customers covered."""
    done = 0
    running = list(
        NotificationRound.objects.filter(status=RoundStatus.RUNNING).order_by("created_at")[:50]
    )
    for notice in running:
        done += round_process(notice=notice)
    return done


def round_run_to_end(*, notice: NotificationRound, limit: int | None = None) -> int:
    """Every remaining batch of one round (CLI, tests, benchmark)."""
    total = 0
    while True:
        covered = round_process(notice=notice, limit=limit)
        total += covered
        if covered == 0:
            return total


def round_progress(*, notice: NotificationRound) -> dict[str, Any]:
    """Where a round stands, from its own row read afresh (no scan of the impacts)."""
    return round_progress_of(notice=NotificationRound.objects.get(pk=notice.pk))


def round_progress_of(*, notice: NotificationRound) -> dict[str, Any]:
    """Where a round stands, from a round row just read (the page and the API list them)."""
    done = min(notice.covered, notice.total)
    return {
        "round": notice.number,
        "kind": notice.kind,
        "status": notice.status,
        "total": notice.total,
        "done": done,
        "sent": notice.sent,
        "percent": int(100 * done / notice.total) if notice.total else 100,
    }
