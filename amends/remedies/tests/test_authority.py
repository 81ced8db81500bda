"""The matrix evaluated (amends/remedies/authority.py): precedence, breaches, headroom."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from amends.remedies.authority import (
    Limits,
    Source,
    Usage,
    headroom,
    limits_check,
    limits_for,
    limits_table_for,
)
from amends.remedies.tests.factories import AuthorityRuleFactory, kind, remedy_make

pytestmark = pytest.mark.django_db

D = Decimal


def usage(org, code="refund", currency="USD"):
    return Usage(case=org.case, kind=kind(code), currency=currency, now=datetime.now(UTC))


def test_limits_for_person_rule_beats_role_rule_and_no_rule_means_not_allowed(org):
    AuthorityRuleFactory(role="", user=org.agent, kind=kind("refund"), max_per_remedy=D("9"))
    mine = limits_for(user=org.agent, kind=kind("refund"))
    assert (mine.source, mine.max_per_remedy, mine.max_per_case) == (Source.PERSON, D("9"), None)
    theirs = limits_for(user=org.supervisor, kind=kind("refund"))
    assert (theirs.source, theirs.max_per_remedy) == (Source.ROLE, D("200"))
    none = limits_for(user=org.agent, kind=kind("voucher"))
    assert (none.source, none.allowed) == (Source.NONE, False)


def test_limits_table_for_covers_every_kind_in_one_query(org, django_assert_num_queries):
    kinds = [kind("refund"), kind("voucher"), kind("repair")]
    org.agent.staff  # noqa: B018  # the profile is loaded once per request anyway
    with django_assert_num_queries(1):
        table = limits_table_for(user=org.agent, kinds=kinds)
    assert table[kinds[0].pk].max_per_remedy == D("50")
    assert not table[kinds[1].pk].allowed


def test_limits_check_lists_every_breach(org):
    remedy_make(case=org.case, amount="90.00")
    limits = limits_for(user=org.agent, kind=kind("refund"))
    breaches = limits_check(limits=limits, amount=D("60.00"), usage=usage(org))
    assert [(b.limit, b.allowed, b.would_be) for b in breaches] == [
        ("max_per_remedy", D("50"), D("60.00")),
        ("max_per_case", D("100"), D("150.00")),
    ]


def test_limits_check_non_monetary_only_needs_allowed(org):
    allowed = Limits(kind_id=1, source=Source.ROLE, allowed=True, max_per_remedy=D("1"))
    assert limits_check(limits=allowed, amount=None, usage=usage(org)) == []
    denied = Limits(kind_id=1, source=Source.ROLE, allowed=False)
    assert [b.limit for b in limits_check(limits=denied, amount=None, usage=usage(org))] == [
        "not_allowed"
    ]


def test_headroom_is_the_tightest_limit_never_negative(org):
    limits = limits_for(user=org.agent, kind=kind("refund"))
    assert headroom(limits=limits, usage=usage(org)) == D("50")
    remedy_make(case=org.case, amount="80.00")
    assert headroom(limits=limits, usage=usage(org)) == D("20")
    remedy_make(case=org.case, amount="80.00")
    assert headroom(limits=limits, usage=usage(org)) == D("0")
    unlimited = Limits(kind_id=1, source=Source.ROLE, allowed=True)
    assert headroom(limits=unlimited, usage=usage(org)) is None


def test_usage_sums_are_per_kind_and_currency(org):
    remedy_make(case=org.case, amount="10.00")
    remedy_make(case=org.case, amount="20.00", currency="EUR")
    remedy_make(case=org.case, amount="40.00", code="voucher")
    assert usage(org).case_total() == D("10.00")
    assert usage(org, currency="EUR").customer_total(30) == D("20.00")
    assert usage(org, code="voucher").case_total() == D("40.00")
