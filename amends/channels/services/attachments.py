"""Files customers send, stored outside the web root and served only through permission
checks (staff who can see the case, or that case's portal)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from amends.cases.models import Case
from amends.channels.conf import setting_int, storage_dir
from amends.channels.models import Attachment, InboundEmail
from amends.core.exceptions import ApplicationError


def attachment_max_bytes() -> int:
    return setting_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)


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
        filename=filename or "attachment",
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(data),
        sha256=sha,
        path=_write(data, sha),
    )
