from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "amends.feedback"
    label = "feedback"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.cases.event_kinds import event_kinds_register
        from amends.feedback.choices import FeedbackEventKind
        from amends.feedback.event_text import FEEDBACK_RENDERERS
        from amends.feedback.services import reactions

        event_kinds_register(FeedbackEventKind, renderers=FEEDBACK_RENDERERS)
        reactions.subscribe()
