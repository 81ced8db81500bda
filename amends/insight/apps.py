from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "amends.insight"
    label = "insight"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.core import hooks
        from amends.insight import bulk, subscribers

        subscribers.subscribe()
        hooks.cases_intake_review_bulk.subscribe(bulk.on_cases_intake_review_bulk)
        hooks.cases_opened_bulk.subscribe(bulk.on_cases_opened_bulk)
