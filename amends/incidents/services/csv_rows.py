"""Affected customers from CSV text: one row at a time, so a 200,000-row file streams."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from amends.core.exceptions import ApplicationError
from amends.incidents.services.impacts import AffectedRow

REF_COLUMNS = ("external_ref", "customer_ref", "ref", "customer")
KNOWN = {"name", "email", "magnitude"}
MAX_FIELD = 10_000  # characters in one CSV cell: a longer one is a broken file, not data


def affected_rows_from_csv(handle: TextIO) -> Iterator[AffectedRow]:
    """Rows of a CSV with a reference column, optional name, email, magnitude; every other
    column is a policy input. `line` is the file's line number (header = 1)."""
    csv.field_size_limit(MAX_FIELD)
    reader = csv.DictReader(handle)
    if reader.fieldnames is None:
        return
    fields = [(f or "").strip().lower() for f in reader.fieldnames]
    ref_column = next((c for c in REF_COLUMNS if c in fields), None)
    if ref_column is None:
        raise ApplicationError(
            f"The file needs a customer reference column ({', '.join(REF_COLUMNS)}); "
            f"it has {', '.join(fields)[:300]}.",
            code="invalid_csv",
            status=422,
        )
    reader.fieldnames = fields
    for record in reader:
        inputs = {
            k: v
            for k, v in record.items()
            if k and k not in KNOWN and k != ref_column and isinstance(v, str) and v != ""
        }
        yield AffectedRow(
            external_ref=(record.get(ref_column) or ""),
            name=record.get("name") or "",
            email=record.get("email") or "",
            magnitude=record.get("magnitude") or None,
            inputs=inputs,
            line=reader.line_num,
        )
