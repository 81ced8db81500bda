"""Staff files on messages: limits, one transaction with the message, the timeline, email."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.event_kinds import events_render
from amends.cases.models import Case, CaseEvent, Message
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory
from amends.channels.choices import ChannelsEventKind
from amends.channels.models import Attachment, OutboundEmail
from amends.channels.services.attachments import (
    FileIn,
    attachment_file,
    message_attachments_add,
    uploaded_files_read,
)
from amends.channels.services.outbound import outbound_send_due
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

PDF = FileIn("refund.pdf", "application/pdf", b"%PDF-1.4 the refund letter")
PNG = FileIn("router.png", "image/png", b"\x89PNG\r\n\x1a\n pixels")


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


def _reply_with(
    case: Case, agent: Any, files: list[FileIn], direction: str = "outbound"
) -> Message:
    with transaction.atomic():
        message = case_message_add(
            case=case, direction=direction, body="See attached.", actor=agent
        )
        message_attachments_add(message=message, files=files, actor=agent)
    return message


def test_files_are_stored_on_the_message_with_who_uploaded_them(agent: Any) -> None:
    case = CaseFactory()
    message = _reply_with(case, agent, [PDF, PNG])
    files = list(message.attachments.order_by("id"))
    assert [(f.filename, f.size, f.content_type) for f in files] == [
        ("refund.pdf", len(PDF.data), "application/pdf"),
        ("router.png", len(PNG.data), "image/png"),
    ]
    assert all(f.case_id == case.pk and f.uploaded_by == agent for f in files)
    assert attachment_file(files[0]).read_bytes() == PDF.data


def test_the_timeline_says_how_many_files(agent: Any) -> None:
    case = CaseFactory()
    _reply_with(case, agent, [PDF, PNG])
    event = case.events.get(kind=ChannelsEventKind.ATTACHMENTS_ADDED)
    (sentence,) = events_render([event])
    assert "2 attachments to a message" in sentence.text


def test_no_files_writes_no_event(agent: Any) -> None:
    case = CaseFactory()
    _reply_with(case, agent, [])
    assert not case.events.filter(kind=ChannelsEventKind.ATTACHMENTS_ADDED).exists()


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([PDF, FileIn("empty.txt", "text/plain", b"")], "attachment_empty"),
        ([PDF, FileIn("big.bin", "application/octet-stream", b"x" * 65)], "attachment_too_large"),
        ([PDF, PNG, PDF], "too_many_attachments"),
    ],
)
def test_a_refused_file_rolls_back_the_message_and_every_file(
    agent: Any, settings: Any, files: list[FileIn], code: str
) -> None:
    settings.AMENDS = {
        **settings.AMENDS,
        "ATTACHMENT_MAX_BYTES": 64,
        "ATTACHMENT_MAX_PER_MESSAGE": 2,
    }
    case = CaseFactory()
    events_before = CaseEvent.objects.count()
    with pytest.raises(ApplicationError) as exc:
        _reply_with(case, agent, files)
    assert exc.value.code == code
    assert exc.value.status == 422
    assert "attachments" in exc.value.detail
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert CaseEvent.objects.count() == events_before


def test_an_emailed_reply_carries_its_files(agent: Any) -> None:
    case = CaseFactory()
    message = _reply_with(case, agent, [PDF, PNG])
    assert OutboundEmail.objects.get().case_message_id == message.pk
    assert outbound_send_due(now=timezone.now(), limit=10) == 1
    (sent,) = mail.outbox
    assert sent.attachments == [
        ("refund.pdf", PDF.data, "application/pdf"),
        ("router.png", PNG.data, "image/png"),
    ]
    raw = sent.message().as_bytes()
    assert b'filename="refund.pdf"' in raw


def test_an_internal_notes_files_are_never_emailed(agent: Any) -> None:
    case = CaseFactory()
    _reply_with(case, agent, [PDF], direction=MessageDirection.INTERNAL)
    reply = _reply_with(case, agent, [])
    assert OutboundEmail.objects.get().case_message_id == reply.pk
    assert outbound_send_due(now=timezone.now(), limit=10) == 1
    assert mail.outbox[0].attachments == []


class _Unreadable(SimpleUploadedFile):
    """An upload whose bytes must not be read (it is refused by its size)."""

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("read before its size was checked")


@pytest.mark.parametrize(
    ("uploads", "code"),
    [
        (
            [SimpleUploadedFile("a.pdf", b"ok"), _Unreadable("big.bin", b"x" * 65)],
            "attachment_too_large",
        ),
        ([_Unreadable("a.pdf", b"ok")] * 3, "too_many_attachments"),
        ([_Unreadable("empty.txt", b"")], "attachment_empty"),
    ],
)
def test_uploads_are_refused_by_count_and_size_before_any_is_read(
    settings: Any, uploads: list[SimpleUploadedFile], code: str
) -> None:
    settings.AMENDS = {
        **settings.AMENDS,
        "ATTACHMENT_MAX_BYTES": 64,
        "ATTACHMENT_MAX_PER_MESSAGE": 2,
    }
    with pytest.raises(ApplicationError) as exc:
        uploaded_files_read(uploads)
    assert exc.value.code == code
    assert exc.value.status == 422


def test_uploads_within_the_limits_are_read_with_their_names_and_types() -> None:
    files = uploaded_files_read(
        [
            SimpleUploadedFile("refund.pdf", b"%PDF-1.4", "application/pdf"),
            SimpleUploadedFile("note.txt", b"x"),
        ]
    )
    assert files == [
        FileIn("refund.pdf", "application/pdf", b"%PDF-1.4"),
        FileIn("note.txt", "text/plain", b"x"),
    ]
    assert uploaded_files_read(None) == []
