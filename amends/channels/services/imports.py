"""CSV imports: the CFPB complaint export and any CSV with a column mapping.

Streaming with bounded memory: rows are read one at a time and written in batches, each batch's
cases one transaction through the bulk cases service. On PostgreSQL, outside a caller's
transaction, the batches' cases are written on a thread of their own (its own database
connection) while the next rows are read and prepared, so the server's work overlaps the
importer's (see `_Writer`). Idempotent by (source, source id): a row seen before with the same
content is skipped, with new content it updates the case. A bad row is written to the reject
file with its line number and the reason, and the good rows go on.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import operator
import queue
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.db import connection, reset_queries, transaction
from django.utils import timezone

from amends.cases.choices import CaseStatus, Channel, Outcome
from amends.cases.models import Case
from amends.cases.services.batch import (
    NewCase,
    PreparedCases,
    cases_opened_bulk_announce,
    cases_prepare_many,
    cases_write_prepared,
    new_case_check,
)
from amends.cases.services.bulk import case_update_bulk
from amends.channels.models import ImportRecord
from amends.core.bulk import insert_rows_fast
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError
from amends.core.rows import db_datetime_text, select_in, update_rows
from amends.customers.models import Customer
from amends.customers.services import customer_keys_get_or_create
from amends.taxonomy.models import Category, Service
from amends.taxonomy.services import categories_ensure, category_ensure, services_ensure

BATCH = 2000
NOT_DECODED = re.compile("[\udc80-\udcff]")  # bytes surrogateescape could not decode
MAX_FIELD = 1_000_000  # a broken quote swallows lines; past this a row is rejected

CFPB_COLUMNS = (
    "Date received",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Company public response",
    "Company",
    "State",
    "ZIP code",
    "Tags",
    "Consumer consent provided?",
    "Submitted via",
    "Date sent to company",
    "Company response to consumer",
    "Timely response?",
    "Consumer disputed?",
    "Complaint ID",
)

_CFPB_VALUES = operator.itemgetter(*CFPB_COLUMNS)  # the fingerprinted values, in order

CFPB_RESPONSES: dict[str, tuple[str, str]] = {
    "in progress": (CaseStatus.ACKNOWLEDGED, ""),
    "closed with monetary relief": (CaseStatus.CLOSED, Outcome.UPHELD),
    "closed with relief": (CaseStatus.CLOSED, Outcome.UPHELD),
    "closed with non-monetary relief": (CaseStatus.CLOSED, Outcome.PARTLY_UPHELD),
    "closed with explanation": (CaseStatus.CLOSED, Outcome.NOT_UPHELD),
    "closed without relief": (CaseStatus.CLOSED, Outcome.NOT_UPHELD),
    "closed": (CaseStatus.CLOSED, Outcome.NOT_UPHELD),
    "untimely response": (CaseStatus.CLOSED, Outcome.NOT_UPHELD),
}

GENERIC_FIELDS = {
    "source_id",
    "title",
    "description",
    "expected",
    "delivered",
    "customer_ref",
    "customer_name",
    "customer_email",
    "category",
    "subcategory",
    "service",
    "created_at",
    "severity",
}


class ImportHeaderError(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="invalid_import", status=422)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    rows: int = 0

    @property
    def line(self) -> str:
        return (
            f"created={self.created} updated={self.updated} "
            f"skipped={self.skipped} rejected={self.rejected}"
        )


@dataclass
class Row:
    line: int
    source_id: str
    fingerprint: str
    customer_ref: str
    customer: dict[str, str]
    spec: dict[str, Any]
    category: tuple[str, str] | None = None
    service: str = ""
    update_fields: dict[str, Any] = field(default_factory=dict)


class RowError(Exception):
    pass


class CountingReader(io.RawIOBase):
    """Counts the bytes read, for a progress bar that needs no second pass over the file."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


# ---- mappings -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _parse_date(value: str, fmt: str) -> datetime:
    """Imports repeat the same few thousand dates: each is parsed once."""
    parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 - made aware just below
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if fmt == "%Y-%m-%d":
        parsed += timedelta(hours=12)  # a day without a time: midday, so no time zone moves it
    return parsed


def _date(value: str, fmt: str = "%Y-%m-%d") -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = _parse_date(value, fmt)
    except ValueError as exc:
        raise RowError(f"bad date {value[:40]!r} (expected {fmt})") from exc
    if parsed > datetime.now(UTC):
        raise RowError(f"date {value[:40]!r} is in the future")
    if parsed.year < 1970:
        raise RowError(f"date {value[:40]!r} is too old")
    return parsed


def _fingerprint(values: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(values).encode("utf-8", "surrogateescape")).hexdigest()


def _text(value: str, limit: int) -> str:
    return value.replace("\x00", "").strip()[:limit]


def cfpb_row(line: int, row: dict[str, str]) -> Row:
    source_id = row["Complaint ID"].strip()
    if not source_id.isdigit() or len(source_id) > 20:
        raise RowError(f"bad Complaint ID {source_id[:30]!r}")
    received = _date(row["Date received"])
    if received is None:
        raise RowError("no Date received")
    sent = _date(row["Date sent to company"]) or received
    response = row["Company response to consumer"].strip()
    mapped = CFPB_RESPONSES.get(response.lower())
    if mapped is None:
        raise RowError(f"unknown company response {response[:60]!r}")
    status, outcome = mapped
    timely = row["Timely response?"].strip().lower()
    if timely not in ("yes", "no", ""):
        raise RowError(f"Timely response? must be Yes or No, not {timely[:20]!r}")
    resolved = sent if timely != "no" else received + timedelta(days=16)
    resolved = min(max(resolved, received), timezone.now())
    issue = _text(row["Issue"], 100) or "Other"
    sub_issue = _text(row["Sub-issue"], 100)
    product = _text(row["Product"], 100) or "Other"
    narrative = _text(row["Consumer complaint narrative"], 50_000)
    company = _text(row["Company"], 100)
    title = f"{issue} — {sub_issue}" if sub_issue else issue
    state = _text(row["State"], 10)
    spec = {
        "title": title,
        "description": narrative or f"{product}: {title}",
        "delivered": _text(row["Sub-product"], 200),
        "channel": Channel.IMPORT,
        "created_at": received,
        "status": status,
        "acknowledged_at": max(sent, received),
        "resolved_at": resolved if status == CaseStatus.CLOSED else None,
        "closed_at": resolved if status == CaseStatus.CLOSED else None,
        "outcome": outcome,
        "outcome_explanation": response if outcome == Outcome.NOT_UPHELD else "",
        "event_data": {
            "import": "cfpb",
            "source_id": source_id,
            "company_response": response,
            "timely_response": row["Timely response?"].strip(),
            "submitted_via": _text(row["Submitted via"], 40),
            "state": state,
        },
    }
    values = _CFPB_VALUES(row)
    return Row(
        line=line,
        source_id=source_id,
        fingerprint=_fingerprint(values),
        customer_ref=f"cfpb:{source_id}",
        customer={"name": f"CFPB consumer {source_id}" + (f" ({state})" if state else "")},
        spec=spec,
        category=(product, issue),
        service=company,
        update_fields={"title": title[:200], "description": spec["description"]},
    )


@dataclass(frozen=True)
class Mapping:
    source: str
    columns: dict[str, str]  # our field -> their column
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    encoding: str = "utf-8"

    @classmethod
    def load(cls, path: Path) -> Mapping:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ImportHeaderError(f"cannot read the mapping {path}: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise ImportHeaderError('the mapping needs {"source": ..., "columns": {...}}')
        columns = {str(k): str(v) for k, v in data["columns"].items()}
        unknown = set(columns) - GENERIC_FIELDS
        if unknown:
            raise ImportHeaderError(f"unknown fields in the mapping: {', '.join(sorted(unknown))}")
        for needed in ("source_id", "title"):
            if needed not in columns:
                raise ImportHeaderError(f"the mapping must name a column for {needed!r}")
        source = str(data.get("source") or "csv").strip()[:30]
        delimiter = str(data.get("delimiter") or ",")
        if len(delimiter) != 1:
            raise ImportHeaderError("the delimiter must be one character")
        return cls(
            source=source,
            columns=columns,
            date_format=str(data.get("date_format") or "%Y-%m-%d"),
            delimiter=delimiter,
            encoding=str(data.get("encoding") or "utf-8"),
        )

    def row(self, line: int, row: dict[str, str]) -> Row:
        def get(name: str, limit: int) -> str:
            column = self.columns.get(name)
            return _text(row.get(column, "") or "", limit) if column else ""

        source_id = get("source_id", 100)
        if not source_id:
            raise RowError("no source id")
        title = get("title", 200)
        if not title:
            raise RowError("no title")
        email = get("customer_email", 254).lower()
        ref = get("customer_ref", 90)
        customer_ref = (
            f"{self.source}:{ref}"
            if ref
            else (f"{self.source}:email:{email}" if email else f"{self.source}:row:{source_id}")
        )
        severity_text = get("severity", 5) or "3"
        if severity_text not in ("1", "2", "3", "4"):
            raise RowError(f"severity must be 1-4, not {severity_text!r}")
        if email and "@" not in email:
            raise RowError(f"bad email {email[:60]!r}")
        category = get("category", 100)
        subcategory = get("subcategory", 100)
        spec = {
            "title": title,
            "description": get("description", 50_000),
            "expected": get("expected", 5000),
            "delivered": get("delivered", 5000),
            "channel": Channel.IMPORT,
            "severity": int(severity_text),
            "created_at": _date(get("created_at", 40), self.date_format),
            "event_data": {"import": self.source, "source_id": source_id},
        }
        values = [row.get(c, "") or "" for c in sorted(set(self.columns.values()))]
        return Row(
            line=line,
            source_id=source_id,
            fingerprint=_fingerprint(values),
            customer_ref=customer_ref,
            customer={"name": get("customer_name", 200) or email or customer_ref, "email": email},
            spec=spec,
            category=(category, subcategory) if category else None,
            service=get("service", 100),
            update_fields={"title": title, "description": spec["description"]},
        )


# ---- the engine -----------------------------------------------------------------------------


class Taxonomy:
    """Categories and services by name, created on first sight, cached for the run."""

    def __init__(self) -> None:
        self.categories: dict[tuple[str, str], Category] = {}
        self.parents: dict[str, Category] = {
            c.name: c for c in Category.objects.filter(parent__isnull=True)
        }
        self.services: dict[str, int] = dict(Service.objects.values_list("name", "pk"))

    def categories_ensure(self, pairs: set[tuple[str, str] | None]) -> None:
        """Create the categories of a chunk not seen yet (taxonomy.services, set-based)."""
        wanted = {p for p in pairs if p is not None and p not in self.categories}
        if wanted:
            self.categories.update(categories_ensure(wanted=wanted, parents=self.parents))

    def category(self, names: tuple[str, str] | None) -> Category | None:
        if names is None:
            return None
        parent_name, child_name = names
        if (parent_name, child_name) in self.categories:
            return self.categories[(parent_name, child_name)]
        category = category_ensure(
            parent_name=parent_name, child_name=child_name, parent=self.parents.get(parent_name)
        )
        self.parents.setdefault(parent_name, category.parent or category)
        self.categories[(parent_name, child_name)] = category
        return category

    def services_ensure(self, names: set[str]) -> None:
        """Create the services of a chunk not seen yet, in one INSERT."""
        self.services.update(services_ensure(names=names - set(self.services)))

    def service(self, name: str) -> int | None:
        if not name:
            return None
        if name not in self.services:
            self.services_ensure({name})
        return self.services[name]


class Rejects:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, line: int, reason: str, raw: list[str] | None) -> None:
        """Rows are rejected on the importing thread only (the writer thread rejects none)."""
        if self.path is None:
            return
        self._add(self.path, line, reason, raw)

    def _add(self, path: Path, line: int, reason: str, raw: list[str] | None) -> None:
        if self._writer is None:
            self._file = path.open("w", encoding="utf-8", errors="replace", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", "row"])
        row = json.dumps(raw, ensure_ascii=False)[:10_000] if raw is not None else ""
        self._writer.writerow([line, reason[:500], row])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _classify(
    rows: list[Row], source: str, summary: ImportSummary
) -> tuple[list[Row], list[tuple[Row, int, int]]]:
    """The chunk's rows not imported before, and those imported before with other content
    (row, import record id, case id), in one query; the rest counted as skipped."""
    existing = {
        source_id: (pk, case_id, fingerprint)
        for pk, source_id, case_id, fingerprint in select_in(
            model=ImportRecord,
            columns=["id", "source_id", "case_id", "fingerprint"],
            key="source_id",
            values=[row.source_id for row in rows],
            where="source = %s",
            params=[source],
        )
    }
    new: list[Row] = []
    changed: list[tuple[Row, int, int]] = []  # (row, import record id, case id)
    seen: set[str] = set()
    for row in rows:
        if row.source_id in seen:
            summary.skipped += 1  # the same id twice in the file: the first one counts
            continue
        seen.add(row.source_id)
        record = existing.get(row.source_id)
        if record is None:
            new.append(row)
        elif record[2] == row.fingerprint:
            summary.skipped += 1
        else:
            changed.append((row, record[0], record[1]))
    return new, changed


@dataclass
class _Chunk:
    """The new cases of a chunk, prepared (`_prepare`) and waiting to be written (`_write`)."""

    prepared: PreparedCases
    kept: list[Row]
    now: datetime


def _prepare(
    new: list[Row], taxonomy: Taxonomy, summary: ImportSummary, rejects: Rejects, now: datetime
) -> _Chunk:
    """The customers of the chunk's new rows (found or created: the caller holds the
    transaction) and the new cases, checked and prepared (cases.services.batch)."""
    customers = customer_keys_get_or_create(
        defaults_by_ref={row.customer_ref: row.customer for row in new}
    )
    specs: list[NewCase] = []
    kept: list[Row] = []
    for row in new:
        spec = NewCase(
            customer=customers[row.customer_ref],
            category=taxonomy.category(row.category),
            service_id=taxonomy.service(row.service),
            **row.spec,
        )
        problem = new_case_check(spec, now=now)
        if problem:
            rejects.add(row.line, problem, None)
            summary.rejected += 1
            continue
        specs.append(spec)
        kept.append(row)
    return _Chunk(cases_prepare_many(specs=specs), kept, now)


def _write(chunk: _Chunk, source: str) -> list[int]:
    """Write a prepared chunk (the caller holds the transaction): the cases, then their import
    records. Returns the new cases' ids."""
    case_ids = cases_write_prepared(chunk.prepared)
    imported_at = db_datetime_text(chunk.now)
    records = [
        (source, row.source_id, case_id, row.fingerprint, imported_at)
        for row, case_id in zip(chunk.kept, case_ids, strict=True)
    ]
    columns = ["source", "source_id", "case_id", "fingerprint", "imported_at"]
    insert_rows_fast(model=ImportRecord, columns=columns, rows=records)
    return case_ids


def _update_changed(
    changed: list[tuple[Row, int, int]], source: str, taxonomy: Taxonomy, now: datetime
) -> int:
    """The cases of rows imported before with other content, updated (the caller holds the
    transaction); returns how many."""
    by_id = Case.objects.in_bulk([case_id for _, _, case_id in changed])
    to_update: list[Case] = []
    for row, _, case_id in changed:
        case = by_id.get(case_id)
        if case is None:
            continue
        for name, value in row.update_fields.items():
            setattr(case, name, value)
        case.category = taxonomy.category(row.category)
        case.service_id = taxonomy.service(row.service)
        to_update.append(case)
    case_update_bulk(
        cases=to_update,
        fields=[*changed[0][0].update_fields, "category", "service"],
        actor=None,
        source=source,
    )
    imported_at = db_datetime_text(now)
    update_rows(
        model=ImportRecord,
        columns=["fingerprint", "imported_at"],
        rows=[(row.fingerprint, imported_at, pk) for row, pk, _ in changed],
    )
    return len(to_update)


def _ensure_taxonomy(taxonomy: Taxonomy, fresh: list[Row]) -> None:
    taxonomy.services_ensure({row.service for row in fresh})
    taxonomy.categories_ensure({row.category for row in fresh})


def _batch_write(
    rows: list[Row], source: str, taxonomy: Taxonomy, summary: ImportSummary, rejects: Rejects
) -> None:
    """One chunk, set-based, one transaction: one query for what was imported before, one for
    the customers, a few statements for the new cases (cases.services.batch) and their import
    records, and the changed ones updated."""
    new, changed = _classify(rows, source, summary)
    _write_classified(new, changed, source, taxonomy, summary, rejects)


def _write_classified(
    new: list[Row],
    changed: list[tuple[Row, int, int]],
    source: str,
    taxonomy: Taxonomy,
    summary: ImportSummary,
    rejects: Rejects,
) -> None:
    _ensure_taxonomy(taxonomy, [*new, *(row for row, _, _ in changed)])
    now = timezone.now()
    with transaction.atomic():
        _commit_without_waiting()
        chunk = _prepare(new, taxonomy, summary, rejects, now)
        case_ids = _write(chunk, source)
        cases_opened_bulk_announce(chunk.prepared, case_ids)
        summary.created += len(case_ids)
        if changed:
            summary.updated += _update_changed(changed, source, taxonomy, now)


def _commit_without_waiting() -> None:
    """PostgreSQL: this chunk's commit does not wait for its WAL to reach the disk. A crash
    can lose the last chunks committed (never part of one: the database stays consistent);
    importing the file again redoes them, since the import is idempotent by source id."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _statistics_refresh() -> None:
    """PostgreSQL: fresh planner statistics for the tables an import grows. Each chunk looks
    its source ids and customers up by a list of 2,000 values; planned on statistics from an
    emptier table (or none: a new database, or autovacuum off or behind), those lookups read
    the whole table, a cost that grows with every chunk (400,000 rows: 9.1 s of server CPU
    for the two lookups; 1.9 s, plus 1.4 s for five ANALYZEs of four tables, with the
    statistics refreshed). Refreshed each time the import has doubled (after 1, 2, 4, …
    chunks), nine times for a million rows; each ANALYZE reads a sample, not the table (0.2 s
    each of these two tables at 400,000 rows)."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table)
        for model in (Customer, ImportRecord)  # the two looked up by a list of values
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# Pages the write-ahead log may hold before the importing connection checkpoints it (about
# 80 MB on disk; SQLite's default is 1,000). Bounded, so a million-row import's log stays small.
IMPORT_WAL_PAGES = 20_000


def connection_tune_for_import() -> None:
    """The importing connection's session settings. PostgreSQL: commits do not wait for the
    disk (as `_commit_without_waiting`, also for the hook subscribers' own transactions after
    each chunk). SQLite: the settings map up to 256 MB of the database file into the process
    and keep a 64 MB page cache; touched pages count as the importer's memory and grow with the
    database, so a long import reads through a 32 MB page cache instead and its memory stays
    flat. SQLite also checkpoints its write-ahead log less often (`IMPORT_WAL_PAGES`): at the
    default 1,000 pages each chunk's commit copied the same index pages back into the database
    file again (the dev file: 0.29 s in commits, 0.11 s with fewer checkpoints)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET synchronous_commit TO OFF")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA mmap_size=0")
            cursor.execute("PRAGMA cache_size=-32000")
            cursor.execute(f"PRAGMA wal_autocheckpoint={IMPORT_WAL_PAGES}")


class _Writer:
    """PostgreSQL: writes prepared chunks on threads of their own (each with its own
    connection) while the caller reads, maps and prepares the next ones. The caller does all
    of the Python work (the file, the customers, the cases' rows and events, and the hook's
    subscribers once a chunk is committed); these threads only send what is ready and wait for
    the server (COPY, the search index, the steps, the commit's foreign-key checks), so the
    server's work overlaps the caller's, and with two of them the server's own work runs on
    two backends at once. Each chunk is its own transaction; chunks never share a source id
    (the caller waits for a chunk still in flight) nor a new row. At most one chunk waits in
    the queue besides those being written: memory stays bounded. The first error stops the
    writing (the chunks after it are not written) and is raised to the caller."""

    def __init__(self, source: str, threads: int = 1) -> None:
        self.source = source
        self.error: BaseException | None = None
        self.in_flight: set[str] = set()  # source ids of chunks queued but not yet committed
        self._queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=1)
        self._done: queue.Queue[tuple[_Chunk, list[int]] | None] = queue.Queue()
        self._pending = 0
        self._threads = [
            threading.Thread(target=self._run, name=f"import-writer-{n}", daemon=True)
            for n in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def _run(self) -> None:
        try:
            connection_tune_for_import()
            while (chunk := self._queue.get()) is not None:
                if self.error is not None:  # another writer failed: write no more
                    continue
                with transaction.atomic():
                    case_ids = _write(chunk, self.source)
                self._done.put((chunk, case_ids))
                reset_queries()  # with DEBUG on, Django keeps every statement
        except BaseException as exc:  # handed to the caller's thread
            if self.error is None:
                self.error = exc
            self._done.put(None)
            while self._queue.get() is not None:  # let the caller put and finish
                pass
        finally:
            connection.close()  # this thread's own connection

    def put(self, chunk: _Chunk) -> None:
        self._raise()
        self.in_flight.update(row.source_id for row in chunk.kept)
        self._pending += 1
        self._queue.put(chunk)

    def collect(self, summary: ImportSummary, *, wait: bool = False) -> None:
        """Announce the chunks committed so far (`cases_opened_bulk`, on the caller's thread:
        its subscribers' Python overlaps the next chunk's writing); with `wait`, all of them."""
        while self._pending:
            try:
                done = self._done.get(block=wait)
            except queue.Empty:
                return
            if done is None:  # the writer failed
                self._pending = 0
                self._raise()
                return
            self._pending -= 1
            chunk, case_ids = done
            self.in_flight.difference_update(row.source_id for row in chunk.kept)
            summary.created += len(case_ids)
            cases_opened_bulk_announce(chunk.prepared, case_ids)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def finish(self, summary: ImportSummary) -> None:
        """Stop the thread; the chunks it committed are announced even when the caller is
        leaving on an error of its own."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        while not self._done.empty():
            done = self._done.get()
            if done is not None:
                chunk, case_ids = done
                summary.created += len(case_ids)
                cases_opened_bulk_announce(chunk.prepared, case_ids)
        self._pending = 0


def _pipelined_write(
    rows: list[Row],
    writer: _Writer,
    taxonomy: Taxonomy,
    summary: ImportSummary,
    rejects: Rejects,
) -> None:
    """One chunk through the writer thread: what was imported before and the customers are
    read and written here (the customers commit before their cases), the cases prepared here
    and written there. A chunk with rows imported before under other content, or with a
    source id still being written, waits for the writer and is written here."""
    writer.collect(summary)
    if writer.in_flight.intersection(row.source_id for row in rows):
        writer.collect(summary, wait=True)  # let them commit, so they are seen below
    new, changed = _classify(rows, writer.source, summary)
    if changed:
        writer.collect(summary, wait=True)
        _write_classified(new, changed, writer.source, taxonomy, summary, rejects)
        return
    _ensure_taxonomy(taxonomy, new)
    now = timezone.now()
    with transaction.atomic():
        _commit_without_waiting()
        chunk = _prepare(new, taxonomy, summary, rejects, now)
    if chunk.kept:
        writer.put(chunk)


def _reader(stream: IO[str], delimiter: str) -> Iterator[tuple[int, list[str] | None, str]]:
    """(line, fields, error) for each record; a record the csv module refuses is an error."""
    reader = csv.reader(stream, delimiter=delimiter, strict=False)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"unreadable CSV: {exc}"
            continue
        yield start, fields, ""


def import_rows(
    *,
    raw: IO[bytes],
    source: str,
    row_of: Callable[[int, dict[str, str]], Row],
    required: tuple[str, ...],
    rejects: Rejects,
    encoding: str = "utf-8",
    delimiter: str = ",",
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    threaded: bool | None = None,
) -> ImportSummary:
    """`threaded`: on PostgreSQL, write the cases on a thread of their own (`_Writer`); by
    default when the setting IMPORT_WRITER_THREAD is on (it is unless turned off) and the
    caller holds no transaction (the chunks must commit on their own, so not inside the
    caller's)."""
    csv.field_size_limit(MAX_FIELD)
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ImportHeaderError(f"unknown encoding {encoding!r}") from exc
    counter = CountingReader(raw)
    stream = io.TextIOWrapper(
        io.BufferedReader(counter, buffer_size=1 << 20),
        encoding=encoding,
        errors="surrogateescape",
        newline="",
    )
    records = _reader(stream, delimiter)
    try:
        first = next(records)
    except StopIteration as exc:
        raise ImportHeaderError("the file is empty") from exc
    except (UnicodeDecodeError, LookupError) as exc:
        raise ImportHeaderError(f"cannot read the file as {encoding}: {exc}") from exc
    header = [h.strip().lstrip("\ufeff") for h in (first[1] or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportHeaderError(
            f"wrong header: missing column(s) {', '.join(missing)}; found {', '.join(header)[:300]}"
        )
    summary = ImportSummary()
    if threaded is None:
        threaded = bool(amends_setting("IMPORT_WRITER_THREAD", False)) and (
            not connection.in_atomic_block
        )
    threaded = threaded and connection.vendor == "postgresql"
    writer = (
        _Writer(source, threads=int(amends_setting("IMPORT_WRITER_THREADS", 2)))
        if threaded
        else None
    )
    taxonomy = Taxonomy()
    chunks = 0

    def write(rows: list[Row], last: bool = False) -> bool:
        nonlocal chunks
        if writer is not None:
            _pipelined_write(rows, writer, taxonomy, summary, rejects)
        else:
            _batch_write(rows, source, taxonomy, summary, rejects)
        reset_queries()  # with DEBUG on, Django keeps every statement: memory stays flat
        chunks += 1
        # 1, 2, 4, 8, … chunks: the tables have doubled; not after the last (no lookup follows)
        if not last and chunks & (chunks - 1) == 0:
            _statistics_refresh()
        return True

    try:
        _read_into(
            records, header, row_of, rejects, encoding, batch, summary, write, progress, counter
        )
        if writer is not None:
            writer.collect(summary, wait=True)
    finally:
        if writer is not None:
            writer.finish(summary)
    return summary


def _read_into(
    records: Iterator[tuple[int, list[str] | None, str]],
    header: list[str],
    row_of: Callable[[int, dict[str, str]], Row],
    rejects: Rejects,
    encoding: str,
    batch: int,
    summary: ImportSummary,
    write: Callable[[list[Row], bool], bool],
    progress: Callable[[int], None] | None,
    counter: CountingReader,
) -> None:
    pending: list[Row] = []
    width = len(header)
    for line, fields, error in records:
        summary.rows += 1
        if fields is None:
            rejects.add(line, error, None)
            summary.rejected += 1
            continue
        joined = "".join(fields)
        if not joined.strip():
            summary.rows -= 1  # a blank line is not a row
            continue
        if len(fields) != width:
            rejects.add(line, f"expected {width} columns, found {len(fields)}", fields)
            summary.rejected += 1
            continue
        if NOT_DECODED.search(joined):
            rejects.add(line, f"not valid {encoding}", fields)
            summary.rejected += 1
            continue
        try:
            row = row_of(line, dict(zip(header, fields, strict=True)))
        except RowError as exc:
            rejects.add(line, str(exc), fields)
            summary.rejected += 1
            continue
        pending.append(row)
        if len(pending) >= batch:
            if not write(pending, False):
                return  # the writer failed: its error is raised by the caller
            pending = []
            if progress is not None:
                progress(counter.count)
    if pending:
        write(pending, True)
    if progress is not None:
        progress(counter.count)


def cfpb_import(
    *,
    raw: IO[bytes],
    rejects: Rejects,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ImportSummary:
    return import_rows(
        raw=raw,
        source="cfpb",
        row_of=cfpb_row,
        required=CFPB_COLUMNS,
        rejects=rejects,
        progress=progress,
        batch=batch,
    )


def csv_import(
    *,
    raw: IO[bytes],
    mapping: Mapping,
    rejects: Rejects,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ImportSummary:
    return import_rows(
        raw=raw,
        source=mapping.source,
        row_of=mapping.row,
        required=tuple(sorted(set(mapping.columns.values()))),
        rejects=rejects,
        encoding=mapping.encoding,
        delimiter=mapping.delimiter,
        progress=progress,
        batch=batch,
    )
