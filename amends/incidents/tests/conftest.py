from __future__ import annotations

import importlib
from dataclasses import dataclass

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.incidents.models import Incident, RecoveryPolicy
from amends.incidents.tests.factories import IncidentFactory, eu261_policy, incident_kind


@dataclass
class Ops:
    team: Team
    analyst: User  # a supervisor: declares incidents
    owner: User  # a manager: owns the recovery policy
    agent: User
    policy: RecoveryPolicy
    incident: Incident


@pytest.fixture
def ops(db: None) -> Ops:
    """An EU261 delay policy owned by a manager, and a 200-minute delay declared under it."""
    # The kinds and default notice templates come from a data migration; a transactional
    # (live-server) test run earlier on the same worker flushes them, so put them back.
    importlib.import_module("amends.incidents.migrations.0002_seed_kinds_templates").seed(
        django_apps, None
    )
    team = TeamFactory(name="Operations")
    analyst = UserFactory(username="ana", role=Role.SUPERVISOR, team=team)
    owner = UserFactory(username="olga", role=Role.MANAGER, team=team)
    agent = UserFactory(username="alex", role=Role.AGENT, team=team)
    policy = eu261_policy(owner=owner)
    incident = IncidentFactory(
        kind=incident_kind("flight_delay"), policy=policy, created_by=analyst
    )
    return Ops(team, analyst, owner, agent, policy, incident)
