from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.models import Team
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.cases.tests.factories import case_in_status
from amends.feedback.choices import SurveyStatus
from amends.feedback.models import Survey
from amends.feedback.services.dispatch import survey_sweep
from amends.feedback.services.surveys import survey_token


class Org:
    """A small organisation: one team with an agent, a colleague and a supervisor, another
    team, a manager and an admin."""

    def __init__(self) -> None:
        self.team: Team = TeamFactory(name="Billing care")
        self.other_team: Team = TeamFactory(name="Field repairs")
        self.agent: User = UserFactory(username="alex", team=self.team)
        self.colleague: User = UserFactory(username="casey", team=self.team)
        self.supervisor: User = UserFactory(username="sky", role=Role.SUPERVISOR, team=self.team)
        self.outsider: User = UserFactory(username="olly", team=self.other_team)
        self.other_supervisor: User = UserFactory(
            username="sam", role=Role.SUPERVISOR, team=self.other_team
        )
        self.manager: User = UserFactory(username="morgan", role=Role.MANAGER, team=None)
        self.admin: User = UserFactory(username="ada", role=Role.ADMIN, team=None)


def resolved_case(org: Org, *, assignee: User | None = None, **kwargs: Any) -> Case:
    """A case of the org's team, owned by its agent, resolved through the real services."""
    kwargs.setdefault("team", org.team)
    return case_in_status(
        CaseStatus.RESOLVED,
        actor=assignee or org.agent,
        assignee=assignee or org.agent,
        **kwargs,
    )


def sent_survey(org: Org, *, now: datetime | None = None, **kwargs: Any) -> tuple[Survey, str]:
    """A resolved case whose survey the sweep has sent; returns it with its link token."""
    case = resolved_case(org, **kwargs)
    survey = Survey.objects.get(case=case)
    survey_sweep(now=(now or timezone.now()) + _delay())
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    return survey, survey_token(survey)


def _delay() -> Any:
    from datetime import timedelta

    from amends.feedback.selectors import survey_settings

    return timedelta(hours=survey_settings().delay_hours, minutes=1)
