from __future__ import annotations

from decimal import Decimal

import pytest

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.core.exceptions import ApplicationError
from amends.remedies.models import AuthorityChange, AuthorityRule
from amends.remedies.services.matrix import authority_rule_set

pytestmark = pytest.mark.django_db


def test_authority_rule_set_creates_then_replaces_a_role_rule():
    rule = authority_rule_set(kind="voucher", role=Role.AGENT, max_per_remedy="25", actor=None)
    assert rule.max_per_remedy == Decimal("25")
    again = authority_rule_set(
        kind="voucher", role=Role.AGENT, max_per_customer="100", period_days=30, actor=None
    )
    assert again.pk == rule.pk
    assert again.max_per_remedy is None
    assert again.max_per_customer == Decimal("100")
    assert AuthorityChange.objects.count() == 2


def test_authority_rule_set_person_rule_and_deny():
    user = UserFactory(role=Role.AGENT)
    rule = authority_rule_set(kind="refund", user=user, allowed=False, max_per_case="9", actor=None)
    assert (rule.user, rule.role, rule.allowed, rule.max_per_case) == (user, "", False, None)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"kind": "nope", "role": "agent"}, "unknown_kind"),
        ({"kind": "refund", "role": "intern"}, "invalid_role"),
        ({"kind": "refund", "role": "agent", "max_per_remedy": "0"}, "invalid_rule"),
        ({"kind": "refund", "role": "agent", "max_per_case": "-5"}, "invalid_rule"),
        ({"kind": "refund", "role": "agent", "max_per_customer": "10"}, "invalid_rule"),
        ({"kind": "refund", "role": "agent", "period_days": 30}, "invalid_rule"),
        (
            {"kind": "refund", "role": "agent", "max_per_customer": "10", "period_days": 0},
            "invalid_rule",
        ),
    ],
)
def test_authority_rule_set_rejects_bad_rules(kwargs, code):
    with pytest.raises(ApplicationError) as exc:
        authority_rule_set(actor=None, **kwargs)
    assert exc.value.code == code
    assert not AuthorityRule.objects.exists()
