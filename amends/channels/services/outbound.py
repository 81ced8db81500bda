"""Outbound email: an outbox row written in the caller's transaction, sent by the worker.

Callers (replies, confirmations, portal links, incident notices, surveys) only queue; the
worker's sweep (`outbound_send_due`, in AMENDS_SWEEPS) and a task enqueued with the row send
through Django's email backend. A failed send is retried with exponential backoff and, after
the last attempt, stays visible as failed on the case; nothing is dropped silently.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from amends.cases.choices import MessageDirection
from amends.cases.models import Case, case_ref
from amends.channels.choices import OUTBOUND_PENDING, OutboundStatus
from amends.channels.conf import from_address, mail_domain, setting_int
from amends.channels.models import Attachment, OutboundEmail
from amends.channels.services.attachments import attachment_file
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.core.rows import db_datetime, insert_rows

logger = logging.getLogger(__name__)

MAX_SUBJECT = 250
MAX_BODY = 200_000
# References kept on a reply: the first message of the thread and the latest ones.
MAX_REFERENCES = 20


def _max_attempts() -> int:
    return max(1, setting_int("OUTBOUND_MAX_ATTEMPTS", 8))


def _lease() -> timedelta:
    return timedelta(seconds=max(30, setting_int("OUTBOUND_LEASE_SECONDS", 600)))


def backoff_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: base, 2×base, 4×base, … capped at six hours."""
    base = max(1, setting_int("OUTBOUND_BACKOFF_SECONDS", 60))
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 6 * 3600))


def message_id_new() -> str:
    """A fresh Message-ID on our domain; the `amends.` prefix tells our own mail apart."""
    return f"<amends.{uuid.uuid4().hex}@{mail_domain()}>"


def subject_with_ref(subject: str, ref: str) -> str:
    if ref.lower() in subject.lower():
        return subject
    return f"[{ref}] {subject}"


def _clean_header(value: str) -> str:
    # A header value never spans lines (header injection) nor carries NULs.
    return " ".join(value.replace("\x00", " ").split())


def _thread_ids(case_id: int) -> list[str]:
    """Message-IDs already in this case's email thread, oldest first."""
    # Imported here: inbound depends on this module for our own Message-IDs.
    from amends.channels.selectors import case_thread_message_ids

    return case_thread_message_ids(case_id=case_id)


def email_queue(
    *,
    to: str,
    subject: str,
    body: str,
    automatic: bool,
    kind: str,
    case_id: int | None = None,
    customer_id: int | None = None,
    dedupe_key: str | None = None,
    in_reply_to: str | None = None,
    case_message_id: int | None = None,
    thread: Sequence[str] | None = None,
) -> OutboundEmail:
    """Queue one email in the caller's transaction. The same `dedupe_key` twice returns the
    row queued first and sends nothing more. `thread`: the case's thread when the caller
    knows it (with `customer_id`: a case it has just opened has none), to skip reading it.

    One INSERT (plus a read of the case when `thread` or `customer_id` is not given): with a
    dedupe key it is `INSERT … ON CONFLICT DO NOTHING RETURNING id`, so neither a lookup first
    nor a savepoint is needed, and a single statement needs no transaction of its own."""
    to = _clean_header(to).strip()
    try:
        validate_email(to)
    except ValidationError as exc:
        existing = _deduped(dedupe_key)
        if existing is not None:  # queued before: nothing more is sent, nothing to refuse
            return existing
        raise ApplicationError(
            f"{to[:100]!r} is not an email address.",
            code="invalid_email",
            status=422,
            detail={"to": ["Enter a valid email address."]},
        ) from exc
    subject = _clean_header(subject) or "(no subject)"
    body = body.replace("\x00", "")
    if len(body) > MAX_BODY:
        existing = _deduped(dedupe_key)
        if existing is not None:
            return existing
        raise ApplicationError(
            "The email is too long.",
            code="invalid_email",
            status=422,
            detail={"body": [f"At most {MAX_BODY} characters."]},
        )
    references: list[str] = []
    if case_id is not None:
        if dedupe_key and (thread is None or customer_id is None):
            # Queued before under this key: return it without reading the case or thread.
            existing = _deduped(dedupe_key)
            if existing is not None:
                return existing
        if thread is None or customer_id is None:
            case = Case.objects.filter(pk=case_id).values("pk", "customer_id").first()
            if case is None:
                raise ApplicationError("No such case.", code="not_found", status=404)
            if customer_id is None:
                customer_id = case["customer_id"]
        subject = subject_with_ref(subject, case_ref(case_id))
        references = list(thread) if thread is not None else _thread_ids(case_id)
        if in_reply_to is None and references:
            in_reply_to = references[-1]
    in_reply_to = _clean_header(in_reply_to or "")[:250]
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    if len(references) > MAX_REFERENCES:
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
    email = OutboundEmail(
        to=to,
        subject=subject[:MAX_SUBJECT],
        body=body,
        automatic=automatic,
        kind=_clean_header(kind)[:40] or "other",
        case_id=case_id,
        customer_id=customer_id,
        case_message_id=case_message_id,
        dedupe_key=dedupe_key or None,
        message_id=message_id_new(),
        in_reply_to=in_reply_to,
        references=" ".join(references),
        status=OutboundStatus.QUEUED,
        next_attempt_at=timezone.now(),
    )
    if dedupe_key:
        email.created_at = email.updated_at = email.next_attempt_at
        fields = {field.attname: field for field in OutboundEmail._meta.concrete_fields}
        row = tuple(
            fields[name].get_db_prep_save(getattr(email, name), connection)
            for name in _BULK_COLUMNS
        )
        inserted = insert_rows(
            model=OutboundEmail,
            columns=_BULK_COLUMNS,
            rows=[row],
            skip_conflicts=True,
            returning=("id",),
        )
        if not inserted:  # queued before, or a moment ago by someone else
            return OutboundEmail.objects.get(dedupe_key=dedupe_key)
        email.pk = inserted[0][0]
        email._state.adding = False
    else:
        email.save()
    _send_soon_with_commit()
    return email


def _deduped(dedupe_key: str | None) -> OutboundEmail | None:
    if not dedupe_key:
        return None
    return OutboundEmail.objects.filter(dedupe_key=dedupe_key).first()


@dataclass(frozen=True)
class OutboundMessage:
    """One email for `email_queue_bulk` (the arguments of `email_queue`, as a row)."""

    to: str
    subject: str
    body: str
    kind: str
    automatic: bool = True
    case_id: int | None = None
    customer_id: int | None = None
    dedupe_key: str | None = None


@dataclass
class BulkQueued:
    """What `email_queue_bulk` did: rows queued, messages whose dedupe key was queued before
    (nothing more is sent for them), and the positions of the messages it refused."""

    queued: int = 0
    already: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)


_BULK_COLUMNS = (
    "to",
    "subject",
    "body",
    "automatic",
    "kind",
    "case_id",
    "customer_id",
    "case_message_id",
    "dedupe_key",
    "message_id",
    "in_reply_to",
    "references",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_until",
    "lease_token",
    "last_error",
    "sent_at",
    "bounced_at",
    "created_at",
    "updated_at",
)
_LOOKUP_CHUNK = 900  # under SQLite's bound-parameter limit


def _bulk_address(to: str) -> str | None:
    to = _clean_header(to).strip()
    try:
        validate_email(to)
    except ValidationError:
        return None
    return to


@transaction.atomic
def email_queue_bulk(
    *, messages: Sequence[OutboundMessage], now: datetime | None = None
) -> BulkQueued:
    """Queue many emails in the caller's transaction with a few statements: one lookup of the
    dedupe keys per 900 messages, one lookup of the cases named, multi-row INSERTs (`ON
    CONFLICT DO NOTHING`, so a key queued meanwhile by someone else is skipped, not doubled),
    and one delivery task enqueued on commit for the whole batch (the outbox sweep sends
    anything that task misses). Same rules as `email_queue` per message; a message it cannot
    send (bad address, too long, unknown case) is refused by position and the rest proceed."""
    result = BulkQueued()
    if not messages:
        return result
    when = now or timezone.now()
    keys = [m.dedupe_key for m in messages if m.dedupe_key]
    seen: set[str] = set()
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        chunk = keys[start : start + _LOOKUP_CHUNK]
        for key in OutboundEmail.objects.filter(dedupe_key__in=chunk).values_list(
            "dedupe_key", flat=True
        ):
            if key:
                seen.add(key)
    case_ids = sorted({m.case_id for m in messages if m.case_id is not None})
    cases: dict[int, int] = {}
    for start in range(0, len(case_ids), _LOOKUP_CHUNK):
        cases.update(
            Case.objects.filter(pk__in=case_ids[start : start + _LOOKUP_CHUNK]).values_list(
                "pk", "customer_id"
            )
        )
    # Threading needs each case's earlier Message-IDs: one query per case named (an incident
    # round names a case only for customers who already have one, a small share).
    threads = {case_id: _thread_ids(case_id) for case_id in cases}
    stamp = db_datetime(when)
    domain = mail_domain()
    rows: list[tuple[object, ...]] = []
    for position, message in enumerate(messages):
        key = message.dedupe_key or None
        if key is not None and key in seen:
            result.already += 1
            continue
        to = _bulk_address(message.to)
        if to is None:
            result.refused.append((position, "invalid_email"))
            continue
        body = message.body.replace("\x00", "")
        if len(body) > MAX_BODY:
            result.refused.append((position, "too_long"))
            continue
        subject = _clean_header(message.subject) or "(no subject)"
        customer_id = message.customer_id
        references: list[str] = []
        in_reply_to = ""
        if message.case_id is not None:
            if message.case_id not in cases:
                result.refused.append((position, "unknown_case"))
                continue
            if customer_id is None:
                customer_id = cases[message.case_id]
            subject = subject_with_ref(subject, case_ref(message.case_id))
            references = threads[message.case_id]
            if len(references) > MAX_REFERENCES:
                references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
            in_reply_to = references[-1] if references else ""
        if key is not None:
            seen.add(key)  # the same key twice in one batch: the first one wins
        rows.append(
            (
                to,
                subject[:MAX_SUBJECT],
                body,
                message.automatic,
                _clean_header(message.kind)[:40] or "other",
                message.case_id,
                customer_id,
                None,
                key,
                f"<amends.{uuid.uuid4().hex}@{domain}>",  # as message_id_new(), domain read once
                in_reply_to,
                " ".join(references),
                OutboundStatus.QUEUED.value,
                0,
                stamp,
                None,
                "",
                "",
                None,
                None,
                stamp,
                stamp,
            )
        )
    inserted = insert_rows(
        model=OutboundEmail,
        columns=_BULK_COLUMNS,
        rows=rows,
        skip_conflicts=True,
        returning=("id",),
    )
    result.queued = len(inserted)
    result.already += len(rows) - len(inserted)  # a key queued meanwhile by someone else
    if inserted:
        _send_soon_with_commit()
    return result


def _send_soon_with_commit() -> None:
    """Ask the worker to send what the caller's transaction queues, once it commits (the
    task's row in that transaction with the database backend: `enqueue_with_commit`)."""
    from amends.channels.tasks import enqueue_with_commit, outbound_send

    enqueue_with_commit(outbound_send, _send_soon)


def _send_soon() -> None:
    """Ask the worker to send now instead of at its next sweep round."""
    from amends.channels.tasks import outbound_send

    try:
        outbound_send.enqueue()
    except Exception:  # the sweep sends it anyway
        logger.warning("could not enqueue the outbound send task", exc_info=True)


@transaction.atomic
def outbound_retry(*, email: OutboundEmail, now: datetime | None = None) -> OutboundEmail:
    """Send a failed email again now (a person asked for it), with a fresh set of attempts."""
    email = OutboundEmail.objects.select_for_update().get(pk=email.pk)
    if email.status not in (OutboundStatus.FAILED, OutboundStatus.RETRYING):
        raise ApplicationError("Only a failed email can be retried.", code="not_failed", status=409)
    email.status = OutboundStatus.QUEUED
    email.attempts = 0
    email.next_attempt_at = now or timezone.now()
    email.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    _send_soon_with_commit()
    return email


def _due(now: datetime) -> Q:
    return Q(status__in=OUTBOUND_PENDING, next_attempt_at__lte=now) | Q(
        status=OutboundStatus.SENDING, lease_until__lt=now
    )


def _claim(now: datetime, limit: int) -> list[OutboundEmail]:
    """Take up to `limit` due rows for this worker with one conditional UPDATE.

    Another worker running at once either took a row first (the UPDATE's WHERE no longer
    matches) or takes a different one; each row is sent by exactly one worker per attempt.
    """
    ids = list(
        OutboundEmail.objects.filter(_due(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    token = secrets.token_hex(16)
    OutboundEmail.objects.filter(_due(now), pk__in=ids).update(
        status=OutboundStatus.SENDING, lease_until=now + _lease(), lease_token=token
    )
    return list(OutboundEmail.objects.filter(lease_token=token).order_by("id"))


def _files_by_message(emails: Sequence[OutboundEmail]) -> dict[int, list[Attachment]]:
    """The files of the replies these emails carry, in one query. Only a message to the
    customer's files go out: an internal note's never do."""
    ids = [e.case_message_id for e in emails if e.case_message_id is not None]
    files: dict[int, list[Attachment]] = {}
    if not ids:
        return files
    for attachment in Attachment.objects.filter(
        message_id__in=ids, message__direction=MessageDirection.OUTBOUND
    ).order_by("created_at", "id"):
        files.setdefault(attachment.message_id or 0, []).append(attachment)
    return files


def _message(email: OutboundEmail, files: Sequence[Attachment] = ()) -> EmailMessage:
    headers = {"Message-ID": email.message_id}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    if email.case_id is not None:
        headers["X-Amends-Case"] = case_ref(email.case_id)
    if email.automatic:
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    reply_to = str(amends_setting("MAIL_REPLY_TO", "") or "")
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=from_address(),
        to=[email.to],
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
    )
    for file in files:
        # A file gone from the disk fails this send; the row is retried and then shown failed.
        message.attach(file.filename, attachment_file(file).read_bytes(), file.content_type)
    return message


def _finish(email: OutboundEmail, token: str, now: datetime, error: str | None) -> None:
    mine = OutboundEmail.objects.filter(pk=email.pk, lease_token=token)
    if error is None:
        mine.update(
            status=OutboundStatus.SENT,
            sent_at=now,
            attempts=email.attempts + 1,
            lease_until=None,
            lease_token="",
            last_error="",
        )
        return
    attempts = email.attempts + 1
    final = attempts >= _max_attempts()
    mine.update(
        status=OutboundStatus.FAILED if final else OutboundStatus.RETRYING,
        attempts=attempts,
        next_attempt_at=now + backoff_delay(attempts),
        lease_until=None,
        lease_token="",
        last_error=error[:2000],
    )
    logger.warning("email %s to %s failed (attempt %s): %s", email.pk, email.to, attempts, error)


def outbound_send_due(*, now: datetime, limit: int = 500) -> int:
    """Send queued emails whose time has come; how many were sent. Safe with several workers
    at once and idempotent (a sent row is never due again)."""
    emails = _claim(now, limit)
    if not emails:
        return 0
    sent = 0
    token = emails[0].lease_token
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as exc:
        for email in emails:
            _finish(email, token, now, f"{type(exc).__name__}: {exc}")
        return 0
    try:
        files = _files_by_message(emails)
        for email in emails:
            try:
                message = _message(email, files.get(email.case_message_id or 0, []))
                connection.send_messages([message])
            except Exception as exc:
                _finish(email, token, now, f"{type(exc).__name__}: {exc}")
            else:
                _finish(email, token, now, None)
                sent += 1
    finally:
        try:
            connection.close()
        except Exception:  # the messages are sent; a failed QUIT changes nothing
            logger.debug("closing the mail connection failed", exc_info=True)
    return sent


def outbound_sweep(*, now: datetime) -> int:
    """The AMENDS_SWEEPS entry: everything due, in rounds of 500."""
    total = 0
    while True:
        sent = outbound_send_due(now=now, limit=500)
        total += sent
        if sent < 500:
            return total
