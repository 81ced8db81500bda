from django.apps import AppConfig


class RemediesConfig(AppConfig):
    name = "amends.remedies"
    label = "remedies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.cases.event_kinds import event_kinds_register
        from amends.remedies.choices import RemedyEventKind
        from amends.remedies.event_text import REMEDY_RENDERERS
        from amends.remedies.services import merging, settlement

        event_kinds_register(RemedyEventKind, renderers=REMEDY_RENDERERS)

        settlement.subscribe()
        merging.subscribe()
