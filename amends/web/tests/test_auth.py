from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    ("web:queue", {}),
    ("web:team-queues", {}),
    ("web:all-queue", {}),
    ("web:case-new", {}),
    ("web:customer-list", {}),
    ("web:case-detail", {"ref": "AM-000001"}),
    ("web:customer-detail", {"customer_id": 1}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_pages_redirect_to_login_when_anonymous(name: str, kwargs: dict[str, Any]) -> None:
    url = reverse(name, kwargs=kwargs)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    assert "next=" in response["Location"]


def test_login_page_renders_form() -> None:
    response = Client().get(reverse("web:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert "csrfmiddlewaretoken" in body


def test_login_signs_in_and_lands_on_my_queue(agent: Any) -> None:
    client = Client()
    response = client.post(reverse("web:login"), {"username": "ann", "password": "pw"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:queue")
    assert client.get(reverse("web:queue")).status_code == 200


def test_login_refuses_a_wrong_password(agent: Any) -> None:
    response = Client().post(reverse("web:login"), {"username": "ann", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_needs_post_and_signs_out(agent_client: Client) -> None:
    assert agent_client.get(reverse("web:logout")).status_code == 405
    response = agent_client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert agent_client.get(reverse("web:queue")).status_code == 302


def test_queue_is_forbidden_for_users_without_staff_role() -> None:
    user = User.objects.create_user("plain", password="pw")
    client = Client()
    client.force_login(user)
    response = client.get(reverse("web:queue"))
    assert response.status_code == 403
    assert "no staff role" in response.content.decode()


def test_posts_without_csrf_token_are_refused(agent: Any, case: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(
        reverse("web:case-acknowledge", args=[case.ref]), {"version": case.version}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "new"
