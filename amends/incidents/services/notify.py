"""Proactive notification: rounds of notices to every affected customer, sent in batches.

A round is started by a person and worked off by the worker (`incident_rounds_sweep`) in
batches. Each batch runs in one transaction: for every customer it queues the email (with their
own incident link, see services/links.py) through the channels outbox, records the notice on
the case when they already have one, and marks the impact with the round's number. A batch that dies rolls back whole, so the
next run starts where the last committed batch stopped; the outbox's dedupe key
(`incident:{id}:round:{round}:customer:{customer}`) is the second guard: a round never mails one
customer twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from amends.cases.services.events import case_event_record
from amends.channels.services.outbound import email_queue
from amends.core import hooks
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.incidents.choices import (
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


def round_process(*, notice: NotificationRound, limit: int | None = None) -> int:
    """Send the next batch of a round; how many customers it covered. Commits per batch."""
    limit = batch_size() if limit is None else limit
    with transaction.atomic():
        notice = NotificationRound.objects.select_for_update().get(pk=notice.pk)
        if notice.status != RoundStatus.RUNNING:
            return 0
        incident = Incident.objects.select_related("kind", "policy__owner", "service").get(
            pk=notice.incident_id
        )
        batch = list(
            Impact.objects.filter(incident_id=incident.pk, notified_round__lt=notice.number)
            .select_related("customer", "case")
            .order_by("id")[:limit]
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
        update = _latest_update(incident)
        sent = 0
        newly = 0
        for impact in batch:
            address = impact.email or impact.customer.email
            link = impact_url(impact_id=impact.pk)
            if address:
                values = _values(
                    incident=incident,
                    name=impact.customer.name,
                    lines=impact.lines,
                    link=link,
                    update=update,
                )
                email_queue(
                    to=address,
                    subject=render(notice.subject, values),
                    body=render(notice.body, values),
                    automatic=True,
                    kind="incident_notice",
                    case_id=impact.case_id,
                    customer_id=impact.customer_id,
                    dedupe_key=(
                        f"incident:{incident.pk}:round:{notice.pk}:customer:{impact.customer_id}"
                    ),
                )
                sent += 1
                if impact.notified_at is None:
                    newly += 1
                    impact.notified_at = now
                if impact.case_id is not None:
                    case_event_record(
                        case=impact.case,  # type: ignore[arg-type]  # case_id set above
                        kind="incident_notice_sent",
                        actor=None,
                        data={
                            "incident": incident.ref,
                            "round": notice.number,
                            "subject": render(notice.subject, values),
                        },
                    )
            if notice.kind == RoundKind.RESOLVED and impact.case_id is not None:
                # The recovery is over for this customer: ask how it was handled (feedback
                # applies its own rules: one survey per case ever, opt-outs).
                hooks.survey_requested.emit(
                    hooks.SurveyRequested(
                        case_id=impact.case_id, reason="incident_recovery", incident_id=incident.pk
                    )
                )
            impact.notified_round = notice.number
        Impact.objects.bulk_update(batch, ["notified_round", "notified_at"], batch_size=500)
        NotificationRound.objects.filter(pk=notice.pk).update(
            sent=F("sent") + sent, covered=F("covered") + len(batch), updated_at=now
        )
        incident_counters_add(incident_id=incident.pk, notified_count=newly)
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
    """Where a round stands, from its own row (the page polls this; no scan of the impacts)."""
    notice = NotificationRound.objects.get(pk=notice.pk)
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
