from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "amends.commitments"
    label = "commitments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.commitments.services import settlement

        settlement.subscribe()
