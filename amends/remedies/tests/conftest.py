from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.models import Case
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory
from amends.remedies.tests.factories import AuthorityRuleFactory, kind


@dataclass
class Org:
    team: Team
    other_team: Team
    agent: User
    supervisor: User
    other_supervisor: User
    manager: User
    case: Case


@pytest.fixture
def org(db: None) -> Org:
    """Two teams; an agent and a supervisor in one, a supervisor in the other, a manager.

    Refunds: agents 50 per remedy / 100 per case / 150 per customer over 30 days; supervisors
    200 per remedy; managers 1000 per remedy. The case belongs to the agent's team and is
    acknowledged, so its compensate step is waiting.
    """
    team = TeamFactory(name="Billing")
    other_team = TeamFactory(name="Network")
    agent = UserFactory(username="alice", role=Role.AGENT, team=team)
    supervisor = UserFactory(username="sam", role=Role.SUPERVISOR, team=team)
    other_supervisor = UserFactory(username="aaron", role=Role.SUPERVISOR, team=other_team)
    manager = UserFactory(username="maria", role=Role.MANAGER, team=None)
    refund = kind("refund")
    AuthorityRuleFactory(
        role=Role.AGENT,
        kind=refund,
        max_per_remedy=Decimal("50.00"),
        max_per_case=Decimal("100.00"),
        max_per_customer=Decimal("150.00"),
        period_days=30,
    )
    AuthorityRuleFactory(role=Role.SUPERVISOR, kind=refund, max_per_remedy=Decimal("200.00"))
    AuthorityRuleFactory(role=Role.MANAGER, kind=refund, max_per_remedy=Decimal("1000.00"))
    case = CaseFactory(team=team, assignee=agent)
    case = case_acknowledge(case=case, version=None, actor=agent)
    return Org(team, other_team, agent, supervisor, other_supervisor, manager, case)
