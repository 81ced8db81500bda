from django.apps import AppConfig


class InsightConfig(AppConfig):
    name = "amends.insight"
    label = "insight"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.insight import subscribers

        subscribers.subscribe()
