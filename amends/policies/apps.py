from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "amends.policies"
    label = "policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.policies import signals

        signals.connect()
