"""Files customers send, stored outside the web root and served only through permission
checks (staff who can see the case, or that case's portal)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from amends.cases.models import Case, Message
from amends.cases.services.events import case_event_record
from amends.channels.choices import ChannelsEventKind
from amends.channels.conf import setting_int, storage_dir
from amends.channels.models import Attachment, InboundEmail
from amends.core.exceptions import ApplicationError


def attachment_max_bytes() -> int:
    return setting_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


def attachment_max_per_message() -> int:
    return setting_int("ATTACHMENT_MAX_PER_MESSAGE", 5)


def attachment_root() -> Path:
    return storage_dir("ATTACHMENT_DIR", "attachments")


def attachment_file(attachment: Attachment) -> Path:
    root = attachment_root().resolve()
    path = (root / attachment.path).resolve()
    if root not in path.parents:  # a tampered row never reads outside the directory
        raise ApplicationError("Attachment not found.", code="not_found", status=404)
    return path


def _write(data: bytes, sha: str) -> str:
    now = timezone.now()
    relative = f"{now:%Y/%m}/{sha[:2]}/{sha}"
    path = attachment_root() / relative
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return relative


@transaction.atomic
def attachment_add(
    *,
    case: Case,
    filename: str,
    content_type: str,
    data: bytes,
    inbound_email: InboundEmail | None = None,
    message: Message | None = None,
    uploaded_by: User | None = None,
) -> Attachment:
    limit = attachment_max_bytes()
    if len(data) > limit:
        raise ApplicationError(
            f"The file is too large (at most {limit // (1024 * 1024)} MB).",
            code="attachment_too_large",
            status=413,
            detail={"attachment": [f"At most {limit} bytes."]},
        )
    if not data:
        raise ApplicationError(
            "The file is empty.",
            code="attachment_empty",
            status=422,
            detail={"attachment": ["Empty."]},
        )
    sha = hashlib.sha256(data).hexdigest()
    filename = filename.replace("\x00", "").replace("/", "_").replace("\\", "_").strip()[:200]
    return Attachment.objects.create(
        case=case,
        inbound_email=inbound_email,
        message=message,
        uploaded_by=uploaded_by,
        filename=filename or "attachment",
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(data),
        sha256=sha,
        path=_write(data, sha),
    )


@dataclass(frozen=True)
class FileIn:
    """One uploaded file, read: its name as sent, its declared type and its bytes."""

    filename: str
    content_type: str
    data: bytes


def _files_refuse(named_sizes: Sequence[tuple[str, int]]) -> None:
    """Refuse too many, too large or empty files by name and size (field `attachments`, as the
    forms and the API name it)."""
    most = attachment_max_per_message()
    if len(named_sizes) > most:
        raise ApplicationError(
            f"Too many files (at most {most} on one message).",
            code="too_many_attachments",
            status=422,
            detail={"attachments": [f"At most {most} files."]},
        )
    limit = attachment_max_bytes()
    for filename, size in named_sizes:
        if size > limit:
            raise ApplicationError(
                f"{filename or 'A file'} is too large (at most {limit // (1024 * 1024)} MB).",
                code="attachment_too_large",
                status=422,
                detail={"attachments": [f"{filename}: at most {limit} bytes."]},
            )
        if not size:
            raise ApplicationError(
                f"{filename or 'A file'} is empty.",
                code="attachment_empty",
                status=422,
                detail={"attachments": [f"{filename}: empty."]},
            )


def message_attachments_check(files: Sequence[FileIn]) -> None:
    """Refuse too many, too large or empty files before anything is written."""
    _files_refuse([(file.filename, len(file.data)) for file in files])


def uploaded_files_read(uploads: Iterable[UploadedFile[bytes]] | None) -> list[FileIn]:
    """Files uploaded with a message (web form or API), read into memory only once their
    count and received sizes pass the same checks: an oversized upload stays in Django's
    temporary file and is refused without being read."""
    received = list(uploads or [])
    named = [(upload.name or "attachment", upload) for upload in received]
    _files_refuse([(name, upload.size or 0) for name, upload in named])
    return [FileIn(name, upload.content_type or "", upload.read()) for name, upload in named]


@transaction.atomic
def message_attachments_add(
    *, message: Message, files: Sequence[FileIn], actor: User | None
) -> list[Attachment]:
    """Attach staff files to a message, in the caller's transaction (the one that created the
    message): a refused file rolls the message back with it. The timeline says how many."""
    message_attachments_check(files)
    if not files:
        return []
    attachments = [
        attachment_add(
            case=message.case,
            filename=file.filename,
            content_type=file.content_type,
            data=file.data,
            message=message,
            uploaded_by=actor,
        )
        for file in files
    ]
    case_event_record(
        case=message.case,
        kind=ChannelsEventKind.ATTACHMENTS_ADDED,
        actor=actor,
        data={
            "message_id": message.pk,
            "count": len(attachments),
            "direction": message.direction,
            "filenames": [a.filename for a in attachments],
        },
    )
    return attachments
