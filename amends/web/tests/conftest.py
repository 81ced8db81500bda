from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.cases.tests.factories import CaseFactory


@pytest.fixture
def team() -> Any:
    return TeamFactory(name="Billing")


@pytest.fixture
def agent(team: Any) -> Any:
    return UserFactory(username="ann", role=Role.AGENT, team=team)


@pytest.fixture
def agent_client(agent: Any) -> Client:
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def case(team: Any, agent: Any) -> Case:
    return CaseFactory(team=team, assignee=agent, title="Broadband down for a week")


def htmx(**extra: Any) -> dict[str, Any]:
    return {"HTTP_HX_REQUEST": "true", **extra}


def queries_of_other_apps(user: Any, case: Case | None = None) -> int:
    """Queries that the remedies/commitments nav (and case panels) add to a page of ours.

    Those templates belong to other apps and have their own query tests; ours pin the rest
    exactly, so a change to them does not break our counts, and an N+1 of ours still fails."""
    from django.db import connection
    from django.template import engines
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    request = RequestFactory().get("/")
    request.user = user
    source = (
        "{% load remedy_tags commitment_tags channels_tags insight_tags %}"
        '{% include "web/remedies/_nav.html" %}{% include "web/commitments/_nav.html" %}'
    )
    if case is not None:
        source += (
            "{% case_remedies_panel case %}{% case_commitments_panel case %}"
            "{% case_channels_panel case %}"
            "{% case_insight_panel case %}"
        )
    template = engines["django"].from_string(source)
    staff = user.staff  # the page has loaded the profile already
    with CaptureQueriesContext(connection) as ctx:
        template.render({"case": case, "staff_profile": staff, "user": user}, request)
    return len(ctx.captured_queries)
