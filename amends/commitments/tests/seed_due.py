"""Seed a database with many overdue promises, for the multi-process sweep tests.

Run as a script: `python -m amends.commitments.tests.seed_due N` with DJANGO_SETTINGS_MODULE
and AMENDS_DATA_DIR / DATABASE_URL pointing at the database to fill (already migrated).
"""

from __future__ import annotations

import sys
from datetime import timedelta


def main(n: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.utils import timezone

    from amends.accounts.choices import Role
    from amends.accounts.models import StaffProfile, Team
    from amends.cases.services.intake import case_create
    from amends.commitments.models import Commitment
    from amends.customers.models import Customer

    team = Team.objects.create(name="Sweepers")
    supervisor = User.objects.create_user("sup", email="sup@example.com", password="pw")
    StaffProfile.objects.create(user=supervisor, team=team, role=Role.SUPERVISOR)
    agent = User.objects.create_user("agent", email="agent@example.com", password="pw")
    StaffProfile.objects.create(user=agent, team=team, role=Role.AGENT)
    # One customer per case: the same customer failed 140 times would be a repeat failure,
    # which the insight app answers by raising severity, and this seed is about promises.
    past = timezone.now() - timedelta(minutes=5)
    rows = []
    for i in range(n):
        customer = Customer.objects.create(name=f"Promised {i}")
        case = case_create(customer=customer, title=f"Case {i}", actor=None, team=team, severity=4)
        rows.append(
            Commitment(
                case=case, kind="rebate", description=f"Rebate {i}", owner=agent, due_at=past
            )
        )
    Commitment.objects.bulk_create(rows)
    # And cases whose SLA clock already ran out (no promises on them).
    from amends.cases.models import Case

    breached = [
        case_create(
            customer=Customer.objects.create(name=f"Late {i}"),
            title=f"Late {i}",
            actor=None,
            team=team,
            severity=2,
        ).pk
        for i in range(BREACHED)
    ]
    Case.objects.filter(pk__in=breached).update(sla_due_at=past, sla_at_risk_at=past)


BREACHED = 20


if __name__ == "__main__":
    main(int(sys.argv[1]))
