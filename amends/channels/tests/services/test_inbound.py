from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseStatus, Channel, MessageDirection
from amends.cases.models import Case
from amends.cases.tests.factories import case_in_status
from amends.channels.choices import InboundOutcome
from amends.channels.models import AddressFlag, Attachment, InboundEmail, OutboundEmail
from amends.channels.services.inbound import IngestResult, MailQuarantinedError, mail_ingest
from amends.channels.services.outbound import outbound_send_due
from amends.channels.tests.conftest import eml
from amends.core import hooks
from amends.core.testing import hook_recorded
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _case_of(result: IngestResult) -> Case:
    assert result.case_id is not None, result.line
    return Case.objects.get(pk=result.case_id)


def _inbound_of(result: IngestResult) -> InboundEmail:
    assert result.inbound_id is not None, result.line
    return InboundEmail.objects.get(pk=result.inbound_id)


def _open_case() -> tuple[Case, str]:
    """Ann's case opened by email, and the Message-ID of our confirmation."""
    result = mail_ingest(raw=eml("multipart_alternative.eml"))
    case = _case_of(result)
    confirmation = OutboundEmail.objects.get(case=case)
    return case, confirmation.message_id


def test_mail_ingest_new_message_opens_an_email_case_for_a_new_customer() -> None:
    result = mail_ingest(raw=eml("multipart_alternative.eml"))
    case = _case_of(result)
    assert result.outcome == InboundOutcome.OPENED
    assert result.line == case.ref
    assert case.channel == Channel.EMAIL
    assert case.title == "Broadband down for three days"
    assert case.description.startswith("My broadband has been down since Friday. The engineer")
    assert "Saturday" in case.description  # quoted-printable soft break joined
    assert case.customer.email == "ann@example.com"
    assert case.customer.name == "Ann Example"


def test_mail_ingest_confirms_with_the_reference_and_portal_link() -> None:
    case, _ = _open_case()
    confirmation = OutboundEmail.objects.get(case=case)
    assert confirmation.automatic
    assert confirmation.in_reply_to == "<alt-1@mail.example.com>"
    assert case.ref in confirmation.subject
    assert "/c/" in confirmation.body


def test_mail_ingest_finds_the_customer_by_address() -> None:
    customer = CustomerFactory(email="ann@example.com")
    result = mail_ingest(raw=eml("multipart_alternative.eml"))
    assert _case_of(result).customer == customer
    assert Customer.objects.count() == 1


def test_mail_ingest_same_message_id_twice_is_stored_once() -> None:
    first = mail_ingest(raw=eml("multipart_alternative.eml"))
    second = mail_ingest(raw=eml("multipart_alternative.eml"))
    assert second.duplicate
    assert second.case_id == first.case_id
    assert Case.objects.count() == 1
    assert InboundEmail.objects.count() == 1


def test_mail_ingest_html_only_is_sanitised_and_converted_to_text() -> None:
    result = mail_ingest(raw=eml("html_only.eml"))
    case = _case_of(result)
    assert (
        case.description
        == "You charged me twice for November & I want my money back.\nSecond line."
    )
    inbound = _inbound_of(result)
    assert "<script" not in inbound.html
    assert "onerror" not in inbound.html
    assert "alert" not in case.description


def test_mail_ingest_reads_iso_8859_1_and_rfc2047() -> None:
    latin = _case_of(mail_ingest(raw=eml("iso_8859_1.eml")))
    assert latin.title == "Straßenbahn verspätet"
    assert "40 Minuten verspätet. Ich möchte eine Erstattung." in latin.description
    assert latin.customer.name == "Jürgen Müller"
    french = _case_of(mail_ingest(raw=eml("rfc2047.eml")))
    assert french.title == "Commande non livrée — ☹"
    assert french.customer.name == "Éloïse Lévy"
    assert french.description == "Ma commande n'est jamais arrivée."


def test_mail_ingest_outlook_reply_threads_with_only_the_new_text() -> None:
    case, confirmation_id = _open_case()
    result = mail_ingest(raw=eml("outlook_reply.eml", REF=case.ref, IN_REPLY_TO=confirmation_id))
    assert result.case_id == case.pk
    assert result.outcome == InboundOutcome.THREADED
    message = case.messages.get()
    assert message.direction == MessageDirection.INBOUND
    assert message.body == "The engineer still has not come. Please call me on 07700 900123."
    inbound = _inbound_of(result)
    assert "An engineer will visit tomorrow" in inbound.text  # the original is kept


def test_mail_ingest_forwarded_mail_threads_by_the_reference_in_the_subject() -> None:
    case, _ = _open_case()
    result = mail_ingest(raw=eml("forwarded_no_headers.eml", REF=case.ref))
    assert result.case_id == case.pk
    assert case.messages.get().body.startswith("Forwarding this again because nobody answered.")


def test_mail_ingest_reference_from_a_stranger_does_not_thread() -> None:
    case, _ = _open_case()
    raw = eml("forwarded_no_headers.eml", REF=case.ref).replace(
        b"ann@example.com", b"mallory@example.com"
    )
    result = mail_ingest(raw=raw)
    assert result.case_id != case.pk
    assert not case.messages.exists()


@pytest.mark.parametrize(
    ("name", "reason"),
    [("auto_reply.eml", "auto-reply"), ("x_autoreply.eml", "auto-reply")],
)
def test_mail_ingest_automatic_mail_is_ignored_and_never_answered(name: str, reason: str) -> None:
    case, confirmation_id = _open_case()
    queued = OutboundEmail.objects.count()
    result = mail_ingest(raw=eml(name, REF=case.ref, IN_REPLY_TO=confirmation_id))
    assert result.line == f"ignored: {reason}"
    assert result.case_id is None
    assert Case.objects.count() == 1
    assert not case.messages.exists()
    assert OutboundEmail.objects.count() == queued


def test_mail_ingest_our_own_mail_coming_back_is_ignored() -> None:
    _open_case()
    outbound_send_due(now=timezone.now(), limit=10)
    ours = django_mail.outbox[0].message().as_bytes()
    result = mail_ingest(raw=ours)
    assert result.line == "ignored: own message"
    assert Case.objects.count() == 1


def test_mail_ingest_bounce_flags_the_address_and_emits_the_hook() -> None:
    case, confirmation_id = _open_case()
    with hook_recorded(hooks.email_bounced) as seen:
        result = mail_ingest(
            raw=eml(
                "bounce_dsn.eml",
                BOUNCED="ann@example.com",
                REF=case.ref,
                IN_REPLY_TO=confirmation_id,
            )
        )
    assert result.line == "ignored: bounce"
    flag = AddressFlag.objects.get(address="ann@example.com")
    assert flag.customer_id == case.customer_id
    assert seen == [hooks.EmailBounced(customer_id=case.customer_id, address="ann@example.com")]
    assert OutboundEmail.objects.get(message_id=confirmation_id).bounced_at is not None
    assert Case.objects.count() == 1
    assert OutboundEmail.objects.count() == 1  # a bounce is never answered


def test_mail_ingest_precedence_list_alone_is_not_automatic() -> None:
    result = mail_ingest(raw=eml("precedence_list.eml"))
    assert result.outcome == InboundOutcome.OPENED


def test_mail_ingest_stores_attachments_outside_the_web_root(tmp_path: Path) -> None:
    result = mail_ingest(raw=eml("attachment.eml"))
    assert result.case_id is not None
    attachment = Attachment.objects.get(case_id=result.case_id)
    assert attachment.filename == "screen.png"
    assert attachment.content_type == "image/png"
    stored = tmp_path / "attachments" / attachment.path
    assert stored.read_bytes().startswith(b"\x89PNG")


def test_mail_ingest_attachment_over_the_limit_is_left_out_with_a_note(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "ATTACHMENT_MAX_BYTES": 10}
    result = mail_ingest(raw=eml("attachment.eml"))
    assert result.case_id is not None
    assert not Attachment.objects.exists()
    assert "over the 10-byte limit" in _inbound_of(result).notes


def test_mail_ingest_malformed_mime_still_lands() -> None:
    result = mail_ingest(raw=eml("malformed.eml"))
    assert result.case_id is not None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"", "empty message"), (b"\r\n\r\n", "empty message"), (None, "no sender address")],
)
def test_mail_ingest_unreadable_mail_is_quarantined(raw: bytes | None, reason: str) -> None:
    raw = eml("no_sender.eml") if raw is None else raw
    with pytest.raises(MailQuarantinedError) as exc:
        mail_ingest(raw=raw)
    assert exc.value.reason == reason
    assert exc.value.path.read_bytes() == raw
    assert not Case.objects.exists()


def test_mail_ingest_too_large_mail_is_quarantined(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "MAIL_MAX_BYTES": 1000}
    with pytest.raises(MailQuarantinedError) as exc:
        mail_ingest(raw=eml("multipart_alternative.eml") + b"x" * 2000)
    assert exc.value.reason.startswith("too large")
    assert not Case.objects.exists()


def test_mail_ingest_reply_to_a_closed_case_opens_a_linked_case() -> None:
    case, confirmation_id = _open_case()
    staff = UserFactory()
    closed = case_in_status(CaseStatus.CLOSED, actor=staff, customer=case.customer)
    confirmation = OutboundEmail.objects.filter(case=case).first()
    assert confirmation is not None
    OutboundEmail.objects.filter(pk=confirmation.pk).update(case=closed)
    result = mail_ingest(raw=eml("outlook_reply.eml", REF=closed.ref, IN_REPLY_TO=confirmation_id))
    assert result.outcome == InboundOutcome.FOLLOW_UP
    assert result.case_id not in (closed.pk, case.pk)
    assert _inbound_of(result).previous_case == closed
    closed.refresh_from_db()
    assert closed.status == CaseStatus.CLOSED


def test_mail_ingest_bare_thanks_does_not_reopen_a_resolved_case() -> None:
    staff = UserFactory()
    customer = CustomerFactory(email="ann@example.com")
    resolved = case_in_status(CaseStatus.RESOLVED, actor=staff, customer=customer)
    result = mail_ingest(raw=eml("thanks.eml", REF=resolved.ref, IN_REPLY_TO="<none@x>"))
    assert result.outcome == InboundOutcome.THANKS
    resolved.refresh_from_db()
    assert resolved.status == CaseStatus.RESOLVED
    assert resolved.messages.get().body == "Thanks!"


def test_mail_ingest_real_reply_reopens_a_resolved_case() -> None:
    staff = UserFactory()
    customer = CustomerFactory(email="ann@example.com")
    resolved = case_in_status(CaseStatus.RESOLVED, actor=staff, customer=customer)
    mail_ingest(raw=eml("outlook_reply.eml", REF=resolved.ref, IN_REPLY_TO="<none@x>"))
    resolved.refresh_from_db()
    assert resolved.status == CaseStatus.IN_RECOVERY


def test_mail_ingest_loop_guard_stops_a_flood_from_one_sender(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "MAIL_MAX_PER_SENDER_HOUR": 3}
    lines = [
        mail_ingest(
            raw=eml("precedence_list.eml").replace(b"<list-1@", f"<list-{n}@".encode())
        ).line
        for n in range(5)
    ]
    assert lines[-1].startswith("ignored: too many messages")
    assert Case.objects.count() == 3
