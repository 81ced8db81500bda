"""The admin pages of the foundation's models render, and cases stay read-only there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.accounts.models import ApiToken
from amends.accounts.services import api_token_create
from amends.accounts.tests.factories import UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.taxonomy.tests.factories import CategoryFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/team/",
        "/admin/auth/user/",
        "/admin/accounts/apitoken/",
        "/admin/customers/customer/",
        "/admin/taxonomy/category/",
        "/admin/taxonomy/service/",
        "/admin/cases/case/",
        "/admin/cases/caseevent/",
        "/admin/auth/user/?staff__role__exact=agent",
        "/admin/customers/customer/?q=C-00001",
    ],
)
def test_admin_changelists_render(admin_client_: Client, path: str) -> None:
    CaseFactory(category=CategoryFactory(parent=CategoryFactory()), service=ServiceFactory())
    api_token_create(user=UserFactory())
    assert admin_client_.get(path).status_code == 200


def test_admin_case_is_read_only(admin_client_: Client) -> None:
    case = CaseFactory()
    assert admin_client_.get(f"/admin/cases/case/{case.pk}/change/").status_code == 200
    response = admin_client_.post(f"/admin/cases/case/{case.pk}/change/", {"title": "Hacked"})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.title != "Hacked"
    assert admin_client_.get("/admin/cases/case/add/").status_code == 403


def test_admin_token_change_page_never_shows_the_raw_key(admin_client_: Client) -> None:
    token: Any
    token, raw = api_token_create(user=UserFactory())
    page = admin_client_.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert raw.encode() not in page.content
    assert ApiToken.objects.count() == 1
