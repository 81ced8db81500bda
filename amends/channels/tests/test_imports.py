from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from amends.cases.choices import CaseStatus, Channel, Outcome, StepState
from amends.cases.models import Case, CaseEvent, CaseStep
from amends.cases.search import search_candidates_sql, search_index_rebuild
from amends.channels.models import ImportRecord
from amends.core import hooks
from amends.core.testing import hook_recorded
from amends.customers.models import Customer
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CFPB_DEV = (
    Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "cfpb_complaints_dev.csv"
)
HEADER = (
    "Date received,Product,Sub-product,Issue,Sub-issue,Consumer complaint narrative,"
    "Company public response,Company,State,ZIP code,Tags,Consumer consent provided?,"
    "Submitted via,Date sent to company,Company response to consumer,Timely response?,"
    "Consumer disputed?,Complaint ID"
)


def _row(cid: str, response: str = "Closed with explanation", **kw: str) -> str:
    values = {
        "date": "2020-03-02",
        "product": "Credit card",
        "issue": "Billing dispute",
        "narrative": "They charged me twice.",
        "company": "BIG BANK",
        "sent": "2020-03-03",
        "timely": "Yes",
    }
    values.update(kw)
    return (
        f'{values["date"]},{values["product"]},,{values["issue"]},,"{values["narrative"]}",,'
        f"{values['company']},CA,90210,,Consent provided,Web,{values['sent']},{response},"
        f"{values['timely']},N/A,{cid}"
    )


def _import(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_cfpb", str(path), "--no-progress", *args, stdout=out)
    return out.getvalue()


def _write(tmp_path: Path, lines: list[str], name: str = "cfpb.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def test_import_cfpb_creates_cases_with_history_and_sla_facts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _row("1001"),
            _row("1002", "Closed with monetary relief"),
            _row("1003", "In progress", date="2023-05-01", sent="2023-05-01"),
        ],
    )
    output = _import(path)
    assert output.strip().splitlines()[-1] == "created=3 updated=0 skipped=0 rejected=0"
    closed = Case.objects.get(pk=ImportRecord.objects.get(source_id="1001").case_id)
    assert closed.channel == Channel.IMPORT
    assert closed.status == CaseStatus.CLOSED
    assert closed.outcome == Outcome.NOT_UPHELD
    assert closed.outcome_explanation == "Closed with explanation"
    assert closed.created_at.date().isoformat() == "2020-03-02"
    assert closed.resolved_at is not None
    assert closed.resolved_at <= closed.resolve_due_at  # "Timely response? Yes"
    assert closed.category is not None
    assert closed.category.name == "Billing dispute"
    assert closed.category.parent is not None
    assert closed.category.parent.name == "Credit card"
    assert closed.service is not None
    assert closed.service.name == "BIG BANK"
    assert closed.description == "They charged me twice."
    assert not closed.steps.exists()  # handled before the import: no steps to track
    assert CaseEvent.objects.get(case=closed, kind="created").data["source_id"] == "1001"
    upheld = Case.objects.get(pk=ImportRecord.objects.get(source_id="1002").case_id)
    assert upheld.outcome == Outcome.UPHELD
    open_case = Case.objects.get(pk=ImportRecord.objects.get(source_id="1003").case_id)
    assert open_case.status == CaseStatus.ACKNOWLEDGED
    assert open_case.sla_due_at is not None
    assert open_case.steps.filter(state=StepState.PENDING).exists()


def test_import_cfpb_twice_creates_nothing_the_second_time(tmp_path: Path) -> None:
    path = _write(tmp_path, [_row("1001"), _row("1002", "In progress")])
    _import(path)
    again = _import(path)
    assert again.strip().splitlines()[-1] == "created=0 updated=0 skipped=2 rejected=0"
    assert Case.objects.count() == 2
    assert CaseStep.objects.count() == 7  # the open case's; the closed one has none


def test_import_cfpb_changed_row_updates_its_case(tmp_path: Path) -> None:
    _import(_write(tmp_path, [_row("1001")]))
    changed = _write(tmp_path, [_row("1001", narrative="Charged three times, in fact.")])
    assert _import(changed).strip().endswith("created=0 updated=1 skipped=0 rejected=0")
    case = Case.objects.get()
    assert case.description == "Charged three times, in fact."
    assert CaseEvent.objects.filter(case=case, kind="updated").exists()


def test_import_cfpb_bad_rows_go_to_the_reject_file_with_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _row("1001"),
            _row("abc"),  # line 3: bad id
            _row("1003", "Lost in space"),  # line 4: unknown response
            _row("1004", date="2999-01-01"),  # line 5: future
            "2020-03-02,Credit card,too,few",  # line 6: missing columns
            _row("1006", date="02/03/2020"),  # line 7: bad date
            _row("1007"),
        ],
    )
    rejects = tmp_path / "rejects.csv"
    output = _import(path, "--rejects", str(rejects))
    assert output.strip().splitlines()[-1] == "created=2 updated=0 skipped=0 rejected=5"
    with rejects.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["line"]) for r in rows] == [3, 4, 5, 6, 7]
    assert "Complaint ID" in rows[0]["reason"]
    assert "expected 18 columns" in rows[3]["reason"]


def test_import_cfpb_wrong_header_fails_clearly_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(CommandError, match="wrong header: missing column"):
        _import(path)
    assert not Case.objects.exists()


def test_import_cfpb_wrong_encoding_and_broken_quoting_are_rejected_rows(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    good = _row("1001").encode()
    latin = _row("1002", narrative="Caf\xe9").encode("latin-1")
    broken = _row("1003", narrative='unterminated "quote').encode()
    path.write_bytes(
        b"\n".join([HEADER.encode(), good, latin, broken, _row("1004").encode()]) + b"\n"
    )
    output = _import(path, "--rejects", str(tmp_path / "r.csv"))
    summary = output.strip().splitlines()[-1]
    assert summary.startswith("created=")
    assert Case.objects.filter(pk__in=ImportRecord.objects.values("case_id")).count() >= 2
    assert "rejected=0" not in summary


def test_import_cfpb_empty_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        _import(path)


@pytest.mark.skipif(not CFPB_DEV.exists(), reason="shared CFPB dev file not present")
def test_import_cfpb_dev_file_counts_match_the_file_and_reimport_creates_none(
    tmp_path: Path,
) -> None:
    with CFPB_DEV.open(encoding="utf-8", newline="") as f:
        ids = {row["Complaint ID"] for row in csv.DictReader(f)}
    first = _import(CFPB_DEV, "--rejects", str(tmp_path / "r.csv")).strip().splitlines()[-1]
    assert first == f"created={len(ids)} updated=0 skipped=0 rejected=0"
    assert Case.objects.count() == len(ids)
    second = _import(CFPB_DEV, "--rejects", str(tmp_path / "r.csv")).strip().splitlines()[-1]
    assert second == f"created=0 updated=0 skipped={len(ids)} rejected=0"


def test_import_csv_with_a_mapping_finds_customers_by_ref(tmp_path: Path) -> None:
    customer = CustomerFactory(external_ref="acme:C-1")
    data = tmp_path / "tickets.csv"
    data.write_text(
        "Ticket;Subject;Body;Cust;Email;Opened\n"
        "T1;Late delivery;Parcel came a week late;C-1;x@example.com;2024-01-05\n"
        "T2;Broken item;Arrived broken;C-2;y@example.com;2024-01-06\n"
        "T3;;No subject;C-3;z@example.com;2024-01-07\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "source": "acme",
                "delimiter": ";",
                "columns": {
                    "source_id": "Ticket",
                    "title": "Subject",
                    "description": "Body",
                    "customer_ref": "Cust",
                    "customer_email": "Email",
                    "created_at": "Opened",
                },
            }
        ),
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("import_csv", str(data), "--mapping", str(mapping), "--no-progress", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == "created=2 updated=0 skipped=0 rejected=1"
    case = Case.objects.get(pk=ImportRecord.objects.get(source="acme", source_id="T1").case_id)
    assert case.customer == customer
    assert case.status == CaseStatus.NEW
    assert case.title == "Late delivery"


def test_import_csv_bad_mapping_fails_clearly(tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": {"title": "a", "bogus": "b"}}), encoding="utf-8")
    with pytest.raises(CommandError, match="unknown fields"):
        call_command("import_csv", str(data), "--mapping", str(mapping), stdout=io.StringIO())


def _writer_thread() -> str:
    """Where chunks are written outside a transaction: PostgreSQL has a writer thread."""
    return "import-writer-0" if connection.vendor == "postgresql" else "MainThread"


@pytest.mark.django_db(transaction=True)
def test_import_outside_a_transaction_writes_on_its_own_thread_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from amends.channels.services import imports

    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True, "IMPORT_WRITER_THREADS": 1}

    threads: list[str] = []
    real = imports._write

    def spy(*args: Any, **kwargs: Any) -> list[int]:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_write", spy)
    lines = [_row(str(1000 + n), "In progress" if n % 2 else "Closed") for n in range(7)]
    lines.insert(3, _row("abc"))  # line 5: rejected by the reader
    path = _write(tmp_path, lines)
    rejects = tmp_path / "r.csv"
    with hook_recorded(hooks.cases_opened_bulk) as announced:
        output = _import(path, "--batch", "2", "--rejects", str(rejects))
    assert output.strip().splitlines()[-1] == "created=7 updated=0 skipped=0 rejected=1"
    assert threads == [_writer_thread()] * 4  # chunks of 2, 2, 2, 1
    # each chunk announced once, after its commit, with its own cases
    assert [len(p.case_ids) for p in announced] == [2, 2, 2, 1]
    assert sorted(pk for p in announced for pk in p.case_ids) == sorted(
        Case.objects.values_list("pk", flat=True)
    )
    assert Case.objects.count() == 7
    assert CaseStep.objects.count() == 3 * 7  # the three open cases'
    assert ImportRecord.objects.count() == 7
    assert "Complaint ID" in rejects.read_text(encoding="utf-8")
    again = _import(path, "--batch", "2", "--rejects", str(rejects))
    assert again.strip().splitlines()[-1] == "created=0 updated=0 skipped=7 rejected=1"


def _fail_on_write(monkeypatch: pytest.MonkeyPatch, nth: int) -> list[str]:
    """Make the nth chunk's write fail; the names of the threads that wrote, in order."""
    from amends.channels.services import imports

    real = imports._write
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> list[int]:
        calls.append(threading.current_thread().name)
        if len(calls) == nth:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_write", failing)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_failure_on_the_writer_thread_reaches_the_caller_and_stops_the_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True, "IMPORT_WRITER_THREADS": 1}

    calls = _fail_on_write(monkeypatch, 2)
    path = _write(tmp_path, [_row(str(1000 + n)) for n in range(20)])
    with (
        hook_recorded(hooks.cases_opened_bulk) as announced,
        pytest.raises(RuntimeError, match="went away"),
    ):
        _import(path, "--batch", "2")
    assert Case.objects.count() == 2  # the first chunk, committed before the failure
    assert [len(p.case_ids) for p in announced] == [2]  # and announced
    assert calls == [_writer_thread()] * 2  # nothing written after it
    assert not CaseEvent.objects.exclude(case__in=Case.objects.all()).exists()
    # Importing again finishes the job (the customers of the failed chunk are reused).
    output = _import(path, "--batch", "2")
    assert output.strip().splitlines()[-1] == "created=18 updated=0 skipped=2 rejected=0"
    assert Customer.objects.filter(external_ref__startswith="cfpb:").count() == 20


@pytest.mark.django_db(transaction=True)
def test_two_writers_write_chunks_at_once_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    from amends.channels.services import imports

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes on the importing thread")
    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True, "IMPORT_WRITER_THREADS": 2}
    real = imports._write
    together = threading.Barrier(2, timeout=10)  # broken unless two chunks are written at once
    threads: list[str] = []

    def spy(*args: Any, **kwargs: Any) -> list[int]:
        name = threading.current_thread().name
        if len(threads) < 2:
            threads.append(name)
            together.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "_write", spy)
    path = _write(
        tmp_path, [_row(str(1000 + n), "In progress" if n % 2 else "Closed") for n in range(9)]
    )
    with hook_recorded(hooks.cases_opened_bulk) as announced:
        output = _import(path, "--batch", "2")
    assert output.strip().splitlines()[-1] == "created=9 updated=0 skipped=0 rejected=0"
    assert sorted(threads) == ["import-writer-0", "import-writer-1"]
    assert sorted(len(p.case_ids) for p in announced) == [1, 2, 2, 2, 2]
    assert sorted(pk for p in announced for pk in p.case_ids) == sorted(
        Case.objects.values_list("pk", flat=True)
    )
    assert CaseStep.objects.count() == 4 * 7  # the four open cases'
    assert ImportRecord.objects.count() == 9
    again = _import(path, "--batch", "2")
    assert again.strip().splitlines()[-1] == "created=0 updated=0 skipped=9 rejected=0"


@pytest.mark.django_db(transaction=True)
def test_a_failure_on_one_of_two_writers_stops_the_import_and_nothing_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True, "IMPORT_WRITER_THREADS": 2}
    _fail_on_write(monkeypatch, 3)
    path = _write(tmp_path, [_row(str(1000 + n)) for n in range(20)])
    with (
        hook_recorded(hooks.cases_opened_bulk) as announced,
        pytest.raises(RuntimeError, match="went away"),
    ):
        _import(path, "--batch", "2")
    written = Case.objects.count()
    assert written < 20
    assert sum(len(p.case_ids) for p in announced) == written  # every committed chunk announced
    assert ImportRecord.objects.count() == written
    assert not CaseEvent.objects.exclude(case__in=Case.objects.all()).exists()
    output = _import(path, "--batch", "2")
    assert output.strip().splitlines()[-1] == (
        f"created={20 - written} updated=0 skipped={written} rejected=0"
    )
    assert Case.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_an_id_seen_again_in_a_later_chunk_is_skipped_or_updated_like_a_reimport(
    tmp_path: Path, settings: Any
) -> None:
    # The writer may still be writing the first chunk when the later one is read: the later
    # one waits for it, so the id is found imported (never a second case, never a failure).
    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True}
    lines = [
        _row("1001"),
        _row("1002"),
        _row("1003"),
        _row("1001"),  # the same content: skipped
        _row("1002", narrative="Charged three times."),  # new content: its case updated
    ]
    output = _import(_write(tmp_path, lines), "--batch", "3")
    assert output.strip().splitlines()[-1] == "created=3 updated=1 skipped=1 rejected=0"
    assert Case.objects.count() == 3
    record = ImportRecord.objects.get(source_id="1002")
    assert Case.objects.get(pk=record.case_id).description == "Charged three times."


def _search_rows(ids: list[int]) -> list[tuple[Any, ...]]:
    """The search index rows of these cases (a flush between tests leaves the unmanaged index
    table's rows of earlier tests behind)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT rowid, document::text FROM cases_casesearch"
                " WHERE rowid = ANY(%s) ORDER BY rowid",
                [ids],
            )
        else:
            cursor.execute(
                "SELECT rowid, ref, title, customer, document FROM cases_casesearch"
                " WHERE rowid IN (SELECT value FROM json_each(%s)) ORDER BY rowid",
                [json.dumps(ids)],
            )
        return list(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_imported_cases_are_indexed_for_search_as_any_case(tmp_path: Path, settings: Any) -> None:
    # Written by COPY (on PostgreSQL from the writer thread): the search index rows are the
    # ones a rebuild from the cases and customers makes (the tsvector; FTS5's columns).
    settings.AMENDS = {**settings.AMENDS, "IMPORT_WRITER_THREAD": True}
    lines = [
        _row("2001", narrative="The router (model X-200) died; call 555-0100."),
        _row("2002", narrative="Überweisung doppelt gebucht — zwei Mal!", product="Bank account"),
        _row("2003", narrative=""),
    ]
    _import(_write(tmp_path, lines), "--batch", "2")
    ids = sorted(Case.objects.values_list("pk", flat=True))
    imported = _search_rows(ids)
    assert [row[0] for row in imported] == ids
    search_index_rebuild(connection)
    assert _search_rows(ids) == imported
    with connection.cursor() as cursor:
        cursor.execute(*search_candidates_sql(connection.vendor, "gebucht router"))
        assert cursor.fetchall() == []
        cursor.execute(*search_candidates_sql(connection.vendor, "doppelt"))
        found = [row[0] for row in cursor.fetchall()]
    assert found == [ImportRecord.objects.get(source_id="2002").case_id]


def test_statistics_are_refreshed_as_the_import_doubles_but_not_after_its_last_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from amends.channels.services import imports

    refreshed: list[int] = []
    monkeypatch.setattr(
        imports, "_statistics_refresh", lambda: refreshed.append(Case.objects.count())
    )
    path = _write(tmp_path, [_row(str(1000 + n)) for n in range(7)])
    output = _import(path, "--batch", "2")
    assert output.strip().splitlines()[-1] == "created=7 updated=0 skipped=0 rejected=0"
    # chunks of 2, 2, 2 and 1: after the first and the second; the fourth is the last
    assert len(refreshed) == 2


def test_the_importing_connection_commits_without_waiting_and_checkpoints_less_often() -> None:
    from amends.channels.services.imports import IMPORT_WAL_PAGES, connection_tune_for_import

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_autocheckpoint")
            before = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint=1000")  # SQLite's default
            try:
                connection_tune_for_import()
                cursor.execute("PRAGMA wal_autocheckpoint")
                assert cursor.fetchone()[0] == IMPORT_WAL_PAGES != 1000
                cursor.execute("PRAGMA cache_size")
                assert cursor.fetchone()[0] == -32000
            finally:
                cursor.execute(f"PRAGMA wal_autocheckpoint={before}")
                cursor.execute(f"PRAGMA cache_size={cache}")
        else:
            cursor.execute("SHOW synchronous_commit")
            before = cursor.fetchone()[0]
            cursor.execute("SET synchronous_commit TO on")
            try:
                connection_tune_for_import()
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "off"
            finally:
                cursor.execute(f"SET synchronous_commit TO {before}")
