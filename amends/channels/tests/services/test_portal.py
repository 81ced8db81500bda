from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from amends.cases.tests.factories import CaseFactory
from amends.channels.models import PortalLink
from amends.channels.services.portal import (
    portal_case_for_token,
    portal_link_issue,
    portal_link_revoke,
    portal_links_revoke_for_case,
    portal_token,
    portal_url_for_case,
)
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def _token(url: str) -> str:
    return url.rsplit("/c/", 1)[1]


def test_portal_url_for_case_issues_one_link_and_reuses_it() -> None:
    case = CaseFactory()
    url = portal_url_for_case(case_id=case.pk, actor=None)
    assert url.startswith("http://127.0.0.1:8000/c/")
    assert portal_url_for_case(case_id=case.pk, actor=None) == url
    assert PortalLink.objects.filter(case=case).count() == 1
    assert portal_case_for_token(_token(url)) == case


def test_portal_url_for_case_uses_the_public_base_url(settings: object) -> None:
    case = CaseFactory()
    from django.test import override_settings

    with override_settings(AMENDS={"PUBLIC_BASE_URL": "https://help.example.com/"}):
        url = portal_url_for_case(case_id=case.pk, actor=None)
    assert url.startswith("https://help.example.com/c/")


def test_portal_url_for_case_unknown_case_raises() -> None:
    with pytest.raises(ApplicationError):
        portal_url_for_case(case_id=999_999_999, actor=None)


@pytest.mark.parametrize(
    "token", ["", "abc", "1.x:forged", "x" * 5000, "1.abc\x00:sig", "99999999999999999999.a:b"]
)
def test_portal_case_for_token_refuses_forged_tokens(token: str) -> None:
    CaseFactory()
    with pytest.raises(ApplicationError) as exc:
        portal_case_for_token(token)
    assert exc.value.code == "portal_link_invalid"


def test_portal_case_for_token_refuses_a_tampered_token() -> None:
    link = portal_link_issue(case=CaseFactory(), actor=None)
    token = portal_token(link)
    other = str(link.pk + 1) + token[len(str(link.pk)) :]
    with pytest.raises(ApplicationError):
        portal_case_for_token(other)


def test_portal_case_for_token_refuses_a_revoked_link() -> None:
    link = portal_link_issue(case=CaseFactory(), actor=None)
    portal_link_revoke(link=link, actor=None)
    with pytest.raises(ApplicationError) as exc:
        portal_case_for_token(portal_token(link))
    assert exc.value.code == "portal_link_invalid"


def test_portal_case_for_token_refuses_an_expired_link() -> None:
    link = portal_link_issue(case=CaseFactory(), actor=None, days=2)
    with (
        time_machine.travel(timezone.now() + timedelta(days=3), tick=False),
        pytest.raises(ApplicationError) as exc,
    ):
        portal_case_for_token(portal_token(link))
    assert exc.value.code == "portal_link_expired"
    assert exc.value.status == 410


def test_portal_url_for_case_issues_a_new_link_after_revocation() -> None:
    case = CaseFactory()
    url = portal_url_for_case(case_id=case.pk, actor=None)
    assert portal_links_revoke_for_case(case=case, actor=None) == 1
    fresh = portal_url_for_case(case_id=case.pk, actor=None)
    assert fresh != url
    with pytest.raises(ApplicationError):
        portal_case_for_token(_token(url))
    assert portal_case_for_token(_token(fresh)) == case


def test_portal_link_issue_refuses_silly_lifetimes() -> None:
    with pytest.raises(ApplicationError):
        portal_link_issue(case=CaseFactory(), actor=None, days=10_000)
