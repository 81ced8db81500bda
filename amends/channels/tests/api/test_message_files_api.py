"""POST /api/v1/cases/{ref}/messages/with-files: a message and its files in one request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case, Message
from amends.cases.tests.factories import CaseFactory
from amends.channels.models import Attachment

pytestmark = pytest.mark.django_db


@pytest.fixture
def case() -> Case:
    return CaseFactory(team=TeamFactory(name="Billing"))


@pytest.fixture
def api(api_client_for: Any, case: Case) -> Any:
    return api_client_for(UserFactory(role=Role.AGENT, team=case.team))


def _url(case: Case) -> str:
    return f"/api/v1/cases/{case.ref}/messages/with-files"


def _post(api: Any, case: Case, files: list[SimpleUploadedFile], **headers: str) -> Any:
    data = {"direction": "outbound", "body": "The letter is attached.", "attachments": files}
    return api.client.post(_url(case), data, headers=headers)


def _pdf(name: str = "letter.pdf", data: bytes = b"%PDF letter") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_multipart_creates_the_message_and_lists_its_files(api: Any, case: Case) -> None:
    r = _post(api, case, [_pdf(), _pdf("b.pdf", b"second")])
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["direction"] == "outbound"
    assert [(f["filename"], f["size"]) for f in out["attachments"]] == [
        ("letter.pdf", 11),
        ("b.pdf", 6),
    ]
    message = Message.objects.get(pk=out["id"])
    assert sorted(a.pk for a in message.attachments.all()) == [f["id"] for f in out["attachments"]]
    download = api.get(out["attachments"][0]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF letter"
    listed = api.get(f"/api/v1/cases/{case.ref}/messages").json()
    assert listed[-1]["attachments"] == out["attachments"]


def test_a_message_without_files_has_an_empty_list(api: Any, case: Case) -> None:
    r = api.post(f"/api/v1/cases/{case.ref}/messages", {"direction": "internal", "body": "n"})
    assert r.status_code == 201, r.content
    assert r.json()["attachments"] == []


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([SimpleUploadedFile("empty.pdf", b"")], "attachment_empty"),
        ([_pdf("big.pdf", b"x" * 100)], "attachment_too_large"),
        ([_pdf(), _pdf(), _pdf()], "too_many_attachments"),
    ],
)
def test_a_bad_file_is_422_and_leaves_no_message(
    api: Any, case: Case, settings: Any, files: list[SimpleUploadedFile], code: str
) -> None:
    settings.AMENDS = {
        **settings.AMENDS,
        "ATTACHMENT_MAX_BYTES": 64,
        "ATTACHMENT_MAX_PER_MESSAGE": 2,
    }
    r = _post(api, case, files)
    assert r.status_code == 422, r.content
    assert r.json()["code"] == code
    assert "attachments" in r.json()["detail"]
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()


def test_a_bad_field_is_422(api: Any, case: Case) -> None:
    r = api.client.post(_url(case), {"direction": "sideways", "body": "x", "attachments": [_pdf()]})
    assert r.status_code == 422
    assert not Message.objects.exists()


def test_staff_who_cannot_see_the_case_get_404(api_client_for: Any, case: Case) -> None:
    outsider = api_client_for(UserFactory(role=Role.AGENT, team=TeamFactory(name="Network")))
    assert _post(outsider, case, [_pdf()]).status_code == 404
    assert not Attachment.objects.exists()


def test_a_retried_request_with_the_same_key_creates_nothing_twice(api: Any, case: Case) -> None:
    first = _post(api, case, [_pdf()], **{"Idempotency-Key": "upload-1"})
    again = _post(api, case, [_pdf()], **{"Idempotency-Key": "upload-1"})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Message.objects.count() == 1
    assert Attachment.objects.count() == 1
