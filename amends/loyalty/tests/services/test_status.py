from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory
from amends.loyalty.models import CustomerRisk, LoyaltyEvent
from amends.loyalty.services.status import cancellations_import, loyalty_status_change

pytestmark = pytest.mark.django_db


def status_of(customer: Customer) -> str:
    return Customer.objects.get(pk=customer.pk).loyalty_status


def test_loyalty_status_change_needs_a_reason_and_a_legal_move() -> None:
    manager = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory()
    with pytest.raises(ApplicationError) as exc:
        loyalty_status_change(customer=customer, status="lost", reason="  ", actor=manager)
    assert exc.value.code == "reason_required"
    with pytest.raises(ApplicationError) as exc:
        loyalty_status_change(customer=customer, status="won_back", reason="x", actor=manager)
    assert exc.value.code == "illegal_loyalty_move"
    with pytest.raises(ApplicationError) as exc:
        loyalty_status_change(customer=customer, status="gone", reason="x", actor=manager)
    assert exc.value.code == "invalid_loyalty_status"
    assert status_of(customer) == LoyaltyStatus.ACTIVE
    assert not LoyaltyEvent.objects.exists()


def test_marking_lost_records_reason_time_and_actor() -> None:
    manager = UserFactory(role=Role.MANAGER)
    customer = CustomerFactory()
    risk = loyalty_status_change(
        customer=customer, status="lost", reason="Switched provider", actor=manager
    )
    assert (risk.status, risk.lost_reason) == ("lost", "Switched provider")
    assert risk.lost_at is not None
    event = LoyaltyEvent.objects.get(customer=customer)
    assert (event.actor, event.data["to"]) == (manager, "lost")


def test_cancellations_import_is_all_or_nothing() -> None:
    a = CustomerFactory(external_ref="A-1")
    with pytest.raises(ApplicationError) as exc:
        cancellations_import(
            data=b"external_ref,reason,cancelled_on\nA-1,Price,2026-01-05\nZ-9,,\n", actor=None
        )
    assert exc.value.code == "invalid_cancellations"
    assert exc.value.detail == {"rows": ["line 3: no customer 'Z-9'"]}
    assert status_of(a) == LoyaltyStatus.ACTIVE
    result = cancellations_import(
        data=b"external_ref,reason,cancelled_on\nA-1,Price,2026-01-05\nA-1,Price,\n", actor=None
    )
    assert (result.marked, result.already_lost) == (1, 1)
    risk = CustomerRisk.objects.get(customer=a)
    assert (risk.lost_reason, risk.lost_at.date().isoformat()) == ("Price", "2026-01-05")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"name\nx\n", "invalid_csv"),
        (b"\xff\xfe", "invalid_csv"),
        (b"external_ref\nA\x00\n", "invalid_csv"),
        (b"external_ref\n", "empty_file"),
        (b"external_ref,cancelled_on\nB-1,9999-01-01\n", "invalid_cancellations"),
        (b"external_ref,cancelled_on\nB-1,yesterday\n", "invalid_cancellations"),
    ],
)
def test_cancellations_import_refuses_bad_files(data: bytes, code: str) -> None:
    CustomerFactory(external_ref="B-1")
    with pytest.raises(ApplicationError) as exc:
        cancellations_import(data=data, actor=None)
    assert exc.value.code == code
    assert not LoyaltyEvent.objects.exists()


def test_cancellations_command_marks_lost_and_reports_errors(tmp_path: Path) -> None:
    customer = CustomerFactory(external_ref="C-1")
    good = tmp_path / "good.csv"
    good.write_text("external_ref,reason\nC-1,Too expensive\n")
    out = StringIO()
    call_command("loyalty_cancellations", str(good), stdout=out)
    assert out.getvalue().strip() == "1 marked lost, 0 already lost."
    assert status_of(customer) == LoyaltyStatus.LOST
    bad = tmp_path / "bad.csv"
    bad.write_text("external_ref\nNOPE\n")
    with pytest.raises(CommandError, match="line 2: no customer 'NOPE'"):
        call_command("loyalty_cancellations", str(bad))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("loyalty_cancellations", str(tmp_path / "missing.csv"))
