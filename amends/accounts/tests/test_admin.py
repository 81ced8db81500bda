"""The accounts admin: API tokens are minted there with the raw key shown once."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from amends.accounts.models import ApiToken
from amends.accounts.services import api_token_authenticate, api_token_create, token_hash
from amends.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


def test_admin_api_token_add_shows_raw_key_once_and_stores_only_hash(
    admin_client_: Client,
) -> None:
    staff = UserFactory(username="integration")
    assert admin_client_.get("/admin/accounts/apitoken/add/").status_code == 200

    response = admin_client_.post(
        "/admin/accounts/apitoken/add/", {"user": staff.pk, "name": "CRM sync"}, follow=True
    )

    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.user == staff
    assert token.name == "CRM sync"
    shown = (
        " ".join(str(m) for m in get_messages(response.wsgi_request)) + response.content.decode()
    )
    match = re.search(r"amd_[A-Za-z0-9_-]{20,}", shown)
    assert match is not None, "the raw key is shown after saving"
    raw = match.group(0)
    assert token.key_hash == token_hash(raw)
    assert raw not in (token.prefix, token.key_hash, token.name)
    assert api_token_authenticate(raw=raw) == staff
    # Shown once: the change page and the list never show it again.
    assert (
        raw
        not in admin_client_.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    )
    assert raw not in admin_client_.get("/admin/accounts/apitoken/").content.decode()


def test_admin_api_token_add_offers_only_staff_users(admin_client_: Client) -> None:
    outsider = User.objects.create_user("outsider", password="pw")

    response = admin_client_.post(
        "/admin/accounts/apitoken/add/", {"user": outsider.pk, "name": "x"}
    )

    assert response.status_code == 200  # the form again, with an error
    assert b"Select a valid choice" in response.content
    assert not ApiToken.objects.exists()


def test_admin_api_token_revoke_action_revokes(admin_client_: Client) -> None:
    token, raw = api_token_create(user=UserFactory())

    admin_client_.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw=raw) is None
