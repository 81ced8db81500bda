"""Set-based inserts for imports: many rows in one statement, ids returned, without building
the ORM's per-field SQL for every row. Services that own a table call this for their bulk
paths; nothing else writes with it."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from django.db import IntegrityError, connection, models, transaction

from amends.core.rows import insert_rows


def _sqlite_datetime(value: Any) -> Any:
    # What Django's SQLite backend stores: naive UTC text (aware values converted).
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        if connection.vendor == "sqlite":
            return _sqlite_datetime
        return lambda v: v  # psycopg adapts aware datetimes itself
    if isinstance(field, models.DateField):
        return lambda v: connection.ops.adapt_datefield_value(v)
    if isinstance(field, models.DecimalField):
        return lambda v: connection.ops.adapt_decimalfield_value(
            v, field.max_digits, field.decimal_places
        )
    if isinstance(field, models.JSONField):
        return lambda v: field.get_db_prep_save(v, connection)
    return lambda v: v


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: COPY rows into a table (the fastest way in); values as Python objects."""
    if not rows:
        return
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    statement = f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN"
    # psycopg's own cursor: its errors are turned into Django's (IntegrityError, …) here
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row(row)


def insert_rows_fast(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Many new rows, none read back: one COPY on PostgreSQL (psycopg formats COPY rows in C;
    the arrays `insert_rows` sends are escaped value by value in Python), `insert_rows` on
    SQLite. `columns` are column names (attnames)."""
    if connection.vendor == "postgresql":
        copy_rows(model._meta.db_table, columns, rows)
    else:
        insert_rows(model=model, columns=columns, rows=rows)


def insert_rows_new(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Rows that should not exist yet (for records just created, such as an import chunk's
    cases), with `insert_rows`' ON CONFLICT DO NOTHING semantics: on PostgreSQL
    `insert_rows_fast` in a savepoint, and when some row exists after all, the same rows again
    with ON CONFLICT DO NOTHING."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                insert_rows_fast(model=model, columns=columns, rows=rows)
            return
        except IntegrityError:
            pass
    insert_rows(model=model, columns=columns, rows=rows, skip_conflicts=True)


def sequence_ids(table: str, count: int) -> list[int]:
    """PostgreSQL: `count` new ids from the sequence of `table`'s id, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_rows_with_ids(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """PostgreSQL: COPY rows into a table whose `id` comes from its sequence: the ids taken in
    one query first, then one COPY; returns them in the order of `rows`."""
    if not rows:
        return []
    ids = sequence_ids(table, len(rows))
    copy_rows(table, ["id", *columns], [(pk, *row) for pk, row in zip(ids, rows, strict=True)])
    return ids


def _insert_postgres(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Ids taken from the table's sequence in one query, then one COPY with them."""
    table = model._meta.db_table
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    rows = []
    for obj, pk in zip(objs, ids, strict=True):
        values = obj.__dict__
        rows.append(
            [pk]
            + [
                json.dumps(values[f.attname]) if f.attname in json_fields else values[f.attname]
                for f in fields
            ]
        )
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    copy_rows(table, ["id", *[f.column or f.name for f in fields]], rows)


def insert_returning_ids(
    model: type[models.Model], objs: Sequence[models.Model], *, batch_rows: int = 400
) -> None:
    """INSERT every object with multi-row VALUES … RETURNING id and set each object's pk.

    Values are taken as they are on the objects (no auto_now / auto_now_add: set them), so
    historic timestamps survive. The row order of RETURNING follows VALUES on PostgreSQL and
    SQLite, as Django's own bulk_create relies on.
    """
    if not objs:
        return
    if connection.vendor == "postgresql":
        _insert_postgres(model, objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column or f.name) for f in fields)
    convert = [(f.attname, _converter(f)) for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Stay under SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement.
    per_statement = max(1, min(batch_rows, 30_000 // max(1, len(fields))))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params: list[Any] = []
            for obj in chunk:
                values = obj.__dict__
                params.extend(fn(values[name]) for name, fn in convert)
            # Table and column names come from the model, values are parameters.
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                + ", ".join([one] * len(chunk))
                + " RETURNING id"
            )
            cursor.execute(sql, params)
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
