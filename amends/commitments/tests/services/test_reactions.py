from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from amends.commitments.models import Escalation
from amends.core import hooks
from amends.remedies.sweeps import approval_sweep
from amends.remedies.tests import conftest as remedies_conftest
from amends.remedies.tests.test_sweeps import START, pending

pytestmark = pytest.mark.django_db

org = remedies_conftest.org  # the remedies organisation fixture


def test_commitments_subscribes_to_case_opened_and_remedy_approval_overdue() -> None:
    from amends.commitments.services import reactions

    assert reactions.on_case_opened in hooks.case_opened.subscribers
    assert reactions.on_remedy_approval_overdue in hooks.remedy_approval_overdue.subscribers


def test_approval_sweep_opens_one_case_escalation_for_an_undecided_approval(org):
    pending(org)
    later = START + timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        approval_sweep(now=later)
        approval_sweep(now=later + timedelta(hours=5))  # overdue again, one level higher
    escalations = Escalation.objects.filter(case=org.case, reason="approval_overdue")
    assert escalations.count() == 1
    assert escalations.get().level == "manager"
