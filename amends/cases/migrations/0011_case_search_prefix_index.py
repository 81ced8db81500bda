"""The SQLite search index keeps its two- and three-letter prefixes as well (FTS5
`prefix='2 3'`): the last word of a search is matched as the start of a word, and without the
prefix index FTS5 merges the lists of every word that starts with it (all of "wal…") on each
search. FTS5 cannot alter a table's options, so the table is created again; the search
triggers are dropped before migrations run and put back after them, refilling the index (see
amends.cases.apps). PostgreSQL's GIN index serves prefixes as it is: nothing to do there."""

from django.db import migrations

COLUMNS = "ref, title, customer, document, tokenize = 'unicode61 remove_diacritics 2'"


def _recreate(schema_editor, options):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE IF EXISTS cases_casesearch")
    schema_editor.execute(f"CREATE VIRTUAL TABLE cases_casesearch USING fts5({COLUMNS}{options})")


def with_prefixes(apps, schema_editor):  # type: ignore[no-untyped-def]
    _recreate(schema_editor, ", prefix = '2 3'")


def without_prefixes(apps, schema_editor):  # type: ignore[no-untyped-def]
    _recreate(schema_editor, "")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_case_open_attention_indexes"),
    ]

    operations = [
        migrations.RunPython(with_prefixes, without_prefixes),
    ]
