from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "amends.commitments"
    label = "commitments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.cases.event_kinds import event_kinds_register
        from amends.commitments.choices import CaseEventKinds
        from amends.commitments.event_text import COMMITMENT_RENDERERS
        from amends.commitments.services import merging, reactions, rules, settlement

        event_kinds_register(CaseEventKinds, renderers=COMMITMENT_RENDERERS)
        reactions.subscribe()
        settlement.subscribe()
        merging.subscribe()
        rules.cache_invalidation_connect()
