"""Set-based intake for imports: `cases_open_many` against what `case_create` does for one case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus, Outcome, StepState
from amends.cases.models import Case, CaseEvent, CaseStep
from amends.cases.services.batch import (
    NewCase,
    cases_open_many,
    new_case_check,
)
from amends.cases.services.intake import FALLBACK_STEPS, case_create
from amends.cases.services.workflow import case_reopen
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.rows import select_in
from amends.core.testing import hook_recorded
from amends.customers import services as customers_services
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.customers.services import CustomerKey, customer_keys_get_or_create
from amends.customers.tests.factories import CustomerFactory
from amends.policies.tests.factories import PlaybookFactory, PlaybookStepFactory
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def _key(customer: Customer) -> CustomerKey:
    return CustomerKey(customer.pk, customer.tier, customer.special_handling)


def test_open_case_gets_the_same_playbook_steps_clocks_and_event_as_case_create() -> None:
    category = CategoryFactory()
    playbook = PlaybookFactory(category=category)
    PlaybookStepFactory(playbook=playbook, step="acknowledge", position=0)
    PlaybookStepFactory(playbook=playbook, step="apologise", position=1, required=False)
    customer = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        single = case_create(customer=customer, title="One", category=category, actor=None)
        (pk,) = cases_open_many(
            specs=[NewCase(customer=_key(customer), title="  Many ", category=category)]
        )
    case = Case.objects.get(pk=pk)
    assert (case.title, case.status, case.playbook_id, case.version) == (
        "Many",
        CaseStatus.NEW,
        playbook.pk,
        1,
    )
    for name in ("ack_due_at", "ack_at_risk_at", "resolve_due_at", "sla_due_at", "created_at"):
        assert getattr(case, name) == getattr(single, name), name
    steps = list(case.steps.values_list("step", "required", "position", "state"))
    assert steps == list(single.steps.values_list("step", "required", "position", "state"))
    assert steps == [
        ("acknowledge", True, 0, StepState.PENDING),
        ("apologise", False, 1, StepState.PENDING),
    ]
    event = CaseEvent.objects.get(case=case)
    assert event.kind == CaseEventKind.CREATED
    assert event.data["ref"] == case.ref
    assert event.data["playbook"] == playbook.name


def test_history_is_kept_and_a_closed_case_has_no_steps_until_it_is_reopened() -> None:
    customer = CustomerFactory()
    opened = NOW - timedelta(days=400)
    with time_machine.travel(NOW, tick=False):
        (pk,) = cases_open_many(
            specs=[
                NewCase(
                    customer=_key(customer),
                    title="Old",
                    created_at=opened,
                    status=CaseStatus.CLOSED,
                    closed_at=opened + timedelta(days=3),
                    outcome=Outcome.UPHELD,
                    event_data={"import": "test", "source_id": "7"},
                )
            ]
        )
    case = Case.objects.get(pk=pk)
    assert case.created_at == opened
    assert case.closed_at == case.resolved_at == opened + timedelta(days=3)
    assert case.acknowledged_at == opened
    assert (case.sla_due_at, case.outcome) == (None, Outcome.UPHELD)
    assert not CaseStep.objects.filter(case=case).exists()  # handled before Amends
    event = CaseEvent.objects.get(case=case)
    assert (event.data["source_id"], event.data["outcome"]) == ("7", Outcome.UPHELD)
    case_reopen(case=case, version=case.version, actor=UserFactory(), reason="Came back")
    steps = list(CaseStep.objects.filter(case=case).order_by("position"))
    assert [s.step for s in steps] == [step[0] for step in FALLBACK_STEPS]
    assert {s.state for s in steps} == {StepState.PENDING}


def test_vip_customer_gets_the_vip_playbook() -> None:
    vip_playbook = PlaybookFactory(audience="vip")
    PlaybookStepFactory(playbook=vip_playbook, step="compensate", position=0)
    vip = CustomerFactory(tier=CustomerTier.VIP)
    plain = CustomerFactory()
    ids = cases_open_many(
        specs=[NewCase(customer=_key(vip), title="V"), NewCase(customer=_key(plain), title="P")]
    )
    cases = Case.objects.in_bulk(ids)
    assert cases[ids[0]].playbook_id == vip_playbook.pk
    assert cases[ids[1]].playbook_id != vip_playbook.pk
    assert list(cases[ids[0]].steps.values_list("step", flat=True)) == ["compensate"]


def test_one_hook_for_the_batch_after_commit_and_no_case_opened(
    django_capture_on_commit_callbacks: Any,
) -> None:
    customers = [CustomerFactory() for _ in range(3)]
    with (
        hook_recorded(hooks.cases_opened_bulk) as bulk,
        hook_recorded(hooks.case_opened) as single,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ids = cases_open_many(
            specs=[NewCase(customer=_key(c), title=f"T{i}") for i, c in enumerate(customers * 2)]
        )
        assert bulk == []  # not before the commit
    assert single == []
    assert len(bulk) == 1
    assert bulk[0].case_ids == tuple(ids)
    assert bulk[0].customer_ids == tuple(c.pk for c in customers)
    assert bulk[0].channel == "import"


def test_queries_do_not_grow_with_the_batch(django_assert_max_num_queries: Any) -> None:
    customers = [CustomerFactory() for _ in range(5)]
    cases_open_many(specs=[NewCase(customer=_key(customers[0]), title="warm")])  # policy cache
    specs = [NewCase(customer=_key(customers[i % 5]), title=f"Case {i}") for i in range(300)]
    with django_assert_max_num_queries(8):
        ids = cases_open_many(specs=specs)
    assert len(ids) == len(set(ids)) == 300
    assert CaseStep.objects.filter(case_id__in=ids).count() == 300 * len(FALLBACK_STEPS)
    assert CaseEvent.objects.filter(case_id__in=ids).count() == 300


def test_a_bad_spec_writes_nothing() -> None:
    customer = CustomerFactory()
    good = NewCase(customer=_key(customer), title="Fine")
    bad = NewCase(customer=_key(customer), title="Closed", status=CaseStatus.CLOSED)
    assert new_case_check(bad, now=NOW) == "a resolved or closed case needs an outcome"
    future = NewCase(
        customer=_key(customer), title="F", created_at=datetime(2999, 1, 1, tzinfo=UTC)
    )
    assert new_case_check(future, now=NOW) == "created at is in the future or has no time zone"
    with pytest.raises(ApplicationError) as raised:
        cases_open_many(specs=[good, bad])
    assert raised.value.detail == {"index": 1}
    assert not Case.objects.exists()


def test_customer_keys_find_existing_and_create_missing_once() -> None:
    existing = CustomerFactory(external_ref="crm:1", tier=CustomerTier.VIP)
    keys = customer_keys_get_or_create(
        defaults_by_ref={
            "crm:1": {"name": "Ignored"},
            "crm:2": {"name": " Ada ", "email": "ada@example.com"},
        }
    )
    assert keys["crm:1"] == CustomerKey(existing.pk, CustomerTier.VIP, False)
    created = Customer.objects.get(external_ref="crm:2")
    assert (created.name, created.email, created.tier) == ("Ada", "ada@example.com", "standard")
    assert keys["crm:2"].id == created.pk
    again = customer_keys_get_or_create(defaults_by_ref={"crm:2": {"name": "Other"}})
    assert again == {"crm:2": keys["crm:2"]}
    assert Customer.objects.filter(external_ref="crm:2").count() == 1


def test_customer_keys_a_reference_created_meanwhile_is_read_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Another import creates crm:7 between this chunk's SELECT and its write: the SELECT is
    # made to miss it, so the write (COPY on PostgreSQL) meets the unique reference.
    raced = CustomerFactory(external_ref="crm:7")
    real = select_in
    calls: list[int] = []

    def first_misses(**kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            return [row for row in real(**kwargs) if row[1] != "crm:7"]
        return real(**kwargs)

    monkeypatch.setattr(customers_services, "select_in", first_misses)
    keys = customer_keys_get_or_create(
        defaults_by_ref={"crm:7": {"name": "Late"}, "crm:8": {"name": "New"}}
    )
    assert keys["crm:7"].id == raced.pk
    assert keys["crm:8"].id == Customer.objects.get(external_ref="crm:8").pk
    assert Customer.objects.filter(external_ref__in=["crm:7", "crm:8"]).count() == 2
