"""Inbound email: one raw message in, a case out (or a reason it was left alone).

A new message opens a case for its sender; a reply threads onto its case by In-Reply-To /
References (ours or theirs), then by the case reference in the subject when the sender is the
case's customer. Only the new text becomes the case message; the original is kept. Mail a
machine sent (auto-replies, bounces, our own mail coming back) never opens a case and is never
answered; a bounce flags the address. Mail we cannot read goes to quarantine, never lost.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from amends.cases.choices import CaseStatus, Channel, MessageDirection
from amends.cases.models import Case, Message, case_ref
from amends.cases.services.intake import case_create
from amends.cases.services.messages import MAX_BODY, case_message_add
from amends.cases.services.workflow import case_reopen
from amends.channels.choices import InboundOutcome, OutboundKind
from amends.channels.conf import from_address, setting_int, storage_dir
from amends.channels.mime import (
    MailUnparseableError,
    ParsedMail,
    is_bare_thanks,
    new_text_of,
    parse,
)
from amends.channels.models import AddressFlag, InboundEmail, OutboundEmail
from amends.channels.services.attachments import attachment_add, attachment_max_bytes
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_link_issue, portal_url
from amends.core import hooks
from amends.core.rows import db_datetime, instance_insert
from amends.customers.models import Customer
from amends.customers.selectors import customer_newest_with_email, customers_with_email
from amends.customers.services import customer_create

logger = logging.getLogger(__name__)

SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
REF_TAG = re.compile(r"\[?\bAM-\d{6,12}\b\]?\s*", re.I)


class MailQuarantinedError(Exception):
    """The message could not be taken; it is kept in the quarantine folder."""

    def __init__(self, reason: str, path: Path) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


@dataclass(frozen=True)
class IngestResult:
    outcome: str
    reason: str = ""
    case_id: int | None = None
    inbound_id: int | None = None
    duplicate: bool = False

    @property
    def line(self) -> str:
        """What `amends mail ingest` prints last: the case reference or why it was ignored."""
        if self.case_id is not None:
            return case_ref(self.case_id)
        return f"ignored: {self.reason}"


def mail_max_bytes() -> int:
    return setting_int("MAIL_MAX_BYTES", 25 * 1024 * 1024)


def _store(raw: bytes, folder: str, sha: str) -> Path:
    now = timezone.now()
    path = storage_dir("MAIL_DIR", "mail") / folder / f"{now:%Y/%m}" / f"{sha}.eml"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return path


def quarantine(raw: bytes, reason: str) -> MailQuarantinedError:
    sha = hashlib.sha256(raw).hexdigest()
    path = _store(raw, "quarantine", f"{timezone.now():%Y%m%dT%H%M%S}-{sha[:16]}")
    path.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
    logger.warning("mail quarantined (%s): %s", reason, path)
    return MailQuarantinedError(reason, path)


def _title(subject: str, text: str) -> str:
    title = REF_TAG.sub("", SUBJECT_PREFIX.sub("", subject)).strip()
    if not title:
        title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return (title or "Email without a subject")[:200]


def _thread_case(mail: ParsedMail) -> Case | None:
    ids = mail.thread_ids
    if ids:
        case_id = (
            OutboundEmail.objects.filter(message_id__in=ids, case__isnull=False)
            .order_by("-created_at")
            .values_list("case_id", flat=True)
            .first()
        ) or (
            InboundEmail.objects.filter(message_id__in=ids, case__isnull=False)
            .order_by("-created_at")
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is not None:
            return Case.objects.select_related("customer").get(pk=case_id)
    pk = mail.subject_ref_pk
    if pk is not None:
        # The reference alone is guessable: trust it only from the case's own customer.
        case = Case.objects.select_related("customer").filter(pk=pk).first()
        if case is not None and case.customer.email.lower() == mail.from_address:
            return case
    return None


def _customer_for(mail: ParsedMail) -> Customer:
    customer = customer_newest_with_email(address=mail.from_address)
    if customer is not None:
        return customer
    name = mail.from_name or mail.from_address.partition("@")[0]
    return customer_create(name=name[:200], email=mail.from_address)


def _bounce(mail: ParsedMail, now: datetime) -> None:
    recipients = sorted(set(mail.bounce_recipients))
    if mail.bounce_message_ids:
        bounced = OutboundEmail.objects.filter(message_id__in=mail.bounce_message_ids)
        recipients = sorted(
            set(recipients) | {e.lower() for e in bounced.values_list("to", flat=True)}
        )
        bounced.update(bounced_at=now, last_error=f"Bounced: {mail.subject[:200]}")
    for address in recipients[:20]:
        if "@" not in address:
            continue
        customers = list(customers_with_email(address=address).values_list("pk", flat=True))
        flag, created = AddressFlag.objects.get_or_create(
            address=address[:254],
            defaults={
                "customer_id": customers[0] if customers else None,
                "last_bounce_at": now,
                "reason": mail.subject[:300],
            },
        )
        if not created:
            AddressFlag.objects.filter(pk=flag.pk).update(
                bounces=F("bounces") + 1, last_bounce_at=now, reason=mail.subject[:300]
            )
        for customer_id in customers:
            hooks.email_bounced.emit(hooks.EmailBounced(customer_id=customer_id, address=address))


def _confirm(case: Case, mail: ParsedMail) -> None:
    """Confirm a case this message has just opened: it has no portal link and no thread yet."""
    url = portal_url(portal_link_issue(case=case, actor=None))
    email_queue(
        to=mail.from_address,
        subject=f"Re: {mail.subject or case.title}",
        body=(
            f"Dear {case.customer.name},\n\n"
            f"We have your message and opened case {case.ref}. We will reply soon.\n\n"
            f"You can follow your case, reply and see what we promise here:\n{url}\n\n"
            "Please keep the reference in the subject if you write again.\n"
        ),
        automatic=True,
        kind=OutboundKind.CONFIRMATION,
        case_id=case.pk,
        dedupe_key=f"confirm:{case.pk}",
        in_reply_to=mail.message_id,
        customer_id=case.customer_id,
        thread=(),
    )


@dataclass(frozen=True)
class _Seen:
    """What one read of the received mail says before a message is taken."""

    duplicate: IngestResult | None  # the same Message-ID was taken before
    recent_from_sender: int  # messages from this sender in the last hour (the loop guard)


_SEEN_SQL: str | None = None


def _seen_sql() -> str:
    """The `_seen` statement, its names from the model's metadata. Written out rather than
    built by the ORM: compiling the aggregate with its filters cost more than a millisecond of
    CPU on every received mail, several times what the database spends on it."""
    global _SEEN_SQL
    if _SEEN_SQL is None:
        meta = InboundEmail._meta
        quote = connection.ops.quote_name
        columns = {field.name: str(field.column) for field in meta.concrete_fields}

        def column(name: str) -> str:
            return quote(columns[name])

        same = f"{column('message_id')} = %s"
        recent = f"({column('from_address')} = %s AND {column('created_at')} >= %s)"
        # Names from the model's metadata, values as parameters.
        _SEEN_SQL = (
            f"SELECT MAX(CASE WHEN {same} THEN {column('id')} END), "  # noqa: S608
            f"MAX(CASE WHEN {same} THEN {column('outcome')} END), "
            f"MAX(CASE WHEN {same} THEN {column('case')} END), "
            f"COUNT(CASE WHEN {recent} THEN 1 END) "
            f"FROM {quote(meta.db_table)} WHERE {same} OR {recent}"
        )
    return _SEEN_SQL


def _seen(mail: ParsedMail, now: datetime) -> _Seen:
    """One statement for the duplicate check and the loop guard's count. Message-IDs are
    unique, so at most one row matches the first condition and each MAX() is that row's value."""
    since = db_datetime(now - timedelta(hours=1))
    same = [mail.message_id]
    recent = [mail.from_address, since]
    with connection.cursor() as cursor:
        cursor.execute(_seen_sql(), [*same, *same, *same, *recent, *same, *recent])
        same_id, same_outcome, same_case, count = cursor.fetchone()
    duplicate = None
    if same_id is not None:
        duplicate = IngestResult(
            outcome=same_outcome,
            reason="duplicate",
            case_id=same_case,
            inbound_id=same_id,
            duplicate=True,
        )
    return _Seen(duplicate=duplicate, recent_from_sender=count or 0)


def _message_body(text: str, attachments: int) -> str:
    body = text.strip()
    if not body:
        body = (
            f"({attachments} attachment{'s' if attachments != 1 else ''})"
            if attachments
            else "(no text)"
        )
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 40] + "\n\n[… cut; see the original email]"
    return body


def mail_ingest(*, raw: bytes) -> IngestResult:
    """Take one raw RFC 5322 message. Raises MailQuarantinedError if it cannot be taken."""
    if len(raw) > mail_max_bytes():
        raise quarantine(raw, f"too large: {len(raw)} bytes, limit {mail_max_bytes()}")
    try:
        mail, notes = parse(raw, own_address=from_address(), max_attachment=attachment_max_bytes())
    except MailUnparseableError as exc:
        raise quarantine(raw, str(exc)) from exc
    sha = hashlib.sha256(raw).hexdigest()
    if not mail.message_id:
        mail.message_id = f"<sha256.{sha[:48]}@amends.invalid>"
    seen = _seen(mail, timezone.now())
    if seen.duplicate is not None:
        return seen.duplicate
    raw_path = _store(raw, "raw", sha)
    try:
        return _ingest(mail, notes, raw, raw_path, seen.recent_from_sender)
    except IntegrityError:
        # Another process took the same Message-ID a moment ago.
        existing = InboundEmail.objects.filter(message_id=mail.message_id).first()
        if existing is None:
            raise
        return IngestResult(
            outcome=existing.outcome,
            reason="duplicate",
            case_id=existing.case_id,
            inbound_id=existing.pk,
            duplicate=True,
        )


@transaction.atomic
def _ingest(
    mail: ParsedMail, notes: list[str], raw: bytes, raw_path: Path, recent_from_sender: int
) -> IngestResult:
    now = timezone.now()
    new_text = new_text_of(mail.text, sender_name=mail.from_name)
    inbound = InboundEmail(
        message_id=mail.message_id[:250],
        from_address=mail.from_address,
        from_name=mail.from_name,
        to_address=mail.to_address,
        subject=mail.subject,
        in_reply_to=mail.in_reply_to[:250],
        references=" ".join(mail.references),
        sent_at=mail.sent_at,
        text=mail.text,
        new_text=new_text,
        html=mail.html,
        raw_path=str(raw_path.relative_to(storage_dir("MAIL_DIR", "mail"))),
        size=len(raw),
        notes="\n".join(notes),
    )
    if mail.automatic:
        if mail.automatic == "bounce":
            _bounce(mail, now)
            inbound.outcome = InboundOutcome.BOUNCE
        else:
            inbound.outcome = InboundOutcome.IGNORED
        inbound.reason = mail.automatic
        instance_insert(inbound)
        return IngestResult(outcome=inbound.outcome, reason=mail.automatic, inbound_id=inbound.pk)
    if recent_from_sender >= setting_int("MAIL_MAX_PER_SENDER_HOUR", 30):
        inbound.outcome = InboundOutcome.IGNORED
        inbound.reason = "too many messages from this sender (loop guard)"
        instance_insert(inbound)
        return IngestResult(outcome=inbound.outcome, reason=inbound.reason, inbound_id=inbound.pk)
    case = _thread_case(mail)
    body = _message_body(new_text, len(mail.attachments))
    message: Message | None = None
    confirm = False
    thanks = is_bare_thanks(new_text)
    if case is None:
        customer = _customer_for(mail)
        case = case_create(
            customer=customer,
            title=_title(mail.subject, new_text),
            description=body,
            channel=Channel.EMAIL,
            actor=None,
        )
        inbound.outcome = InboundOutcome.OPENED
        confirm = True
    elif case.status == CaseStatus.CLOSED and not thanks:
        previous = case
        case = case_create(
            customer=previous.customer,
            title=_title(mail.subject, new_text),
            description=body,
            channel=Channel.EMAIL,
            category=previous.category,
            service=previous.service,
            actor=None,
        )
        inbound.previous_case = previous
        inbound.outcome = InboundOutcome.FOLLOW_UP
        inbound.reason = f"follow-up of closed case {previous.ref}"
        confirm = True
    else:
        if case.status == CaseStatus.RESOLVED and not thanks:
            case = case_reopen(
                case=case,
                version=None,
                actor=None,  # type: ignore[arg-type]  # the customer reopens it by email
                reason="The customer replied by email.",
            )
        message = case_message_add(
            case=case, direction=MessageDirection.INBOUND, body=body, actor=None
        )
        if thanks and case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            inbound.outcome = InboundOutcome.THANKS
        else:
            inbound.outcome = InboundOutcome.THREADED
    inbound.case = case
    inbound.customer_id = case.customer_id
    inbound.case_message = message
    instance_insert(inbound)  # as inbound.save(), without the ORM compiling the INSERT
    if confirm:  # after the received mail, so the thread reads in order
        _confirm(case, mail)
    for part in mail.attachments[: setting_int("MAIL_MAX_ATTACHMENTS", 20)]:
        attachment_add(
            case=case,
            filename=part.filename,
            content_type=part.content_type,
            data=part.data,
            inbound_email=inbound,
        )
    return IngestResult(
        outcome=inbound.outcome, reason=inbound.reason, case_id=case.pk, inbound_id=inbound.pk
    )


def raw_email_path(email: InboundEmail) -> Path:
    """The stored original of a received email (never outside the mail directory)."""
    root = storage_dir("MAIL_DIR", "mail").resolve()
    path = (root / email.raw_path).resolve()
    if not email.raw_path or root not in path.parents or not path.exists():
        raise InboundEmail.DoesNotExist("The original is not stored.")
    return path
