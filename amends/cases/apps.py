from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _search_triggers(using: str = "default", **kwargs: Any) -> None:
    """Schema upkeep, not a reaction: SQLite drops triggers when a migration rebuilds a table."""
    from django.db import connections

    from amends.cases.search import search_triggers_install

    search_triggers_install(connections[using])


class CasesConfig(AppConfig):
    name = "amends.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_search_triggers, sender=self, dispatch_uid="cases_search_triggers")
