from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "amends.incidents"
    label = "incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.cases.event_kinds import event_kinds_register
        from amends.incidents.choices import IncidentCaseEventKind
        from amends.incidents.event_text import INCIDENT_RENDERERS
        from amends.incidents.services import reactions

        event_kinds_register(IncidentCaseEventKind, renderers=INCIDENT_RENDERERS)

        reactions.subscribe()
