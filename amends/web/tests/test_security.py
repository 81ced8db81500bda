"""Login throttling, password validators in the admin, security headers and `check --deploy`."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Harbour-lights-2026"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def agent() -> User:
    user = UserFactory(username="annie", role=Role.AGENT, team=TeamFactory(name="Recovery"))
    user.set_password(PASSWORD)
    user.save()
    return user


def _login(client: Client, path: str, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        path, {"username": username, "password": password}, REMOTE_ADDR=ip, follow=False
    )


# ---- 6. login throttling ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_wrong_passwords_lock_the_username_with_a_clear_message(
    client: Client, agent: User, path: str
) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    answers = [_login(client, path, "annie", "wrong").status_code for _ in range(limit + 15)]
    assert 429 in answers
    assert answers.index(429) == limit - 1  # the limit-th failure already locks
    # The right password no longer works at once, and the page says why.
    locked = _login(client, path, "annie", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_too(client: Client, agent: User) -> None:
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "/login/", f"nobody{i}", "wrong", ip="10.0.0.9")
    # Another username from that address is refused; the same user from elsewhere is not.
    assert _login(client, "/login/", "annie", PASSWORD, ip="10.0.0.9").status_code == 429
    assert _login(client, "/login/", "annie", PASSWORD, ip="10.0.0.10").status_code == 302


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client: Client, agent) -> None:
    for i in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(
            "/login/",
            {"username": f"x{i}", "password": "wrong"},
            REMOTE_ADDR="10.0.0.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i}",
        )
    r = client.post(
        "/login/",
        {"username": "annie", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.7",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert r.status_code == 429


def test_an_admin_unlocks_a_locked_user(client: Client, agent: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "/login/", "annie", "wrong")
    assert _login(client, "/login/", "annie", PASSWORD).status_code == 429
    call_command("axes_reset")  # or delete the access attempts in the admin
    assert not AccessAttempt.objects.exists()
    assert _login(client, "/login/", "annie", PASSWORD).status_code == 302


def test_the_admin_lists_access_attempts_for_unlocking(client: Client, agent: User) -> None:
    _login(client, "/login/", "annie", "wrong")
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    r = client.get("/admin/axes/accessattempt/")
    assert r.status_code == 200
    assert b"annie" in r.content


def test_api_tokens_are_unaffected_by_a_locked_username(client: Client, agent, api_client_for):
    api = api_client_for(agent)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _login(client, "/login/", "annie", "wrong", ip="127.0.0.1")
    assert api.get("/api/v1/me").status_code == 200


def test_a_right_password_resets_the_count(client: Client, agent: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "/login/", "annie", "wrong")
    assert _login(client, "/login/", "annie", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "/login/", "annie", "wrong")
    assert _login(client, "/login/", "annie", PASSWORD).status_code == 302


# ---- 7. password validators in the admin ------------------------------------------------------


def test_the_four_django_password_validators_are_configured() -> None:
    names: set[str] = set()
    for validator in settings.AUTH_PASSWORD_VALIDATORS:  # the stubs infer list[object]
        assert isinstance(validator, dict), validator
        names.add(validator["NAME"].rsplit(".", 1)[-1])
    assert names == {
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    }


@pytest.mark.parametrize("password", ["a", "password123", "98765432109876"])
def test_the_admin_refuses_a_weak_password(client: Client, password: str) -> None:
    client.force_login(User.objects.create_superuser("root", password=PASSWORD))
    r = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "password1": password,
            "password2": password,
            "usable_password": "true",
            "staff-TOTAL_FORMS": "0",
            "staff-INITIAL_FORMS": "0",
        },
    )
    assert r.status_code == 200  # the form again, with the validator's message
    assert not User.objects.filter(username="newbie").exists()


# ---- 8. headers -------------------------------------------------------------------------------


def test_every_page_sends_a_strict_content_security_policy(client: Client, agent: User) -> None:
    for path in ["/login/", "/api/v1/openapi.json"]:
        policy = client.get(path)["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in policy


INLINE = [
    # A `type="application/json"` block is data, not script: CSP lets it be.
    (
        re.compile(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle=", re.I), "style= attribute"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on handler (needs eval)"),
    (re.compile(r"\son[a-z]+=", re.I), "on* event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_or_style() -> None:
    found = []
    for template in sorted((REPO / "amends").glob("*/templates/**/*.html")):
        text = template.read_text()
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{template.relative_to(REPO)}: {what}")
    assert not found, "CSP forbids these; move them to a static file:\n" + "\n".join(found)


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "AMENDS_DATA_DIR": str(tmp_path),
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "amends.example.com",
        "SECURE_COOKIES": "1",
        "SECURE_SSL_REDIRECT": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "SECURE_HSTS_PRELOAD": "1",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    }
    result = subprocess.run(  # our own manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
