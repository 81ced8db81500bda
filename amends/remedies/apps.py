from django.apps import AppConfig


class RemediesConfig(AppConfig):
    name = "amends.remedies"
    label = "remedies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.remedies.services import settlement

        settlement.subscribe()
