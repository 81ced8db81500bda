from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "amends.incidents"
    label = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.incidents.services import reactions

        reactions.subscribe()
