from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "amends.feedback"
    label = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.feedback.services import reactions

        reactions.subscribe()
