"""No input to a web form or page answers 500: huge numbers, NUL bytes, bad refs, bad dates."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from amends.cases.models import Case
from amends.web.tests.conftest import htmx

BAD = [
    "99999999999999999999999",
    "\x00",
    "abc",
    "-1",
    "0",
    "1e5",
    "",
    "ab\x00c",
    "2026-13-45",
    "999999999999",
]


@pytest.mark.django_db
def test_web_views_answer_4xx_not_500_for_malformed_input(
    agent_client: Client, case: Case, agent: Any
) -> None:
    ref = case.ref
    posts = {
        f"/cases/{ref}/acknowledge/": ["version", "note"],
        f"/cases/{ref}/assign/": ["version", "assignee"],
        f"/cases/{ref}/resolve/": ["version", "outcome", "explanation"],
        f"/cases/{ref}/reopen/": ["version", "reason"],
        f"/cases/{ref}/update/": ["version", "fault", "description"],
        f"/cases/{ref}/steps/apologise/done/": ["version", "note"],
        f"/cases/{ref}/steps/\x00/done/": ["version"],
        f"/cases/{ref}/steps/zzz/skip/": ["version", "reason"],
        f"/cases/{ref}/messages/": ["version", "direction", "body", "awaiting_customer"],
        "/cases/new/": [
            "customer",
            "customer_name",
            "customer_email",
            "title",
            "severity",
            "category",
            "service",
            "team",
            "channel",
            "customer_ref",
        ],
        "/cases/AM-99999999999999999999/acknowledge/": ["version"],
        "/cases/AM-\x00/acknowledge/": ["version"],
    }
    bad: list[tuple[Any, ...]] = []
    for url, fields in posts.items():
        for v in BAD:
            for f in fields:
                data = dict.fromkeys(fields, "1")
                data[f] = v
                for extra in ({}, htmx()):
                    try:
                        r = agent_client.post(url, data, **extra)
                    except Exception as e:
                        bad.append((url, f, v, repr(e)[:200]))
                        continue
                    if r.status_code >= 500:
                        bad.append((url, f, v, r.status_code))
    gets = [
        "/",
        "/queues/all/",
        "/queues/team/99999999999999999999/",
        "/customers/",
        "/customers/search/",
        "/customers/99999999999999999999/",
        f"/cases/{ref}/",
        f"/cases/{ref}/panels/",
        "/cases/AM-99999999999999999999/",
        "/cases/%00/",
        "/queues/team/1/",
    ]
    params = ["page", "q", "status", "severity", "category", "sla_state", "unassigned"]
    for url in gets:
        for p in params:
            for v in BAD:
                try:
                    r = agent_client.get(url, {p: v})
                except Exception as e:
                    bad.append((url, p, v, repr(e)[:200]))
                    continue
                if r.status_code >= 500:
                    bad.append((url, p, v, r.status_code))
    assert not bad, "\n".join(map(repr, bad[:60]))


@pytest.mark.django_db
def test_web_case_urls_are_404_and_change_nothing_for_another_teams_case(
    agent_client: Client,
) -> None:
    from amends.accounts.tests.factories import TeamFactory
    from amends.cases.tests.factories import CaseFactory

    other = CaseFactory(team=TeamFactory(name="Travel"), title="Secret <b>case</b>")
    ref, version = other.ref, other.version
    for path in (f"/cases/{ref}/", f"/cases/{ref}/panels/"):
        for extra in ({}, htmx()):
            response = agent_client.get(path, **extra)
            assert response.status_code == 404, path
            assert "Secret" not in response.content.decode()
    posts = {
        "acknowledge": {"version": version},
        "assign": {"version": version, "assignee": "me"},
        "await-customer": {"version": version},
        "resume": {"version": version},
        "resolve": {"version": version, "outcome": "upheld"},
        "close": {"version": version},
        "reopen": {"version": version},
        "update": {"version": version, "fault": "organisation", "expected": "x"},
        "steps/apologise/done": {"version": version},
        "steps/apologise/skip": {"version": version, "reason": "x"},
        "messages": {"version": version, "direction": "internal", "body": "x"},
    }
    for action, data in posts.items():
        for extra in ({}, htmx()):
            response = agent_client.post(f"/cases/{ref}/{action}/", data, **extra)
            assert response.status_code == 404, action
    after = Case.objects.get(pk=other.pk)
    assert (after.version, after.status, after.assignee_id) == (version, other.status, None)
    assert not after.messages.filter(body="x").exists()
