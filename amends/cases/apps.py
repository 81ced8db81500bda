from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate

# The apps whose tables carry the search triggers.
SEARCH_TABLE_APPS = frozenset({"cases", "customers"})


def _search_triggers(using: str = "default", **kwargs: Any) -> None:
    """Schema upkeep, not a reaction: SQLite drops triggers when a migration rebuilds a table."""
    from django.db import connections

    from amends.cases.search import search_triggers_install

    search_triggers_install(connections[using])


def _search_triggers_drop(using: str = "default", plan: Any = None, **kwargs: Any) -> None:
    """Before migrations run on SQLite, drop the search triggers; post_migrate puts them back and
    rebuilds the index. A trigger on one table that names another (the customer trigger names
    cases_case) makes SQLite refuse to rebuild the named table, so an upgrade would stop.

    Only a plan with migrations of cases or customers (the tables the triggers are on) drops
    them: dropping means rebuilding the whole index afterwards, minutes at a million cases,
    which an upgrade of other apps alone must not pay."""
    from django.db import connections

    from amends.cases.search import search_triggers_drop

    if any(migration.app_label in SEARCH_TABLE_APPS for migration, _ in plan or ()):
        search_triggers_drop(connections[using])


class CasesConfig(AppConfig):
    name = "amends.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        pre_migrate.connect(
            _search_triggers_drop, sender=self, dispatch_uid="cases_search_triggers_drop"
        )
        post_migrate.connect(_search_triggers, sender=self, dispatch_uid="cases_search_triggers")
