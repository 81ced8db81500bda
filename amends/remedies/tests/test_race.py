"""Two proposals racing a per-customer limit on PostgreSQL: exactly one fits."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.customers.tests.factories import CustomerFactory
from amends.remedies.choices import RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import remedy_propose
from amends.remedies.tests.factories import AuthorityRuleFactory, kind


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_remedy_propose_concurrent_proposals_never_both_slip_under_customer_limit():
    if connection.vendor != "postgresql":
        pytest.skip(
            "Needs PostgreSQL row locks and real concurrent connections; SQLite in memory has "
            "one connection and serialises writers with BEGIN IMMEDIATE anyway."
        )
    team = TeamFactory(name="Race")
    agents = [UserFactory(role=Role.AGENT, team=team) for _ in range(2)]
    UserFactory(role=Role.SUPERVISOR, team=team)
    AuthorityRuleFactory(
        role=Role.AGENT, kind=kind("refund"), max_per_customer=Decimal("100.00"), period_days=30
    )
    AuthorityRuleFactory(role=Role.SUPERVISOR, kind=kind("refund"))
    customer = CustomerFactory()
    # Two different cases of one customer: only the customer-level limit links them.
    cases = [CaseFactory(customer=customer, team=team) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def propose(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            remedy = remedy_propose(
                case=cases[i],
                kind="refund",
                amount="60.00",
                currency="USD",
                reason="race",
                actor=agents[i],
            )
            results.append(remedy.status)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=propose, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(results) == [RemedyStatus.GRANTED, RemedyStatus.PENDING_APPROVAL]
    assert Remedy.objects.filter(status=RemedyStatus.GRANTED).count() == 1
