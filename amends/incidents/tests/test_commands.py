from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from amends.incidents.models import Impact
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import customers_make

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("incident_affected", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_incident_affected_streams_a_csv_in_batches_and_reports_rejects(
    ops: Ops, tmp_path: Path
) -> None:
    customers_make(30)
    lines = ["external_ref,email,distance_km,intra_eu,magnitude"]
    lines += [f"P-{i},p{i}@example.com,{800 + i},true," for i in range(30)]
    lines += ["GHOST-1,,800,true,", "P-2,bad-address,800,true,", "P-3,,800,true,-5"]
    path = tmp_path / "affected.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    out, err = _run(
        str(ops.incident.pk), str(path), "--as", "ana", "--batch", "7", "--rejects", str(rejects)
    )
    assert out.strip().splitlines()[-1] == "added=30 already=0 rejected=3"
    assert "line 32: 'GHOST-1'" in err
    assert rejects.read_text().count("\n") == 4  # header and three rows
    impact = Impact.objects.get(incident=ops.incident, customer__external_ref="P-5")
    assert impact.inputs["distance_km"] == 805
    assert impact.inputs["intra_eu"] is True
    # The same file again adds nothing.
    out, _ = _run(f"INC-{ops.incident.pk:05d}", str(path), "--as", "ana")
    assert out.strip().splitlines()[-1] == "added=0 already=30 rejected=3"
    assert Impact.objects.filter(incident=ops.incident).count() == 30


def test_incident_affected_needs_a_reference_column(ops: Ops, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("who,email\nx,y\n", encoding="utf-8")
    with pytest.raises(CommandError, match="customer reference column"):
        _run(str(ops.incident.pk), str(path), "--as", "ana")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999999", "x.csv", "--as", "ana"], "No incident"),
        (["abc", "x.csv", "--as", "ana"], "not an incident id"),
        (["1", "x.csv", "--as", "nobody"], "No active staff member"),
    ],
)
def test_incident_affected_refuses_bad_arguments(ops: Ops, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_incident_affected_refused_to_agents(ops: Ops, tmp_path: Path) -> None:
    customers_make(1)
    path = tmp_path / "a.csv"
    path.write_text("external_ref\nP-0\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Only supervisors"):
        _run(str(ops.incident.pk), str(path), "--as", "alex")
    assert not Impact.objects.exists()
