"""Files on staff messages: the reply form, the conversation, the portal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.models import Case, Message
from amends.cases.services.messages import case_message_add
from amends.cases.tests.factories import CaseFactory
from amends.channels.models import Attachment
from amends.channels.services.attachments import FileIn, message_attachments_add
from amends.channels.services.portal import portal_link_issue, portal_token
from amends.web.tests.conftest import htmx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storage(settings: Any, tmp_path: Path) -> None:
    settings.AMENDS = {**settings.AMENDS, "ATTACHMENT_DIR": str(tmp_path / "files")}


def _file(name: str, data: bytes, kind: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=kind)


def _send(client: Client, case: Case, files: list[SimpleUploadedFile], **data: Any) -> Any:
    fields = {"version": case.version, "direction": "outbound", "body": "Letter attached."}
    fields.update(data)
    return client.post(
        reverse("web:case-message-add", args=[case.ref]),
        {**fields, "attachments": files},
        **htmx(),
    )


def _message_with(case: Case, direction: str, files: list[FileIn], actor: Any) -> Message:
    with transaction.atomic():
        message = case_message_add(case=case, direction=direction, body="Here.", actor=actor)
        message_attachments_add(message=message, files=files, actor=actor)
    return message


def test_the_reply_form_uploads_files_and_the_thread_links_them(
    agent: Any, agent_client: Client, case: Case
) -> None:
    form = agent_client.get(reverse("web:case-detail", args=[case.ref])).content.decode()
    assert 'enctype="multipart/form-data"' in form
    assert 'hx-encoding="multipart/form-data"' in form
    assert 'name="attachments"' in form
    assert "multiple" in form

    response = _send(
        agent_client, case, [_file("letter.pdf", b"%PDF letter"), _file("b.png", b"\x89PNG")]
    )
    assert response.status_code == 200, response.content
    message = case.messages.get()
    files = list(message.attachments.order_by("id"))
    assert [f.filename for f in files] == ["letter.pdf", "b.png"]
    assert files[0].uploaded_by == agent
    body = response.content.decode()
    link = reverse("web:case-attachment", args=[case.ref, files[0].pk])
    assert f'href="{link}"' in body
    download = agent_client.get(link)
    assert b"".join(download.streaming_content) == b"%PDF letter"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ([_file("big.pdf", b"x" * 2048)], "big.pdf is too large"),
        ([_file("empty.pdf", b"")], "The submitted file is empty"),
        ([_file(f"f{n}.pdf", b"data") for n in range(3)], "At most 2 files on one message"),
    ],
)
def test_the_reply_form_names_what_is_wrong_with_the_files_and_saves_nothing(
    agent_client: Client, case: Case, settings: Any, files: list[SimpleUploadedFile], words: str
) -> None:
    settings.AMENDS = {
        **settings.AMENDS,
        "ATTACHMENT_MAX_BYTES": 1024,
        "ATTACHMENT_MAX_PER_MESSAGE": 2,
    }
    response = _send(agent_client, case, files)
    assert response.status_code == 422
    text = response.content.decode()
    assert "Files:" in text
    assert words in text
    assert not case.messages.exists()
    assert not Attachment.objects.exists()


def test_staff_who_cannot_see_the_case_get_404_and_nothing_is_saved(case: Case) -> None:
    outsider = UserFactory(role=Role.AGENT, team=TeamFactory(name="Network"))
    client = Client()
    client.force_login(outsider)
    response = _send(client, case, [_file("x.pdf", b"data")])
    assert response.status_code == 404
    assert not case.messages.exists()
    assert not Attachment.objects.exists()


def test_the_conversation_lists_files_in_one_query_however_many_messages(
    agent: Any, agent_client: Client, case: Case
) -> None:
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert agent_client.get(reverse("web:case-detail", args=[case.ref])).status_code == 200
        return len(ctx.captured_queries)

    _message_with(case, MessageDirection.OUTBOUND, [FileIn("a.pdf", "", b"a")], agent)
    page_queries()  # the first view records the visit
    one = page_queries()
    for n in range(4):
        files = [FileIn(f"n{n}.pdf", "", b"n"), FileIn(f"m{n}.pdf", "", b"m")]
        _message_with(case, MessageDirection.INTERNAL, files, agent)
    assert page_queries() == one


# ---- the portal ---------------------------------------------------------------------------------


def test_the_portal_shows_a_replys_file_and_never_an_internal_notes(agent: Any) -> None:
    case = CaseFactory()
    reply = _message_with(
        case, MessageDirection.OUTBOUND, [FileIn("refund.pdf", "application/pdf", b"R")], agent
    )
    note = _message_with(
        case, MessageDirection.INTERNAL, [FileIn("secret.pdf", "application/pdf", b"S")], agent
    )
    token = portal_token(portal_link_issue(case=case, actor=None))
    client = Client()
    html = client.get(reverse("web:portal", args=[token])).content.decode()
    shared = reply.attachments.get()
    hidden = note.attachments.get()
    assert "refund.pdf" in html
    assert reverse("web:portal-attachment", args=[token, shared.pk]) in html
    assert "secret.pdf" not in html
    ok = client.get(reverse("web:portal-attachment", args=[token, shared.pk]))
    assert b"".join(ok.streaming_content) == b"R"  # type: ignore[attr-defined]
    assert client.get(reverse("web:portal-attachment", args=[token, hidden.pk])).status_code == 404


def test_another_cases_portal_link_cannot_fetch_the_file(agent: Any) -> None:
    case = CaseFactory()
    reply = _message_with(case, MessageDirection.OUTBOUND, [FileIn("refund.pdf", "", b"R")], agent)
    other = portal_token(portal_link_issue(case=CaseFactory(), actor=None))
    url = reverse("web:portal-attachment", args=[other, reply.attachments.get().pk])
    assert Client().get(url).status_code == 404
