from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from amends.accounts.tests.factories import UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import CommitmentKind, RuleAppliesTo
from amends.commitments.models import Commitment, EscalationRule
from amends.commitments.services.commitments import commitment_create
from amends.core.testing import ModelFactory


class CommitmentFactory(ModelFactory[Commitment]):
    """An open promise made through the real service (due tomorrow unless told)."""

    class Meta:
        model = Commitment

    case = factory.SubFactory(CaseFactory)
    kind = CommitmentKind.REBATE
    description = "A one-month rebate on the next bill."
    owner = factory.SubFactory(UserFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))

    @classmethod
    def _create(cls, model_class: type[Commitment], *args: Any, **kwargs: Any) -> Commitment:
        kwargs.setdefault("actor", kwargs["owner"])
        return commitment_create(**kwargs)


class EscalationRuleFactory(ModelFactory[EscalationRule]):
    class Meta:
        model = EscalationRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    applies_to = RuleAppliesTo.SPECIAL_HANDLING
    level = "manager"
    decision_minutes = 120
