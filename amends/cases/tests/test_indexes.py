"""The lookups whose single-column index was dropped or made partial (migration 0013) are
still served by an index: the composite one that starts with the column, or the partial one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from amends.cases.models import Case, CaseStep

pytestmark = pytest.mark.django_db


def _plan(qs: QuerySet[Any]) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A few rows: without this PostgreSQL reads the whole table, which says nothing
            # about the million-case plan.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    return qs.values_list("pk", flat=True).explain()


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        # a customer's history (customers page; deleting a customer is refused by it)
        ({"customer_id": 1}, "case_customer_created_idx"),
        # deleting a category, team or user looks their cases up (PROTECT)
        ({"category_id": 1}, "case_category_sla_idx"),
        ({"team_id": 1}, "case_team_sla_idx"),
        ({"assignee_id": 1}, "case_assignee_sla_idx"),
        ({"created_by_id": 1}, "case_created_by_idx"),
        ({"root_cause_id": 1}, "case_root_cause_idx"),
        ({"merged_into_id": 1}, "case_merged_into_idx"),
        # the "not applicable" SLA filter: duplicates merged into another case
        ({"merged_into__isnull": False}, "case_merged_into_idx"),
    ],
)
def test_case_foreign_key_lookups_use_an_index(lookup: dict[str, Any], index: str) -> None:
    plan = _plan(Case.objects.filter(**lookup).order_by())
    assert index in plan, plan


@pytest.mark.parametrize(
    ("lookup", "index"),
    [
        # a case's steps (the case page, the workflow); SQLite names a table's unique
        # constraint's index itself
        ({"case_id": 1}, "casestep_unique_step|sqlite_autoindex_cases_casestep_"),
        # deleting a user looks up the steps they did (PROTECT)
        ({"actor_id": 1}, "casestep_actor_idx"),
    ],
)
def test_step_lookups_use_an_index(lookup: dict[str, Any], index: str) -> None:
    plan = _plan(CaseStep.objects.filter(**lookup).order_by())
    assert any(name in plan for name in index.split("|")), plan
