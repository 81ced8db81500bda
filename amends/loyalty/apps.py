from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "amends.loyalty"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.core import hooks
        from amends.loyalty import bulk
        from amends.loyalty.subscribers import subscribe_all

        subscribe_all()
        hooks.cases_opened_bulk.subscribe(bulk.on_cases_opened_bulk)
