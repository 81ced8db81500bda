# ruff: noqa: S608  # the SQL here is built from constants only, never from input
"""Full-text search over cases: PostgreSQL `tsvector` + GIN, SQLite FTS5.

One row per case in `cases_casesearch` (keyed by the case id, in a column called `rowid` on
both databases because FTS5 joins on its rowid): the reference, the title, the customer's
name, email and phone (also as bare digits) and the customer's account (the description).
Triggers keep it in step with `cases_case` and `customers_customer`, so every writer (the
services, the bulk loader, admin) is covered without remembering to.

SQLite rebuilds a table to alter it, which drops the table's triggers; so the triggers are
(re)installed after every `migrate` (`search_triggers_install`, on `post_migrate`), and the
index is rebuilt when they had gone missing.

Queries take plain words, all of which must match; the last may be the start of a word
("walsh broad" finds "Poppy Walsh: Broadband outage"); operators and punctuation are ignored, so no input can
break the query syntax. Results rank matches in the reference, title or customer above
matches only in the customer's account, newest first within each (amends.cases.listing).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "cases_casesearch"
MAX_TERMS = 8
MAX_TERM_LENGTH = 40
# A search considers the newest this-many matching cases (all of them, for anything but a
# very common word); the list says "more than …" when it reaches the window.
SEARCH_WINDOW = 1_000
DESCRIPTION_CHARS = 20_000
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def search_terms(text: str) -> list[str]:
    """The words of a query, lower-cased, at most MAX_TERMS of at most MAX_TERM_LENGTH."""
    return [w[:MAX_TERM_LENGTH] for w in _WORD.findall(text.lower())][:MAX_TERMS]


def _prefixed(text: str, terms: list[str]) -> list[bool]:
    """Only the last word may be the start of a word (it may still be being typed); an email
    address is whole words ("com" would otherwise also find "compensation")."""
    last = "@" not in text
    return [last and i == len(terms) - 1 for i in range(len(terms))]


def _fts5_query(text: str, terms: list[str]) -> str:
    flags = _prefixed(text, terms)
    return " ".join(f'"{t}"' + ("*" if p else "") for t, p in zip(terms, flags, strict=True))


def _tsquery(text: str, terms: list[str], weights: str) -> str:
    flags = _prefixed(text, terms)
    return " & ".join(
        f"{t}:{'*' if p else ''}{weights}".rstrip(":") for t, p in zip(terms, flags, strict=True)
    )


class SearchDocumentField(models.Field[Any, Any]):
    """The indexed text of a case: `tsvector` on PostgreSQL, an FTS5 column on SQLite."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"


def search_candidates_sql(vendor: str, text: str) -> tuple[str, list[str]]:
    """SQL for the ids of the newest SEARCH_WINDOW cases matching every word of `text`.

    Scanning the index newest-first and stopping at the window is what keeps a common word
    fast at a million cases; ranking every match (bm25, ts_rank) was not (see
    docs/performance.md)."""
    terms = search_terms(text)
    if vendor == "postgresql":
        return (
            f"SELECT rowid FROM {TABLE} WHERE document @@ to_tsquery('simple', %s) "
            f"ORDER BY rowid DESC LIMIT {SEARCH_WINDOW}",
            [_tsquery(text, terms, "")],
        )
    return (
        f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s "
        f"ORDER BY rowid DESC LIMIT {SEARCH_WINDOW}",
        [_fts5_query(text, terms)],
    )


def search_strong_sql(vendor: str, text: str, candidates: list[int]) -> tuple[str, list[Any]]:
    """SQL for those of `candidates` (the ids `search_candidates_sql` found) that match every
    word of `text` in the reference, title or customer, not just the description.

    The candidates are the newest matches, so every match at or above the smallest of them is
    a candidate: the strong matches are looked for from there up only (SQLite), or among the
    candidates themselves (PostgreSQL, a primary-key probe each), instead of through the whole
    index a second time."""
    terms = search_terms(text)
    if vendor == "postgresql":
        return (
            f"SELECT rowid FROM {TABLE} WHERE rowid = ANY(%s::bigint[]) "
            "AND document @@ to_tsquery('simple', %s)",
            [candidates, _tsquery(text, terms, "AB")],
        )
    return (
        f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid >= %s",
        ["{ref title customer} : (" + _fts5_query(text, terms) + ")", min(candidates)],
    )


# ---- schema: table (migration 0004) and triggers (after every migrate) ---------------------

_PG_NORMALISE = "regexp_replace(coalesce({0}, ''), '[^[:alnum:]]+', ' ', 'g')"
_PG_DOCUMENT = (
    "setweight(to_tsvector('simple', 'AM ' || lpad(c.id::text, 6, '0') || ' ' || c.id), 'A')"
    " || setweight(to_tsvector('simple', " + _PG_NORMALISE.format("c.title") + "), 'A')"
    " || setweight(to_tsvector('simple', "
    + _PG_NORMALISE.format(
        "cu.name || ' ' || cu.email || ' ' || cu.phone || ' ' "
        "|| regexp_replace(cu.phone, '[^0-9]', '', 'g')"
    )
    + "), 'B')"
    " || setweight(to_tsvector('simple', "
    + _PG_NORMALISE.format(f"left(c.description, {DESCRIPTION_CHARS})")
    + "), 'D')"
)

PG_TRIGGERS = [
    f"""
    CREATE OR REPLACE FUNCTION cases_casesearch_refresh(ids bigint[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO {TABLE} (rowid, document)
        SELECT c.id, {_PG_DOCUMENT}
        FROM cases_case c JOIN customers_customer cu ON cu.id = c.customer_id
        WHERE c.id = ANY(ids)
        ON CONFLICT (rowid) DO UPDATE SET document = EXCLUDED.document
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION cases_casesearch_on_insert() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        PERFORM cases_casesearch_refresh(ARRAY(SELECT id FROM new_rows));
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION cases_casesearch_on_update() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        PERFORM cases_casesearch_refresh(ARRAY[NEW.id]);
        RETURN NULL;
    END $$
    """,
    f"""
    CREATE OR REPLACE FUNCTION cases_casesearch_on_delete() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        DELETE FROM {TABLE} WHERE rowid IN (SELECT id FROM old_rows);
        RETURN NULL;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION cases_casesearch_on_customer() RETURNS trigger
    LANGUAGE plpgsql AS $$ BEGIN
        PERFORM cases_casesearch_refresh(
            ARRAY(SELECT id FROM cases_case WHERE customer_id = NEW.id));
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS cases_casesearch_ai ON cases_case",
    """
    CREATE TRIGGER cases_casesearch_ai AFTER INSERT ON cases_case
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION cases_casesearch_on_insert()
    """,
    "DROP TRIGGER IF EXISTS cases_casesearch_au ON cases_case",
    """
    CREATE TRIGGER cases_casesearch_au AFTER UPDATE OF title, description, customer_id
    ON cases_case FOR EACH ROW
    WHEN (OLD.title IS DISTINCT FROM NEW.title
          OR OLD.description IS DISTINCT FROM NEW.description
          OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION cases_casesearch_on_update()
    """,
    "DROP TRIGGER IF EXISTS cases_casesearch_ad ON cases_case",
    """
    CREATE TRIGGER cases_casesearch_ad AFTER DELETE ON cases_case
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION cases_casesearch_on_delete()
    """,
    "DROP TRIGGER IF EXISTS cases_casesearch_customer_au ON customers_customer",
    """
    CREATE TRIGGER cases_casesearch_customer_au AFTER UPDATE OF name, email, phone
    ON customers_customer FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name
          OR OLD.email IS DISTINCT FROM NEW.email
          OR OLD.phone IS DISTINCT FROM NEW.phone)
    EXECUTE FUNCTION cases_casesearch_on_customer()
    """,
]

_SQLITE_DIGITS = "replace(replace(replace(replace(replace(replace({0}, ' ', ''), '+', ''), '-', ''), '(', ''), ')', ''), '.', '')"
_SQLITE_CUSTOMER = (
    "cu.name || ' ' || cu.email || ' ' || cu.phone || ' ' || " + _SQLITE_DIGITS.format("cu.phone")
)


def _sqlite_insert(case: str, where: str) -> str:
    return (
        f"INSERT INTO {TABLE} (rowid, ref, title, customer, document) "
        f"SELECT {case}.id, 'AM-' || printf('%06d', {case}.id) || ' ' || {case}.id, "
        f"{case}.title, {_SQLITE_CUSTOMER}, substr({case}.description, 1, {DESCRIPTION_CHARS}) "
        f"FROM customers_customer cu WHERE {where};"
    )


SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_casesearch_ai AFTER INSERT ON cases_case BEGIN
        {_sqlite_insert("NEW", "cu.id = NEW.customer_id")}
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_casesearch_au
    AFTER UPDATE OF title, description, customer_id ON cases_case
    WHEN OLD.title IS NOT NEW.title OR OLD.description IS NOT NEW.description
         OR OLD.customer_id IS NOT NEW.customer_id
    BEGIN
        DELETE FROM {TABLE} WHERE rowid = OLD.id;
        {_sqlite_insert("NEW", "cu.id = NEW.customer_id")}
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_casesearch_ad AFTER DELETE ON cases_case BEGIN
        DELETE FROM {TABLE} WHERE rowid = OLD.id;
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS cases_casesearch_customer_au
    AFTER UPDATE OF name, email, phone ON customers_customer
    WHEN OLD.name IS NOT NEW.name OR OLD.email IS NOT NEW.email OR OLD.phone IS NOT NEW.phone
    BEGIN
        DELETE FROM {TABLE} WHERE rowid IN (SELECT id FROM cases_case WHERE customer_id = NEW.id);
        INSERT INTO {TABLE} (rowid, ref, title, customer, document)
        SELECT c.id, 'AM-' || printf('%06d', c.id) || ' ' || c.id, c.title, {_SQLITE_CUSTOMER},
               substr(c.description, 1, {DESCRIPTION_CHARS})
        FROM cases_case c JOIN customers_customer cu ON cu.id = c.customer_id
        WHERE c.customer_id = NEW.id;
    END
    """,
]


def search_index_rebuild(connection: BaseDatabaseWrapper) -> None:
    """Re-index every case (a fresh table, or one whose triggers had gone missing)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DELETE FROM {TABLE}")
            cursor.execute("SELECT cases_casesearch_refresh(ARRAY(SELECT id FROM cases_case))")
            return
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE} (rowid, ref, title, customer, document) "
            f"SELECT c.id, 'AM-' || printf('%06d', c.id) || ' ' || c.id, c.title, "
            f"{_SQLITE_CUSTOMER}, substr(c.description, 1, {DESCRIPTION_CHARS}) "
            "FROM cases_case c JOIN customers_customer cu ON cu.id = c.customer_id"
        )


def search_triggers_drop(connection: BaseDatabaseWrapper) -> None:
    """Drop the SQLite search triggers (schema upkeep before migrations; see cases.apps)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for trigger in ("ai", "au", "ad", "customer_au"):
            cursor.execute(f"DROP TRIGGER IF EXISTS cases_casesearch_{trigger}")


def search_triggers_install(connection: BaseDatabaseWrapper) -> bool:
    """Install the triggers if missing; True when they were missing and the index rebuilt.
    Nothing before the cases' tables exist (`migrate customers` on a new database)."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    if not {"cases_case", "cases_casesearch"} <= set(connection.introspection.table_names()):
        return False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cases_casesearch%%'"
                " AND NOT tgisinternal"
            )
            present = int(cursor.fetchone()[0])
            for statement in PG_TRIGGERS:
                cursor.execute(statement)
            missing = present < 4
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                " AND name LIKE 'cases_casesearch%'"
            )
            present = int(cursor.fetchone()[0])
            for statement in SQLITE_TRIGGERS:
                cursor.execute(statement)
            missing = present < 4
    if missing:
        search_index_rebuild(connection)
    return missing
