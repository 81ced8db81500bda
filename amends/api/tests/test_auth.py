from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.accounts.choices import Role
from amends.accounts.models import ApiToken
from amends.accounts.services import api_token_revoke
from amends.accounts.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/cases"),
    ("post", "/api/v1/cases"),
    ("get", "/api/v1/cases/AM-000001"),
    ("post", "/api/v1/cases/AM-000001/acknowledge"),
    ("get", "/api/v1/customers"),
    ("get", "/api/v1/me"),
]


def _call(client: Client, method: str, path: str) -> Any:
    if method == "get":
        return client.get(path)
    return client.post(path, {"version": 1}, content_type="application/json")


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer amd_not_a_real_token", "Basic dXNlcjpwdw==", "Bearer ", "Token abc"],
    ids=["none", "bad_token", "basic", "empty_bearer", "other_scheme"],
)
def test_api_refuses_requests_without_a_valid_token(
    method: str, path: str, header: str | None
) -> None:
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = _call(client, method, path)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == "unauthenticated"


def test_api_refuses_a_revoked_token(api_client_for: Any) -> None:
    user = UserFactory()
    api = api_client_for(user)
    assert api.get("/api/v1/me").status_code == 200
    api_token_revoke(token=ApiToken.objects.get(user=user))
    assert api.get("/api/v1/me").status_code == 401


def test_api_refuses_an_inactive_users_token(api_client_for: Any) -> None:
    user = UserFactory()
    api = api_client_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert api.get("/api/v1/me").status_code == 401


def test_api_token_of_a_non_staff_user_is_forbidden(api_client_for: Any) -> None:
    plain = User.objects.create_user("plain")
    response = api_client_for(plain).get("/api/v1/cases")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_api_me_describes_the_token_user(api_client_for: Any) -> None:
    user = UserFactory(username="sam", role=Role.SUPERVISOR, team=TeamFactory(name="Billing"))
    assert api_client_for(user).get("/api/v1/me").json() == {
        "username": "sam",
        "role": "supervisor",
        "team": "Billing",
    }


def test_api_accepts_the_browser_session() -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/me").status_code == 200


def test_api_session_writes_need_the_csrf_token() -> None:
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/customers", {"name": "Ada"}, content_type="application/json")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "detail"}
    csrf = "a" * 32  # what the login page's cookie and the htmx header carry
    client.cookies["csrftoken"] = csrf
    response = client.post(
        "/api/v1/customers", {"name": "Ada"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 201
