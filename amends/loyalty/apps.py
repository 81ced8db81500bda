from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "amends.loyalty"
    label = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.loyalty.subscribers import subscribe_all

        subscribe_all()
