"""Fast multi-row writes for the sweeps, which write tens of thousands of rows a run.

Django's bulk_create / bulk_update spend most of their time preparing each value (bulk_update
builds a CASE per column) and bulk_create cannot tell which rows an `ON CONFLICT DO NOTHING`
skipped. These helpers send already-prepared rows: on PostgreSQL as one array per column
(`INSERT … SELECT * FROM unnest(…)`, `UPDATE … FROM unnest(…)`: one short statement per batch);
on SQLite as multi-row VALUES. Inserts can return the rows really inserted (RETURNING:
PostgreSQL, SQLite ≥ 3.35). Table and column names come from model metadata, never input.

`instance_insert`, `instances_insert`, `instance_only` and `instances_where` write or read a
few rows of a model by statements made once per model: on the path that opens a case, the
ORM's compiling of a query and its making of whole instances cost more than the statements.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

BATCH = 500
PG_BATCH = 5000


def db_datetime(value: datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def db_datetime_text(value: datetime | None) -> Any:
    """`db_datetime` as text on PostgreSQL too (ISO 8601 with its offset), for a value many
    rows of a COPY or a multi-row INSERT share: formatted once instead of once a row (psycopg's
    text dump of an aware datetime costs about 2 µs; a case row has eleven)."""
    converted = db_datetime(value)
    if connection.vendor == "postgresql" and converted is not None:
        return converted.isoformat()
    return converted


# json.dumps(value, default=str) without building an encoder on every call
_JSON = json.JSONEncoder(default=str)


def db_json(value: object) -> str:
    return _JSON.encode(value)


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field[Any, Any]]:
    by_name: dict[str, models.Field[Any, Any]] = {}
    for field in model._meta.concrete_fields:
        by_name[field.name] = by_name[field.attname] = field
    return [by_name[name] for name in names]


def _column(field: models.Field[Any, Any]) -> str:
    return connection.ops.quote_name(str(field.column))


def _pg_array_types(fields: list[models.Field[Any, Any]]) -> list[str]:
    return [f"{field.db_type(connection)}[]" for field in fields]


_ROWS: dict[tuple[Any, ...], tuple[str, str, str, str]] = {}


def _insert_rows_statement(
    model: type[models.Model],
    columns: Sequence[str],
    skip_conflicts: bool,
    returning: Sequence[str],
) -> tuple[str, str, str, str]:
    """`insert_rows`' statement pieces, made once per model, columns and options: its head,
    its tail, PostgreSQL's typed arrays (several rows) and one row's placeholders."""
    key = (model, tuple(columns), skip_conflicts, tuple(returning), connection.vendor)
    cached = _ROWS.get(key)
    if cached is None:
        fields = _columns(model, columns)
        head = (
            f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} "
            f"({', '.join(map(_column, fields))}) "
        )
        tail = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
        if returning:
            tail += " RETURNING " + ", ".join(map(_column, _columns(model, returning)))
        arrays = ""
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{t}" for t in _pg_array_types(fields))
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        cached = _ROWS[key] = (head, tail, arrays, one)
    return cached


def insert_rows(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    skip_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert `rows` (values prepared with db_datetime / db_json) into `model`'s table. On
    PostgreSQL several rows go as one array per column; a single row as plain VALUES, which
    the server plans and runs in about half the time of unnesting one-element arrays."""
    if not rows:
        return []
    head, tail, arrays, one = _insert_rows_statement(model, columns, skip_conflicts, returning)
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > 1:
            sql = f"{head}SELECT * FROM unnest({arrays}){tail}"  # noqa: S608
            for start in range(0, len(rows), PG_BATCH):
                batch = rows[start : start + PG_BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
                if returning:
                    out.extend(tuple(r) for r in cursor.fetchall())
            return out
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            params = [value for row in batch for value in row]
            values = ", ".join([one] * len(batch))
            cursor.execute(f"{head}VALUES {values}{tail}", params)
            if returning:
                out.extend(tuple(r) for r in cursor.fetchall())
    return out


def update_rows(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Set `columns` on each row by primary key; each row is its values, then the key."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = _columns(model, columns)
    table = quote(model._meta.db_table)
    key = model._meta.pk
    assert key is not None  # noqa: S101  # every concrete model has a primary key
    pk = _column(key)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = _pg_array_types([*fields, key])
            names = [f"c{i}" for i in range(len(fields))]
            sets = ", ".join(f"{_column(f)} = u.{n}" for f, n in zip(fields, names, strict=True))
            arrays = ", ".join(f"%s::{t}" for t in types)
            sql = (
                f"UPDATE {table} SET {sets} FROM unnest({arrays}) "  # noqa: S608
                f"AS u({', '.join([*names, 'pk'])}) WHERE {table}.{pk} = u.pk"
            )
            for start in range(0, len(rows), PG_BATCH):
                batch = rows[start : start + PG_BATCH]
                cursor.execute(sql, [list(column) for column in zip(*batch, strict=True)])
            return
        sets = ", ".join(f"{_column(f)} = %s" for f in fields)
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)  # noqa: S608


def select_in(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    key: str,
    values: Sequence[Any],
    where: str = "",
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """`columns` of the rows whose `key` is one of `values`, as tuples: the list is sent as
    one parameter (an array on PostgreSQL, JSON read by json_each on SQLite) instead of the
    ORM preparing a placeholder per value. `where` (SQL on constant column names, with %s for
    `params`) narrows it further."""
    if not values:
        return []
    quote = connection.ops.quote_name
    names = ", ".join(map(_column, _columns(model, columns)))
    column = _column(_columns(model, [key])[0])
    listed: Any = list(values)
    test = f"{column} = ANY(%s)"
    if connection.vendor != "postgresql":
        listed = json.dumps(listed)
        test = f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608
    extra = f" AND ({where})" if where else ""
    sql = f"SELECT {names} FROM {quote(model._meta.db_table)} WHERE {test}{extra}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [listed, *params])
        return [tuple(row) for row in cursor.fetchall()]


_AUTO_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)
_INSERT: dict[tuple[type[models.Model], bool, str], tuple[list[Any], str, str]] = {}


def _insert_statement(
    model: type[models.Model], generated: bool
) -> tuple[list[models.Field[Any, Any]], str, str]:
    """The fields an INSERT of `model` writes (its auto-increment key left out when the
    database makes it), the statement's head and one row's placeholders, made once."""
    key = (model, generated, connection.vendor)
    cached = _INSERT.get(key)
    if cached is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not (generated and f is meta.pk)]
        head = (
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} "  # noqa: S608 - metadata
            f"({', '.join(map(_column, fields))}) VALUES "
        )
        cached = _INSERT[key] = (fields, head, f"({', '.join(['%s'] * len(fields))})")
    return cached


def instance_insert(instance: models.Model) -> None:
    """INSERT one new instance as `save(force_insert=True)` does (each field's `pre_save`, so
    auto_now stamps are set; an auto-increment key read back onto it), in one fixed statement:
    on the path that opens a case, the ORM's compiling of an INSERT cost more than running it.
    No model signals are sent (Amends reacts through core.hooks)."""
    meta = instance._meta
    generated = isinstance(meta.pk, _AUTO_KEYS) and instance.pk is None
    fields, head, one = _insert_statement(type(instance), generated)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    sql = head + one
    if generated:
        sql += f" RETURNING {_column(meta.pk)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if generated:
            instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias


def instances_insert(instances: Sequence[models.Model]) -> None:
    """INSERT a few new instances of one model with database-made keys in one statement, as
    `bulk_create` does, without the ORM's compiling; their keys are not read back. For the
    handful of rows an intake writes (a case's steps), not for bulk loads (see insert_rows)."""
    if not instances:
        return
    fields, head, one = _insert_statement(type(instances[0]), True)
    values = [
        f.get_db_prep_save(f.pre_save(instance, True), connection)
        for instance in instances
        for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(head + ", ".join([one] * len(instances)), values)


def _converters(fields: Sequence[models.Field[Any, Any]], table: str) -> list[Any]:
    """What the ORM applies to each column read (the backend's converters, then the field's)."""
    out: list[Any] = []
    for field in fields:
        col = field.get_col(table)
        out.append((connection.ops.get_db_converters(col) + col.get_db_converters(connection), col))
    return out


def _converted(row: Sequence[Any], converters: list[Any]) -> list[Any]:
    values = []
    for value, (found, col) in zip(row, converters, strict=True):
        for converter in found:
            value = converter(value, col, connection)
        values.append(value)
    return values


_WHERE: dict[tuple[Any, ...], tuple[str, list[Any], list[str]]] = {}


def instances_where(
    model: type[M],
    where: str,
    params: Sequence[Any],
    order_by: Sequence[str] = (),
    *,
    only: Sequence[str] | None = None,
) -> list[M]:
    """`model.objects.filter(...).order_by(...)` as one fixed statement: `where` is SQL on the
    table's own columns (constant text, values as %s in `params`), `order_by` column names
    (a leading "-" for descending). Related objects are read on first access, as without
    `select_related`; with `only`, the fields not named are deferred too (read on first
    access, as with `only()`). For reads on every intake, where the ORM's compiling costs
    more than the statement."""
    key = (model, where, tuple(order_by), None if only is None else tuple(only), connection.vendor)
    cached = _WHERE.get(key)
    if cached is None:
        meta = model._meta
        fields = list(meta.concrete_fields)
        if only is not None:
            wanted = {f.attname for f in _columns(model, [meta.pk.name, *only])}
            # in the model's order, which is the order `from_db` takes the values in
            fields = [f for f in fields if f.attname in wanted]
        order = ", ".join(
            f"{connection.ops.quote_name(name.lstrip('-'))}{' DESC' if name.startswith('-') else ''}"
            for name in order_by
        )
        sql = (
            f"SELECT {', '.join(map(_column, fields))} "  # noqa: S608 - names from metadata
            f"FROM {connection.ops.quote_name(meta.db_table)} WHERE {where}"
            + (f" ORDER BY {order}" if order else "")
        )
        cached = _WHERE[key] = (
            sql,
            _converters(fields, meta.db_table),
            [f.attname for f in fields],
        )
    sql, converters, attnames = cached
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    return [model.from_db(connection.alias, attnames, _converted(row, converters)) for row in rows]


def instance_only(model: type[M], pk: Any, names: Sequence[str] | None = None) -> M | None:
    """`model.objects.only(*names).get(pk=pk)` (every field without `names`; None if there is
    no such row) by `instances_where`: on the path that opens a case, the ORM's compiling of
    the query and its making of the whole instance cost more than the statement."""
    found = instances_where(model, f"{_column(model._meta.pk)} = %s", [pk], only=names)
    return found[0] if found else None
